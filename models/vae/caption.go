package vae

import (
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Captioned returns img enlarged scale times (each pixel a scale x scale block,
// so 28-pixel digits stay sharp) above a white strip holding caption in one
// line of a 7x13 bitmap font, cut at the image's width.
func Captioned(img image.Image, caption string, scale int) *image.Gray {
	scale = max(scale, 1)
	face := basicfont.Face7x13
	b := img.Bounds()
	w, h := b.Dx()*scale, b.Dy()*scale
	const margin = 4
	lineH := face.Metrics().Height.Ceil()
	out := image.NewGray(image.Rect(0, 0, w, h+lineH+2*margin))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Set(x, y, img.At(b.Min.X+x/scale, b.Min.Y+y/scale))
		}
	}
	fit := []rune(caption)
	if most := (w - 2*margin) / face.Advance; len(fit) > most {
		fit = fit[:max(most, 0)]
	}
	d := font.Drawer{Dst: out, Src: image.NewUniform(color.Black), Face: face,
		Dot: fixed.P(margin, h+margin+face.Metrics().Ascent.Ceil())}
	d.DrawString(string(fit))
	return out
}
