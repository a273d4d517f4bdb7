// Package readmecheck holds a test that ties the README's experiment table to the
// runs recorded under results/: a figure in the table that no recorded run backs
// fails the build.
package readmecheck

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// tableRow is one row of the README's experiment table.
type tableRow struct {
	line     int
	command  string
	measured string
	runs     []string
}

var (
	runRe     = regexp.MustCompile("`(results/[^`]+)`")
	figureRe  = regexp.MustCompile(`\d+\.\d+%?`)
	numberRe  = regexp.MustCompile(`-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?`)
	flagRe    = regexp.MustCompile(`--([a-z0-9-]+)(?:[ =]([^ -][^ ]*))?`)
	commandRe = regexp.MustCompile("^`([^`]+)`$")
	// versionRe matches the software versions a row may name ("PyTorch 1.13"),
	// which are not measurements.
	versionRe = regexp.MustCompile(`(PyTorch|Go|OpenBLAS) \d+(\.\d+)+`)
	// citedRe matches a parenthesis that cites a publication by its year
	// ("(Kim 2014, CNN-rand: 76.1)"): its figures are the paper's.
	citedRe = regexp.MustCompile(`\([^()]*\b(19|20)\d\d\b[^()]*\)`)
)

// experimentRows returns the table rows whose last column names a results/ run.
func experimentRows(t *testing.T, readme string) []tableRow {
	var rows []tableRow
	for i, line := range strings.Split(readme, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 6 || !strings.HasPrefix(strings.TrimSpace(line), "|") {
			continue
		}
		cells = cells[1 : len(cells)-1]
		last := cells[len(cells)-1]
		var runs []string
		for _, m := range runRe.FindAllStringSubmatch(last, -1) {
			runs = append(runs, m[1])
		}
		if len(runs) == 0 {
			continue
		}
		rows = append(rows, tableRow{line: i + 1, command: strings.TrimSpace(cells[0]), measured: cells[2], runs: runs})
	}
	if len(rows) == 0 {
		t.Fatal("README.md has no experiment table rows naming a results/ run")
	}
	return rows
}

// recordedNumbers returns every number written in the files of the run
// directories.
func recordedNumbers(t *testing.T, root string, runs []string) []float64 {
	var nums []float64
	for _, run := range runs {
		dir := filepath.Join(root, run)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("run %s: %v", run, err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range numberRe.FindAllString(string(data), -1) {
				if v, err := strconv.ParseFloat(s, 64); err == nil {
					nums = append(nums, v)
				}
			}
		}
	}
	return nums
}

// backed reports whether a figure written with some decimals ("1.593", "2.93%")
// is the rounding of a recorded number (a percentage may be recorded as a
// fraction).
func backed(figure string, recorded []float64) bool {
	percent := strings.HasSuffix(figure, "%")
	text := strings.TrimSuffix(figure, "%")
	want, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return false
	}
	decimals := len(text) - strings.IndexByte(text, '.') - 1
	scale := math.Pow(10, float64(decimals))
	matches := func(v float64) bool { return math.Abs(math.Round(v*scale)-math.Round(want*scale)) < 0.5 }
	for _, v := range recorded {
		if matches(v) || (percent && matches(100*v)) {
			return true
		}
	}
	return false
}

// TestReadmeFiguresAreRecorded checks that every decimal figure of the
// experiment table is the rounding of a number in the run it cites, and that the
// flags of the row's command are those the run recorded in config.json.
func TestReadmeFiguresAreRecorded(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range experimentRows(t, string(readme)) {
		recorded := recordedNumbers(t, root, row.runs)
		measured := citedRe.ReplaceAllString(versionRe.ReplaceAllString(row.measured, ""), "")
		for _, fig := range figureRe.FindAllString(measured, -1) {
			if !backed(fig, recorded) {
				t.Errorf("README.md:%d: figure %s is in none of %v", row.line, fig, row.runs)
			}
		}
		checkFlags(t, root, row)
	}
}

// checkFlags compares a row's `bin/triad ...` command with the config.json of
// its first run: a flag whose key the run recorded must carry the same value.
func checkFlags(t *testing.T, root string, row tableRow) {
	m := commandRe.FindStringSubmatch(row.command)
	if m == nil || !strings.HasPrefix(m[1], "bin/triad ") {
		return
	}
	data, err := os.ReadFile(filepath.Join(root, row.runs[0], "config.json"))
	if err != nil {
		t.Errorf("README.md:%d: %v", row.line, err)
		return
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Errorf("README.md:%d: %s/config.json: %v", row.line, row.runs[0], err)
		return
	}
	for _, f := range flagRe.FindAllStringSubmatch(m[1], -1) {
		key, value := strings.ReplaceAll(f[1], "-", "_"), f[2]
		got, ok := cfg[key]
		if !ok || value == "" {
			continue
		}
		if !sameValue(got, value) {
			t.Errorf("README.md:%d: --%s %s, but %s/config.json has %v", row.line, f[1], value, row.runs[0], got)
		}
	}
}

// sameValue compares a JSON value with a flag's text.
func sameValue(got any, flag string) bool {
	switch g := got.(type) {
	case float64:
		v, err := strconv.ParseFloat(flag, 64)
		return err == nil && v == g
	case bool:
		v, err := strconv.ParseBool(flag)
		return err == nil && v == g
	case string:
		return g == flag
	}
	return false
}

// TestBacked pins the rounding rule the check uses.
func TestBacked(t *testing.T) {
	rec := []float64{1.5926636511629277, 0.0293, 105.3312}
	for fig, want := range map[string]bool{"1.593": true, "1.59": true, "1.594": false, "2.93%": true, "105.33": true, "105.34": false} {
		if got := backed(fig, rec); got != want {
			t.Errorf("backed(%s) = %v, want %v", fig, got, want)
		}
	}
}
