package attention

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/models/internal/modeltest"
)

func TestBMMAllTransposes(t *testing.T) {
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			ash, bsh := []int{2, 3, 4}, []int{2, 4, 5} // op(A) (3,4), op(B) (4,5)
			if ta {
				ash = []int{2, 4, 3}
			}
			if tb {
				bsh = []int{2, 5, 4}
			}
			c := modeltest.CheckKernel(t, bmmKernel{transA: ta, transB: tb}, [][]int{ash, bsh})
			require.Equal(t, tensor.Shape{2, 3, 5}, c.Shape())
		}
	}
}
