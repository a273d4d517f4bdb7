package vae

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGridAndPNG(t *testing.T) {
	const n, h, w = 10, 2, 3
	pix := make([]float64, n*h*w)
	for k := range n {
		for i := range h * w {
			pix[k*h*w+i] = float64(k) / 9
		}
	}
	pix[0] = -1 // clipped to 0
	pix[1] = 2  // clipped to 1
	img, err := Grid(pix, h, w, GridOptions{Cols: 4, Pad: 1, PadValue: 0.5})
	require.NoError(t, err)
	// 3 rows of 4 cells: width 4*(3+1)+1, height 3*(2+1)+1
	require.Equal(t, 17, img.Bounds().Dx())
	require.Equal(t, 10, img.Bounds().Dy())
	require.Equal(t, uint8(128), img.GrayAt(0, 0).Y, "padding")
	require.Equal(t, uint8(0), img.GrayAt(1, 1).Y)
	require.Equal(t, uint8(255), img.GrayAt(2, 1).Y)
	require.Equal(t, uint8(255), img.GrayAt(1+1*(w+1), 1+2*(h+1)).Y, "image 9 sits in row 2, column 1")
	require.Equal(t, uint8(128), img.GrayAt(1+2*(w+1), 1+2*(h+1)).Y, "the unused cells keep the padding value")

	path := filepath.Join(t.TempDir(), "grid.png")
	require.NoError(t, WritePNG(path, img))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	back, err := png.Decode(f)
	require.NoError(t, err)
	require.Equal(t, img.Bounds(), back.Bounds())
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			r, _, _, _ := back.At(x, y).RGBA()
			require.Equal(t, uint32(img.GrayAt(x, y).Y)*0x101, r)
		}
	}

	_, err = Grid(pix[:7], h, w, GridOptions{Cols: 4})
	require.Error(t, err)
	_, err = Grid(pix, h, w, GridOptions{})
	require.Error(t, err)
	require.Error(t, WritePNG(filepath.Join(t.TempDir(), "missing", "x.png"), img))
}

func TestManifoldLatents(t *testing.T) {
	// Phi^-1(0.975) = 1.959963984540054 (the two-sided 95% normal quantile)
	require.InDelta(t, 1.959963984540054, NormalQuantile(0.975), 1e-12)
	require.InDelta(t, 0, NormalQuantile(0.5), 1e-15)
	z := ManifoldLatents(20)
	require.Len(t, z, 20*20*2)
	require.InDelta(t, -1.959963984540054, z[0], 1e-12, "top-left: smallest z1")
	require.InDelta(t, 1.959963984540054, z[1], 1e-12, "top row: largest z2")
	last := len(z) - 2
	require.InDelta(t, 1.959963984540054, z[last], 1e-12)
	require.InDelta(t, -1.959963984540054, z[last+1], 1e-12)
}

func TestCaptioned(t *testing.T) {
	img, err := Grid([]float64{0, 1, 1, 0}, 2, 2, GridOptions{Cols: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := Captioned(img, "a caption longer than the image is wide", 40)
	if got := c.Bounds().Dx(); got != 80 {
		t.Fatalf("width %d, want 80 (2 pixels x 40)", got)
	}
	if c.GrayAt(0, 0).Y != 0 || c.GrayAt(79, 0).Y != 255 || c.GrayAt(0, 79).Y != 255 {
		t.Errorf("the enlarged image's corners are %d, %d, %d; want 0, 255, 255", c.GrayAt(0, 0).Y, c.GrayAt(79, 0).Y, c.GrayAt(0, 79).Y)
	}
	ink := 0
	for y := 80; y < c.Bounds().Dy(); y++ {
		for x := 0; x < 80; x++ {
			if c.GrayAt(x, y).Y < 128 {
				ink++
			}
		}
	}
	if ink == 0 {
		t.Error("the caption strip holds no text")
	}
}
