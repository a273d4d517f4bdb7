package vae

import (
	"fmt"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets"
)

// Data is what a run trains and evaluates on: images with intensities in
// [0, 1], image after image, each Rows x Cols pixels, row-major.
type Data struct {
	Train, Test []float32
	Rows, Cols  int
	// TrainLabels and TestLabels are the images' classes where known (MNIST's
	// digits); training does not use them.
	TrainLabels, TestLabels []int
}

// Pixels returns the number of pixels of one image.
func (d Data) Pixels() int { return d.Rows * d.Cols }

// check reports data that are not whole images, or no images at all.
func (d Data) check() error {
	n := d.Pixels()
	if n <= 0 || len(d.Train) < n || len(d.Test) < n || len(d.Train)%n != 0 || len(d.Test)%n != 0 {
		return errors.Errorf("vae: the data are not whole %dx%d images", d.Rows, d.Cols)
	}
	return nil
}

// LoadMNIST reads MNIST's training and test images, scaled to [0, 1], and their
// digits from dir, which holds the four gzipped IDX files; dir "" looks for them
// with datasets.Find.
func LoadMNIST(dir string) (Data, error) {
	if dir == "" {
		var err error
		if dir, err = datasets.Find("mnist"); err != nil {
			return Data{}, err
		}
	}
	var d Data
	for _, split := range []string{"train", "test"} {
		img, lbl, rows, cols, err := datasets.LoadMNIST(dir, split)
		if err != nil {
			return Data{}, err
		}
		d.Rows, d.Cols = rows, cols
		labels := make([]int, len(lbl))
		for i, l := range lbl {
			labels[i] = int(l)
		}
		if split == "train" {
			d.Train, d.TrainLabels = datasets.ScalePixels(img), labels
		} else {
			d.Test, d.TestLabels = datasets.ScalePixels(img), labels
		}
	}
	return d, nil
}

// testSubset returns n test images, evenly spaced through the test set (all of
// them when n is the test set's size), and a description.
func (d Data) testSubset(n int) ([]float32, string) {
	px := d.Pixels()
	total := len(d.Test) / px
	if n >= total {
		return d.Test, fmt.Sprintf("all %d test images", total)
	}
	out := make([]float32, 0, n*px)
	for i := range n {
		j := i * total / n
		out = append(out, d.Test[j*px:(j+1)*px]...)
	}
	return out, fmt.Sprintf("%d test images (image i*%d/%d for i < %d)", n, total, n, n)
}
