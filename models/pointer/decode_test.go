package pointer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/solvers"
)

func exp(x float64) float64 { return math.Exp(x) }

// copyExample draws a copy-task pair: a source of 3 to 6 words, each outside
// the vocabulary with the example's own probability (so some sources are all
// unknown words), numbered V, V+1, ... as ExtendSource does; the target is the
// source.
func copyExample(rng *rand.Rand, v int) []int {
	n := 3 + rng.IntN(4)
	pOOV := rng.Float64()
	src := make([]int, n)
	oov := 0
	for i := range src {
		if rng.Float64() < pOOV {
			src[i] = v + oov
			oov++
		} else {
			src[i] = 4 + rng.IntN(v-4)
		}
	}
	return src
}

// A pointer-generator trained briefly to copy its source copies a source made
// only of out-of-vocabulary words, which a plain-attention model cannot produce,
// in both decoder orders.
func TestCopiesUnknownWords(t *testing.T) {
	for _, stateFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("state_first=%t", stateFirst), func(t *testing.T) { checkCopiesUnknownWords(t, stateFirst) })
	}
}

func checkCopiesUnknownWords(t *testing.T, stateFirst bool) {
	const v, batch, steps = 12, 32, 300
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	m, err := New(s, Config{Vocab: v, Embed: 16, Hidden: 16, AttnDim: 16, Copy: true, StateFirst: stateFirst, Tokens: testTokens})
	require.NoError(t, err)
	p, err := m.Build(s, graph.Train, batch, 6, 7)
	require.NoError(t, err)
	adam := solvers.DefaultAdamConfig()
	adam.LR = 0.01
	opt, err := solvers.NewAdam(adam)
	require.NoError(t, err)
	rng := graph.NewRNG(2, "copy")
	var first, last float64
	for step := 0; step < steps; step++ {
		srcs := make([][]int, batch)
		for i := range srcs {
			srcs[i] = copyExample(rng, v)
		}
		_, err := p.Feed(srcs, srcs)
		require.NoError(t, err)
		require.NoError(t, p.Run())
		loss, _ := p.Output("loss")
		if step == 0 {
			first = graph.Scalar(loss)
		}
		last = graph.Scalar(loss)
		_, err = solvers.ClipGradNorm(s.Params(), 5, 2)
		require.NoError(t, err)
		require.NoError(t, opt.Step(s.Params()))
	}
	require.Less(t, last, first/5, "the copy task is learnt: loss %.3f -> %.3f", first, last)

	// sources made only of unknown words, never seen as such
	var tests [][]int
	for n := 3; n <= 6; n++ {
		for k := 0; k < 3; k++ {
			src := make([]int, n)
			for i := range src {
				src[i] = v + i
			}
			tests = append(tests, src)
		}
	}
	d := m.NewDecoder(s)
	dopt := decode.Options{BOS: testTokens.BOS, EOS: testTokens.EOS, MaxLen: 10, Beam: 3}
	hyps, err := decode.Greedy(d, tests, dopt)
	require.NoError(t, err)
	exact := 0
	for i, h := range hyps {
		require.NotEmpty(t, h.Tokens, "source %v", tests[i])
		for _, tok := range h.Tokens {
			require.GreaterOrEqual(t, tok, v, "source %v gives %v: every word must be copied", tests[i], h.Tokens)
		}
		if equalInts(h.Tokens, tests[i]) {
			exact++
		}
	}
	require.GreaterOrEqual(t, exact, len(tests)-2, "exact copies")
	beam, err := decode.BeamSearch(d, []int{v, v + 1, v + 2, v + 3}, dopt)
	require.NoError(t, err)
	require.Equal(t, []int{v, v + 1, v + 2, v + 3}, beam[0].Tokens)

	words := Words(beam[0].Tokens, func(int) (string, bool) { return "", false }, []string{"zorblat", "quux", "frobnitz", "wibble"}, v)
	require.Equal(t, "zorblat quux frobnitz wibble", strings.Join(words, " "))
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestExtend(t *testing.T) {
	vocab := map[string]int{"<pad>": 0, "<unk>": 1, "the": 4, "cat": 5, "sat": 6}
	lookup := func(w string) (int, bool) { id, ok := vocab[w]; return id, ok }
	ids, oovs := ExtendSource(strings.Fields("the zorblat cat sat on the zorblat mat"), lookup, 7)
	require.Equal(t, []int{4, 7, 5, 6, 8, 4, 7, 9}, ids)
	require.Equal(t, []string{"zorblat", "on", "mat"}, oovs)
	tgt := ExtendTarget(strings.Fields("zorblat cat dog mat"), lookup, oovs, 7, 1)
	require.Equal(t, []int{7, 5, 1, 9}, tgt)
	token := func(id int) (string, bool) {
		for w, i := range vocab {
			if i == id {
				return w, true
			}
		}
		return "", false
	}
	require.Equal(t, []string{"zorblat", "cat", "<unk>", "mat", "<id 11>", "<id 3>"}, Words(append(tgt, 11, 3), token, oovs, 7))
	// an id the vocabulary lookup returns beyond the model's vocabulary is out of it
	big := map[string]int{"x": 9}
	ids, oovs = ExtendSource([]string{"x"}, func(w string) (int, bool) { id, ok := big[w]; return id, ok }, 7)
	require.Equal(t, []int{7}, ids)
	require.Equal(t, []string{"x"}, oovs)
}
