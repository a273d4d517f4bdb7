// Command 05-ctc opens up the connectionist temporal classification loss on a
// tiny example: the labels "ab" over four frames. It lists every alignment,
// computes the loss by brute force, by the forward algorithm and with
// losses.CTC, and checks the gradient with respect to the logits.
//
//	go run ./examples/05-ctc [-out DIR] [-short]
package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/examples/notebook"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
)

func main() {
	notebook.Main("examples/05-ctc/out", run)
}

const (
	frames  = 4
	classes = 3 // blank, a, b
	blank   = 0
)

// symbols prints class c; "-" is the blank.
var symbols = []string{"-", "a", "b"}

// target is "ab".
var target = []int{1, 2}

// result is what the test checks.
type result struct {
	alignments         int
	brute, forward, op float64
	gradFD, gradOp     []float64
	gradClosed         []float64
	gradMaxDiff        float64
	files              []string
	alpha              [][]float64
}

func run(out string, short bool) (*result, error) {
	nb, err := notebook.New(out, "CTC by hand", short, os.Stdout)
	if err != nil {
		return nil, err
	}
	res := &result{}
	nb.Text("Connectionist temporal classification (Graves, Fernández, Gomez and Schmidhuber 2006) trains a network that emits one distribution over the labels and a blank \"-\" per frame, when we know the label sequence but not where each label sits in time. A path (one symbol per frame) is mapped to a labelling B(path) by merging repeated symbols and then dropping blanks: B(\"aa-b\") = \"ab\", B(\"a-ab\") = \"aab\". The probability of a labelling is the sum over every path that maps to it, each path's probability the product of its per-frame probabilities, and the loss is\n\n    CTC = -log p(labels | x) = -log sum_{path: B(path) = labels} prod_t y_t(path_t)\n\nHere the labels are \"ab\", T = %d frames, and %d classes: -, a, b.", frames, classes)

	logits := tenths(graph.NewRNG(5, "ctc-logits"), frames*classes)
	y := softmaxRows(logits)
	nb.Printf("logits (frames x classes)\n%s\ny = softmax of each frame\n%s", table(logits), table(y))

	// Brute force: every one of the 3^4 paths.
	var paths []string
	var total float64
	var lines strings.Builder
	forEachPath(func(path []int) {
		if !slices.Equal(collapse(path), target) {
			return
		}
		p := 1.0
		var factors []string
		for t, c := range path {
			p *= y[t*classes+c]
			factors = append(factors, fmt.Sprintf("%.4f", y[t*classes+c]))
		}
		total += p
		name := pathString(path)
		paths = append(paths, name)
		fmt.Fprintf(&lines, "  %s   %s = %.6f\n", name, strings.Join(factors, " x "), p)
	})
	res.alignments = len(paths)
	res.brute = -math.Log(total)
	nb.Text("Of the %d paths of %d frames over 3 symbols, these %d map to \"ab\" (a run of blanks, a run of a's, a run of blanks, a run of b's, a run of blanks, the runs of a and b non-empty):", pow(classes, frames), frames, len(paths))
	nb.Printf("%s  sum = p(ab | x) = %.6f\n  brute force: -log p = %.12f\n", lines.String(), total, res.brute)

	// The forward algorithm.
	nb.Text("Listing the paths costs C^T for C symbols. The forward algorithm (Graves et al. 2006, sec. 4.1) sums them in O(T L) with the labels extended by blanks, l' = - a - b -, and alpha_t(s) the total probability of the path prefixes of t frames that end at l'_s and map to the labels up to there:\n\n    alpha_1(1) = y_1(-),  alpha_1(2) = y_1(l'_2),  alpha_1(s) = 0 for s > 2\n    alpha_t(s) = (alpha_{t-1}(s) + alpha_{t-1}(s-1) [+ alpha_{t-1}(s-2)]) y_t(l'_s)\n\nwhere the bracketed term, a jump over a blank, is allowed only when l'_s is a label different from l'_{s-2}. A path must end on the last label or the final blank: p = alpha_T(|l'|) + alpha_T(|l'| - 1).")
	alpha, p := forwardAlgorithm(y)
	res.alpha = alpha
	res.forward = -math.Log(p)
	ext := extended(target)
	var rowNames []string
	for _, c := range ext {
		rowNames = append(rowNames, symbols[c])
	}
	var lat strings.Builder
	fmt.Fprintf(&lat, "  l'_s ")
	for t := 1; t <= frames; t++ {
		fmt.Fprintf(&lat, " %10s", fmt.Sprintf("t=%d", t))
	}
	lat.WriteString("\n")
	for s := range ext {
		fmt.Fprintf(&lat, "  %-5s", rowNames[s])
		for t := 0; t < frames; t++ {
			fmt.Fprintf(&lat, " %10.6f", alpha[s][t])
		}
		lat.WriteString("\n")
	}
	nb.Printf("alpha lattice (rows: the extended labels, columns: frames)\n%s  p = alpha_4(b) + alpha_4(-) = %.6f\n  forward algorithm: -log p = %.12f\n", lat.String(), p, res.forward)
	var cols []string
	for t := 1; t <= frames; t++ {
		cols = append(cols, fmt.Sprintf("t=%d", t))
	}
	if err := nb.Heatmap("alpha", "CTC forward variables alpha_t(s) for \"ab\"", notebook.Grid{Z: alpha, Rows: rowNames, Cols: cols, XLabel: "frame", YLabel: "extended label l'", CellFormat: "%.4f"}); err != nil {
		return nil, err
	}
	res.files = append(res.files, "alpha.png")

	// losses.CTC, with the logits as a parameter so that the program returns
	// their gradient.
	nb.Text("losses.CTC does the same computation in log space, batched and padded, inside a graph: the logits go through graph.LogSoftMax and then the loss, here with the Sum reduction so that it is -log p itself (the default, Mean, divides each example's loss by its label count, as PyTorch's ctc_loss does).")
	store := graph.NewStore(tensor.Float64, graph.NewRNG(0, "unused"))
	lp, err := store.New("logits", []int{frames, 1, classes}, nil)
	if err != nil {
		return nil, err
	}
	copy(graph.Slice[float64](lp.Value), logits)
	b := graph.NewBuilder(store, graph.Train)
	logProbs := b.Check(graph.LogSoftMax(b.Param(lp), 2, nil))
	targets := b.Input("targets", tensor.Int, 1, len(target))
	loss := b.Check(losses.CTC(logProbs, targets, nil, nil, losses.CTCOptions{Blank: blank, Reduction: losses.Sum}))
	prog, err := b.Compile(loss)
	if err != nil {
		return nil, err
	}
	if err := prog.Set("targets", tensor.New(tensor.WithShape(1, len(target)), tensor.WithBacking(append([]int(nil), target...)))); err != nil {
		return nil, err
	}
	if err := prog.Run(); err != nil {
		return nil, err
	}
	res.op = prog.Loss()
	res.gradOp = graph.Float64s(lp.Grad)
	nb.Printf("brute force        %.12f\nforward algorithm  %.12f\nlosses.CTC         %.12f\nlargest difference %.2g\n",
		res.brute, res.forward, res.op, math.Max(math.Abs(res.brute-res.forward), math.Max(math.Abs(res.brute-res.op), math.Abs(res.forward-res.op))))

	// The gradient with respect to the logits.
	nb.Text("The gradient with respect to the logits. Differentiating through the softmax gives a closed form (Graves et al. 2006, sec. 4.2): dCTC / dlogit_t(c) = y_t(c) - gamma_t(c), where gamma_t(c) is the posterior probability that the path emits c at frame t, the summed probability of the listed paths with c at t divided by p. We compare it, and the program's gradient, with central differences (CTC(x + h) - CTC(x - h)) / 2h of the forward algorithm, h = 1e-5.")
	res.gradClosed = closedFormGradient(y)
	res.gradFD = finiteDifferences(logits, 1e-5)
	var g strings.Builder
	fmt.Fprintf(&g, "  frame class  %14s  %14s  %14s\n", "differences", "y - gamma", "losses.CTC")
	for t := 0; t < frames; t++ {
		for c := 0; c < classes; c++ {
			i := t*classes + c
			fmt.Fprintf(&g, "  %5d %5s  %14.8f  %14.8f  %14.8f\n", t+1, symbols[c], res.gradFD[i], res.gradClosed[i], res.gradOp[i])
			res.gradMaxDiff = math.Max(res.gradMaxDiff, math.Max(math.Abs(res.gradFD[i]-res.gradOp[i]), math.Abs(res.gradClosed[i]-res.gradOp[i])))
		}
	}
	nb.Printf("%s  largest difference: %.2g\n", g.String(), res.gradMaxDiff)
	nb.Text("Each frame's gradient sums to zero, as both y and gamma sum to one. A negative entry means the alignments want more of that symbol at that frame than the network now gives (gamma > y), so a gradient step raises its logit; a positive entry lowers it. At the last frame every alignment ends on b or on the blank, never on a, so gamma_4(a) = 0 and a's gradient is its whole probability y_4(a).")
	return res, nb.Close()
}

// forwardAlgorithm returns the lattice alpha[s][t] over the extended target
// and p(target | y), in probability space (short sequences only: long ones
// underflow, which is why losses.CTC works with logarithms).
func forwardAlgorithm(y []float64) ([][]float64, float64) {
	ext := extended(target)
	alpha := make([][]float64, len(ext))
	for s := range alpha {
		alpha[s] = make([]float64, frames)
	}
	alpha[0][0] = y[ext[0]]
	alpha[1][0] = y[ext[1]]
	for t := 1; t < frames; t++ {
		for s := range ext {
			a := alpha[s][t-1]
			if s >= 1 {
				a += alpha[s-1][t-1]
			}
			if s >= 2 && ext[s] != blank && ext[s] != ext[s-2] {
				a += alpha[s-2][t-1]
			}
			alpha[s][t] = a * y[t*classes+ext[s]]
		}
	}
	n := len(ext)
	return alpha, alpha[n-1][frames-1] + alpha[n-2][frames-1]
}

// closedFormGradient returns y_t(c) - gamma_t(c) with gamma from the list of
// paths.
func closedFormGradient(y []float64) []float64 {
	gamma := make([]float64, frames*classes)
	var total float64
	forEachPath(func(path []int) {
		if !slices.Equal(collapse(path), target) {
			return
		}
		p := 1.0
		for t, c := range path {
			p *= y[t*classes+c]
		}
		total += p
		for t, c := range path {
			gamma[t*classes+c] += p
		}
	})
	g := make([]float64, len(y))
	for i := range g {
		g[i] = y[i] - gamma[i]/total
	}
	return g
}

// finiteDifferences returns the central differences of the forward
// algorithm's loss with respect to every logit.
func finiteDifferences(logits []float64, h float64) []float64 {
	loss := func(x []float64) float64 {
		_, p := forwardAlgorithm(softmaxRows(x))
		return -math.Log(p)
	}
	x := append([]float64(nil), logits...)
	g := make([]float64, len(x))
	for i := range x {
		orig := x[i]
		x[i] = orig + h
		up := loss(x)
		x[i] = orig - h
		down := loss(x)
		x[i] = orig
		g[i] = (up - down) / (2 * h)
	}
	return g
}

// extended returns the target with a blank before, between and after its
// labels.
func extended(labels []int) []int {
	ext := []int{blank}
	for _, l := range labels {
		ext = append(ext, l, blank)
	}
	return ext
}

// collapse merges repeated symbols, then drops blanks.
func collapse(path []int) []int {
	var out []int
	for t, c := range path {
		if c != blank && (t == 0 || path[t-1] != c) {
			out = append(out, c)
		}
	}
	return out
}

// forEachPath calls f with every path of frames symbols, in lexicographic
// order of the symbols - < a < b.
func forEachPath(f func(path []int)) {
	path := make([]int, frames)
	for {
		f(path)
		t := frames - 1
		for t >= 0 {
			path[t]++
			if path[t] < classes {
				break
			}
			path[t] = 0
			t--
		}
		if t < 0 {
			return
		}
	}
}

func pathString(path []int) string {
	var s strings.Builder
	for _, c := range path {
		s.WriteString(symbols[c])
	}
	return s.String()
}

func pow(a, n int) int {
	p := 1
	for i := 0; i < n; i++ {
		p *= a
	}
	return p
}

// softmaxRows returns the softmax of each frame (row) of a frames x classes
// matrix.
func softmaxRows(x []float64) []float64 {
	y := make([]float64, len(x))
	for t := 0; t < frames; t++ {
		row := x[t*classes : (t+1)*classes]
		top := math.Inf(-1)
		for _, v := range row {
			top = math.Max(top, v)
		}
		var z float64
		for _, v := range row {
			z += math.Exp(v - top)
		}
		for c, v := range row {
			y[t*classes+c] = math.Exp(v-top) / z
		}
	}
	return y
}

// tenths returns n values uniform on {-2.0, -1.9, ..., 2.0}.
func tenths(rng interface{ IntN(int) int }, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(rng.IntN(41)-20) / 10
	}
	return v
}

// table prints a frames x classes matrix.
func table(v []float64) string {
	var s strings.Builder
	fmt.Fprintf(&s, "  frame ")
	for _, sym := range symbols {
		fmt.Fprintf(&s, " %8s", sym)
	}
	s.WriteString("\n")
	for t := 0; t < frames; t++ {
		fmt.Fprintf(&s, "  %5d ", t+1)
		for c := 0; c < classes; c++ {
			fmt.Fprintf(&s, " %8.4f", v[t*classes+c])
		}
		s.WriteString("\n")
	}
	return s.String()
}
