// Command 03-attention-by-hand computes scaled dot-product attention,
// softmax(Q K^T / sqrt(d_k)) V, step by step on three queries and four keys,
// checks it against models/attention, masks keys out (padding, then the
// future), and shows why the scores are divided by sqrt(d_k).
//
//	go run ./examples/03-attention-by-hand [-out DIR] [-short]
package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/examples/notebook"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
)

func main() {
	notebook.Main("examples/03-attention-by-hand/out", run)
}

const (
	nq, nk = 3, 4 // queries and keys
	dk, dv = 4, 3 // width of a query or key, width of a value
)

// result is what the test checks.
type result struct {
	maxDiff  float64     // largest |by hand - models/attention| over every case
	weights  [][]float64 // the unmasked weights (nq x nk)
	padded   [][]float64 // the weights with the last key masked
	causal   [][]float64 // the causal self-attention weights (nk x nk)
	entropy  [][3]float64
	pngFiles []string
}

func run(out string, short bool) (*result, error) {
	nb, err := notebook.New(out, "Attention by hand", short, os.Stdout)
	if err != nil {
		return nil, err
	}
	res := &result{}
	nb.Text("Scaled dot-product attention (Vaswani et al. 2017, eq. 1) lets each query look at every key, score how well they match, and return the matching values:\n\n    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V\n\nwith the softmax over the keys of each query and M an additive mask (0 to keep a key, a large negative number to exclude it). We take %d queries and %d keys of width d_k = %d, values of width %d, and build the equation with Gorgonia's ops and triad's softmax.", nq, nk, dk, dv)

	rng := graph.NewRNG(1, "attention-by-hand")
	q, k, v := tenths(rng, nq*dk), tenths(rng, nk*dk), tenths(rng, nk*dv)
	queries, keys := labels("q", nq), labels("k", nk)
	nb.Printf("Q (queries x d_k)\n%s\nK (keys x d_k)\n%s\nV (keys x d_v)\n%s", matrix(q, nq, dk, queries), matrix(k, nk, dk, keys), matrix(v, nk, dv, keys))

	// Step 1: the equation, unmasked, with every intermediate as an output.
	hand, err := buildByHand(nq)
	if err != nil {
		return nil, err
	}
	ref, err := buildReference(nq)
	if err != nil {
		return nil, err
	}
	none := make([]float64, nq*nk)
	h, err := runProgram(hand, false, q, k, v, none, nq)
	if err != nil {
		return nil, err
	}
	nb.Printf("scores Q K^T\n%s\nscaled scores Q K^T / sqrt(%d)\n%s\nweights = softmax(scaled scores), along each row\n%s\nrow sums of the weights: %s\n\noutput = weights V (queries x d_v)\n%s",
		matrix(h["scores"], nq, nk, queries), dk, matrix(h["scaled"], nq, nk, queries),
		matrix(h["weights"], nq, nk, queries), rowSums(h["weights"], nq, nk), matrix(h["out"], nq, dv, queries))
	res.weights = rows(h["weights"], nq, nk)
	r, err := runProgram(ref, true, q, k, v, none, nq)
	if err != nil {
		return nil, err
	}
	d := difference(h, r)
	res.maxDiff = d
	nb.Printf("largest difference from attention.ScaledDotProduct (weights and output): %.2g\n", d)
	if err := res.heatmap(nb, "weights", "attention weights, no mask", res.weights, keys, queries); err != nil {
		return nil, err
	}

	// Step 2: a padding mask. The batch's sequence of keys is 3 long; key 4 is
	// padding and must get no weight from any query.
	nb.Text("A padding mask. Suppose the sequence of keys is only 3 long and k4 is padding. attention.PaddingMask puts attention.MaskValue (%.0e) in that key's column of M; the softmax then gives the key a weight of exactly zero, not merely a small one, and shares the mass among the real keys.", attention.MaskValue)
	pad := graph.Float64s(attention.PaddingMask(tensor.Float64, []int{nk - 1}, nq, nk))
	h, err = runProgram(hand, false, q, k, v, pad, nq)
	if err != nil {
		return nil, err
	}
	res.padded = rows(h["weights"], nq, nk)
	var kept []string
	for i := 0; i < nq; i++ {
		kept = append(kept, fmt.Sprint(res.padded[i][nk-1]))
	}
	nb.Printf("mask M\n%s\nweights softmax(Q K^T / sqrt(d_k) + M)\n%s\nrow sums: %s\nweight of k4 from each query, exactly: %s\n",
		maskMatrix(pad, nq, nk, queries), matrix(h["weights"], nq, nk, queries), rowSums(h["weights"], nq, nk), strings.Join(kept, " "))
	if r, err = runProgram(ref, true, q, k, v, pad, nq); err != nil {
		return nil, err
	}
	res.maxDiff = math.Max(res.maxDiff, difference(h, r))
	if err := res.heatmap(nb, "weights_padding", "attention weights, k4 masked as padding", res.padded, keys, queries); err != nil {
		return nil, err
	}

	// Step 3: a causal mask, on self-attention over the four key vectors.
	nb.Text("A causal mask. In a decoder, position i may look only at positions j <= i. Let the four key vectors attend to themselves (Q = K) under attention.CausalMask: the weights are lower-triangular, and the first position can only attend to itself.")
	hand4, err := buildByHand(nk)
	if err != nil {
		return nil, err
	}
	ref4, err := buildReference(nk)
	if err != nil {
		return nil, err
	}
	causal := graph.Float64s(attention.CausalMask(tensor.Float64, nk))
	h, err = runProgram(hand4, false, k, k, v, causal, nk)
	if err != nil {
		return nil, err
	}
	res.causal = rows(h["weights"], nk, nk)
	nb.Printf("mask M\n%s\nweights\n%s\nrow sums: %s\n", maskMatrix(causal, nk, nk, keys), matrix(h["weights"], nk, nk, keys), rowSums(h["weights"], nk, nk))
	if r, err = runProgram(ref4, true, k, k, v, causal, nk); err != nil {
		return nil, err
	}
	res.maxDiff = math.Max(res.maxDiff, difference(h, r))
	if err := res.heatmap(nb, "weights_causal", "attention weights, causal mask", res.causal, keys, keys); err != nil {
		return nil, err
	}
	nb.Printf("largest difference from attention.ScaledDotProduct over the three cases: %.2g\n", res.maxDiff)

	// Step 4: why divide by sqrt(d_k).
	queriesPerWidth := 2000
	if short {
		queriesPerWidth = 100
	}
	const keysPerQuery = 10
	nb.Text("Why 1/sqrt(d_k)? If the entries of q and k are independent with mean 0 and variance 1, q . k is a sum of d_k such products: its variance is d_k (Vaswani et al. 2017, footnote 4). Unscaled, the scores spread out as d_k grows and the softmax saturates: nearly all the weight lands on one key and the gradient through the other weights vanishes. Dividing by sqrt(d_k) brings the variance back to 1 whatever the width. For %d random queries against %d random keys per width, the mean entropy of the weights (ln %d = %.3f for uniform weights, 0 for all weight on one key) and the mean largest weight:", queriesPerWidth, keysPerQuery, keysPerQuery, math.Log(keysPerQuery))
	var tbl strings.Builder
	fmt.Fprintf(&tbl, "%6s  %18s  %18s  %18s  %18s\n", "d_k", "entropy unscaled", "entropy scaled", "max weight unscaled", "max weight scaled")
	curves := notebook.Curves{}
	for _, width := range []int{1, 4, 16, 64, 256, 1024} {
		eu, es, mu, ms := saturation(graph.NewRNG(2, fmt.Sprintf("saturation/%d", width)), width, keysPerQuery, queriesPerWidth)
		res.entropy = append(res.entropy, [3]float64{float64(width), eu, es})
		fmt.Fprintf(&tbl, "%6d  %18.3f  %18.3f  %18.3f  %18.3f\n", width, eu, es, mu, ms)
		x := math.Log2(float64(width))
		curves["unscaled: softmax(q . k)"] = append(curves["unscaled: softmax(q . k)"], [2]float64{x, eu})
		curves["scaled: softmax(q . k / sqrt(d_k))"] = append(curves["scaled: softmax(q . k / sqrt(d_k))"], [2]float64{x, es})
	}
	nb.Printf("%s", tbl.String())
	order := []string{"unscaled: softmax(q . k)", "scaled: softmax(q . k / sqrt(d_k))"}
	if err := nb.PlotWith("saturation", "entropy of the attention weights over 10 random keys", "log2 d_k", "mean entropy (nats)", curves, order, notebook.PlotOptions{LegendBottom: true, LegendLeft: true}); err != nil {
		return nil, err
	}
	res.pngFiles = append(res.pngFiles, "saturation.png")
	nb.Text("With scaling the entropy stays put as d_k grows; without it the weights collapse onto one key. A saturated softmax passes almost no gradient to the scores (d weight_i / d score_j = w_i (delta_ij - w_j) is near 0 when one w is near 1), which is why unscaled dot-product attention trains poorly at large widths.")
	return res, nb.Close()
}

// buildByHand compiles softmax(Q K^T / sqrt(d_k) + M) V for n queries from
// Gorgonia's matrix ops and triad's masked softmax, with every step an output.
func buildByHand(n int) (*graph.Program, error) {
	b := graph.NewBuilder(graph.NewStore(tensor.Float64, graph.NewRNG(0, "unused")), graph.Eval)
	q := b.Input("q", tensor.Float64, n, dk)
	k := b.Input("k", tensor.Float64, nk, dk)
	v := b.Input("v", tensor.Float64, nk, dv)
	mask := b.Input("mask", tensor.Float64, n, nk)
	scores := b.Check(G.Mul(q, b.Check(G.Transpose(k))))
	scaled := b.Check(G.Mul(scores, G.NewConstant(1/math.Sqrt(dk))))
	weights := b.Check(graph.SoftMax(scaled, 1, mask))
	out := b.Check(G.Mul(weights, v))
	b.Output("scores", scores)
	b.Output("scaled", scaled)
	b.Output("weights", weights)
	b.Output("out", out)
	return b.Compile(nil)
}

// buildReference compiles models/attention's ScaledDotProduct on a batch of one.
func buildReference(n int) (*graph.Program, error) {
	b := graph.NewBuilder(graph.NewStore(tensor.Float64, graph.NewRNG(0, "unused")), graph.Eval)
	q := b.Input("q", tensor.Float64, 1, n, dk)
	k := b.Input("k", tensor.Float64, 1, nk, dk)
	v := b.Input("v", tensor.Float64, 1, nk, dv)
	mask := b.Input("mask", tensor.Float64, 1, n, nk)
	out, weights := attention.ScaledDotProduct(b, q, k, v, mask, 0)
	b.Output("weights", weights)
	b.Output("out", out)
	return b.Compile(nil)
}

// runProgram feeds q (n x dk), k, v and the mask (n x nk) to p, with a leading
// batch axis of one when batched (models/attention takes (N, T, d) inputs),
// runs it and returns a copy of every output.
func runProgram(p *graph.Program, batched bool, q, k, v, mask []float64, n int) (map[string][]float64, error) {
	var lead []int
	if batched {
		lead = []int{1}
	}
	feeds := []struct {
		name  string
		vals  []float64
		shape []int
	}{{"q", q, []int{n, dk}}, {"k", k, []int{nk, dk}}, {"v", v, []int{nk, dv}}, {"mask", mask, []int{n, nk}}}
	for _, f := range feeds {
		if err := p.Set(f.name, graph.FromFloat64s(tensor.Float64, f.vals, append(append([]int(nil), lead...), f.shape...)...)); err != nil {
			return nil, err
		}
	}
	if err := p.Run(); err != nil {
		return nil, err
	}
	outs := map[string][]float64{}
	for _, name := range []string{"scores", "scaled", "weights", "out"} {
		if t, err := p.Output(name); err == nil {
			outs[name] = graph.Float64s(t)
		}
	}
	return outs, nil
}

// saturation draws n queries and keysPerQuery keys per query of width d with
// standard normal entries and returns the mean entropy and mean largest weight
// of softmax(q . k) (unscaled) and softmax(q . k / sqrt(d)) (scaled).
func saturation(rng *rand.Rand, d, keysPerQuery, n int) (entUnscaled, entScaled, maxUnscaled, maxScaled float64) {
	q := make([]float64, d)
	k := make([]float64, d)
	scores := make([]float64, keysPerQuery)
	for i := 0; i < n; i++ {
		for j := range q {
			q[j] = rng.NormFloat64()
		}
		for c := range scores {
			for j := range k {
				k[j] = rng.NormFloat64()
			}
			var s float64
			for j := range q {
				s += q[j] * k[j]
			}
			scores[c] = s
		}
		e, m := softmaxStats(scores, 1)
		entUnscaled, maxUnscaled = entUnscaled+e, maxUnscaled+m
		e, m = softmaxStats(scores, 1/math.Sqrt(float64(d)))
		entScaled, maxScaled = entScaled+e, maxScaled+m
	}
	f := float64(n)
	return entUnscaled / f, entScaled / f, maxUnscaled / f, maxScaled / f
}

// softmaxStats returns the entropy -sum p log p and the largest p of
// softmax(c * scores), computed stably.
func softmaxStats(scores []float64, c float64) (entropy, largest float64) {
	top := math.Inf(-1)
	for _, s := range scores {
		top = math.Max(top, c*s)
	}
	var z float64
	for _, s := range scores {
		z += math.Exp(c*s - top)
	}
	for _, s := range scores {
		p := math.Exp(c*s-top) / z
		if p > 0 {
			entropy -= p * math.Log(p)
		}
		largest = math.Max(largest, p)
	}
	return entropy, largest
}

// tenths returns n values drawn uniformly from {-1.0, -0.9, ..., 1.0}, short
// enough to read in a printed matrix.
func tenths(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(rng.IntN(21)-10) / 10
	}
	return v
}

func labels(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i+1)
	}
	return out
}

// matrix prints a row-major r x c matrix with row labels.
func matrix(vals []float64, r, c int, rowNames []string) string {
	var s strings.Builder
	for i := 0; i < r; i++ {
		fmt.Fprintf(&s, "  %-3s", rowNames[i])
		for j := 0; j < c; j++ {
			x := vals[i*c+j]
			if math.Abs(x) < 5e-5 {
				x = 0 // no "-0.0000" from rounding error
			}
			fmt.Fprintf(&s, " %8.4f", x)
		}
		s.WriteString("\n")
	}
	return s.String()
}

// maskMatrix prints an additive mask, with its large negative entries as -inf
// for reading.
func maskMatrix(vals []float64, r, c int, rowNames []string) string {
	var s strings.Builder
	for i := 0; i < r; i++ {
		fmt.Fprintf(&s, "  %-3s", rowNames[i])
		for j := 0; j < c; j++ {
			if vals[i*c+j] <= graph.MaskThreshold {
				fmt.Fprintf(&s, " %8s", "-1e9")
			} else {
				fmt.Fprintf(&s, " %8.0f", vals[i*c+j])
			}
		}
		s.WriteString("\n")
	}
	return s.String()
}

func rows(vals []float64, r, c int) [][]float64 {
	out := make([][]float64, r)
	for i := range out {
		out[i] = append([]float64(nil), vals[i*c:(i+1)*c]...)
	}
	return out
}

func rowSums(vals []float64, r, c int) string {
	var parts []string
	for i := 0; i < r; i++ {
		var s float64
		for _, x := range vals[i*c : (i+1)*c] {
			s += x
		}
		parts = append(parts, fmt.Sprintf("%.12f", s))
	}
	return strings.Join(parts, " ")
}

func maxAbsDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// difference is the largest difference between the weights, and between the
// outputs, of two runs of one case.
func difference(a, b map[string][]float64) float64 {
	return math.Max(maxAbsDiff(a["weights"], b["weights"]), maxAbsDiff(a["out"], b["out"]))
}

// heatmap draws attention weights into the output folder, the value of each
// weight printed in its cell, adds the figure to the page and lists its file
// for the test.
func (res *result) heatmap(nb *notebook.Notebook, name, title string, w [][]float64, keys, queries []string) error {
	if err := nb.Heatmap(name, title, notebook.Grid{Z: w, Rows: queries, Cols: keys, XLabel: "key", YLabel: "query", CellFormat: "%.3f"}); err != nil {
		return err
	}
	res.pngFiles = append(res.pngFiles, name+".png")
	return nil
}
