// Package licensetest checks that the repository's LICENSE is recognised as
// Apache-2.0 by a license scanner, as pkg.go.dev requires before it shows a
// module's documentation.
package licensetest

import (
	"os"
	"testing"

	"github.com/google/licensecheck"
)

func TestLicenseIsApache2(t *testing.T) {
	text, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	cov := licensecheck.Scan(text)
	if cov.Percent < 99 {
		t.Errorf("LICENSE: %.1f%% of the text is recognised, want at least 99%%", cov.Percent)
	}
	if len(cov.Match) != 1 || cov.Match[0].ID != "Apache-2.0" {
		t.Errorf("LICENSE matches %+v, want Apache-2.0 alone", cov.Match)
	}
}
