package attention

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
)

func TestBMMAllTransposes(t *testing.T) {
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			s := modeltest.NewStore()
			ash, bsh := []int{2, 3, 4}, []int{2, 4, 5} // op(A) (3,4), op(B) (4,5)
			if ta {
				ash = []int{2, 4, 3}
			}
			if tb {
				bsh = []int{2, 5, 4}
			}
			b := graph.NewBuilder(s, graph.Train)
			c := b.Check(graph.Apply(bmmKernel{transA: ta, transB: tb}, b.Param(modeltest.Param(s, "a", ash...)), b.Param(modeltest.Param(s, "b", bsh...))))
			require.Equal(t, tensor.Shape{2, 3, 5}, c.Shape())
			l := modeltest.NewLoss(t, b)
			l.Add(c)
			l.Check(nil, graph.CheckOptions{})
		}
	}
}
