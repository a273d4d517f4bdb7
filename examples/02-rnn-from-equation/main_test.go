package main

import "testing"

func TestRunsShort(t *testing.T) {
	if err := run(t.TempDir(), true); err != nil {
		t.Fatal(err)
	}
}
