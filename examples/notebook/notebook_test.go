package notebook

import (
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFiguresOnThePage(t *testing.T) {
	dir := t.TempDir()
	nb, err := New(dir, "figures", true, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	g := Grid{Z: [][]float64{{0, 0.5}, {1, 0.25}, {0, 0}}, Rows: []string{"a", "b", "c"}, Cols: []string{"x", "y"}, CellFormat: "%.2f"}
	if err := nb.Heatmap("grid", "a grid", g); err != nil {
		t.Fatal(err)
	}
	bad := g
	bad.Rows = bad.Rows[:2]
	if err := nb.Heatmap("bad", "rows without labels", bad); err == nil {
		t.Error("a heat map with 3 rows and 2 row labels was drawn")
	}
	if err := nb.PNG("img.png", "an image", image.NewGray(image.Rect(0, 0, 3, 2))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nb.Path("own.png"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	nb.Attach("own.png", "written elsewhere")
	if err := nb.PlotWith("curve", "a curve", "x", "y", Curves{"c": {{0, 1}, {1, 2}}}, []string{"c"}, PlotOptions{LegendBottom: true}); err != nil {
		t.Fatal(err)
	}
	if err := nb.Close(); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"![a grid](grid.png)", "![an image](img.png)", "![written elsewhere](own.png)", "![a curve](curve.png)"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(string(page), "bad.png") {
		t.Error("the page shows the heat map that failed")
	}
	for _, f := range []string{"grid.png", "img.png", "curve.png"} {
		r, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(r)
		r.Close()
		if err != nil || cfg.Width == 0 {
			t.Errorf("%s is not a PNG: %v", f, err)
		}
	}
	if nb.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", nb.Dir(), dir)
	}
}

func TestPlainTicks(t *testing.T) {
	var got []string
	for _, tk := range (plainTicks{}).Ticks(0.5, 175.3) {
		got = append(got, tk.Label)
	}
	if strings.Join(got, " ") != "50 100 150" {
		t.Errorf("ticks %q", got)
	}
	got = nil
	for _, tk := range (plainTicks{}).Ticks(-0.02, 0.13) {
		got = append(got, tk.Label)
	}
	if strings.Join(got, " ") != "0.00 0.05 0.10" {
		t.Errorf("ticks %q", got)
	}
}
