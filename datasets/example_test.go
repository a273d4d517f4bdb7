package datasets_test

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/triadml/triad/datasets"
)

// Reading a classification file (label, TAB, text) from memory; a malformed
// line is an error that names it.
func ExampleReadLabeledTSV() {
	rows, err := datasets.ReadLabeledTSV(strings.NewReader("PlayMusic\tplay some jazz\nGetWeather\twill it rain in Oslo?\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rows {
		fmt.Printf("%s: %q\n", r.Label, r.Text)
	}
	_, err = datasets.ReadLabeledTSV(strings.NewReader("PlayMusic\tplay some jazz\nno tab here\n"))
	fmt.Println(err)
	// Output:
	// PlayMusic: "play some jazz"
	// GetWeather: "will it rain in Oslo?"
	// line 2: no TAB between label and text
}

// An IDX file, MNIST's format, built in memory: a magic number (two zero
// bytes, the element type, the number of dimensions), the dimensions as
// big-endian 32-bit integers, then the elements.
func ExampleReadIDX() {
	file := []byte{0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 64, 128, 192, 255, 7}
	x, err := datasets.ReadIDX(bytes.NewReader(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(x.Type, x.Dims, x.Len(), x.Float64s())
	_, err = datasets.ReadIDX(bytes.NewReader(file[:15])) // three elements cut off
	fmt.Println(err)
	// Output:
	// uint8 [2 3] 6 [0 64 128 192 255 7]
	// truncated data: dimensions [2 3] of uint8 need 6 bytes, 3 present
}
