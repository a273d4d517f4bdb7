package decode

import (
	"math"

	"github.com/pkg/errors"
)

// StepModel is a sequence-to-sequence model seen by the decoders: it encodes a
// batch of sources once, then advances the decoder by one token at a time through
// a one-step graph that shares the trained weights.
type StepModel interface {
	// Encode runs the encoder once over srcs (token ids, without BOS/EOS) and
	// returns the decoder's initial state, one row per source.
	Encode(srcs [][]int) (State, error)
	// Step feeds the previous token of every row of st (BOS first) and returns the
	// log-probabilities of the next token, the attention weights over the source
	// of every row (Weights[r] has one value per source position), and the state
	// after the step. st is not modified.
	Step(st State, tokens []int) (StepOutput, State, error)
}

// StepOutput is what one decoding step gives for each row. A model may reuse
// its memory at its next Step: decoders copy what they keep.
type StepOutput struct {
	// LogProbs are the log-probabilities of the next token, (rows, target
	// vocabulary).
	LogProbs [][]float64
	// LogProbs32 stand for LogProbs (then nil) when a float32 model leaves its
	// log-probabilities in float32: the decoders read each exactly as float64,
	// without converting a vocabulary-wide row at every step.
	LogProbs32 [][]float32
	// Weights are the attention weights over the source, (rows, source length).
	Weights [][]float64
}

// Float64 returns LogProbs, or LogProbs32 converted when LogProbs is nil.
func (o StepOutput) Float64() [][]float64 {
	if !o.is32() {
		return o.LogProbs
	}
	rows := make([][]float64, len(o.LogProbs32))
	for r, row := range o.LogProbs32 {
		rows[r] = make([]float64, len(row))
		for i, v := range row {
			rows[r][i] = float64(v)
		}
	}
	return rows
}

// LogProb returns the log-probability of token tok in row r.
func (o StepOutput) LogProb(r, tok int) float64 {
	if o.is32() {
		return float64(o.LogProbs32[r][tok])
	}
	return o.LogProbs[r][tok]
}

// is32 reports that the log-probabilities are in LogProbs32.
func (o StepOutput) is32() bool { return o.LogProbs == nil && o.LogProbs32 != nil }

// vocab returns the width of row r.
func (o StepOutput) vocab(r int) int {
	if o.is32() {
		return len(o.LogProbs32[r])
	}
	return len(o.LogProbs[r])
}

// logProb is what a row of log-probabilities may hold.
type logProb interface{ ~float32 | ~float64 }

// State is a decoder's state for a batch of rows (hypotheses).
type State interface {
	// Rows returns the number of rows.
	Rows() int
	// Select returns a new state made of the given rows (repeats allowed), in
	// order: beam search reorders and copies hypotheses with it.
	Select(rows []int) (State, error)
}

// Releaser is a State that can give its memory back to its model for later
// states (a Transformer's key/value caches). The decoders release every state
// they have stepped from and no longer use, once its successor exists; a
// released state, and any state sharing its memory, is not used again.
type Releaser interface {
	Release()
}

// release releases st when it is a Releaser.
func release(st State) {
	if r, ok := st.(Releaser); ok {
		r.Release()
	}
}

// Hypothesis is a decoded output sequence.
type Hypothesis struct {
	Tokens   []int       // the output tokens, without BOS and EOS
	Finished bool        // EOS was produced (false: stopped at the maximum length)
	LogProb  float64     // log p(tokens, EOS | source) (without EOS when not finished)
	Score    float64     // LogProb divided by the length penalty
	Weights  [][]float64 // attention weights of each step: len(Tokens) rows, plus one for EOS when finished
}

// Options are the settings of greedy decoding and beam search.
type Options struct {
	BOS, EOS int
	// MaxLen is the largest number of decoding steps (tokens produced, EOS included).
	MaxLen int
	// Beam is the beam size (BeamSearch; default 1).
	Beam int
	// Alpha is the length-penalty exponent of Wu et al. (2016), eq. 14: a finished
	// hypothesis Y scores log p(Y|X) / lp(Y) with lp(Y) = ((5+|Y|)/6)^Alpha, |Y|
	// counting EOS. 0 ranks by log-probability alone.
	Alpha float64
	// NoRepeatNgram, when positive, forbids every token that would complete an
	// n-gram of this length already in the hypothesis (Paulus et al. 2018 block
	// repeated trigrams, 3, in beam search; 1 writes no token twice). EOS is
	// never blocked.
	NoRepeatNgram int
	// Forbid lists tokens that are never decoded: their log-probabilities are
	// -Inf at every step.
	Forbid []int
}

// LengthPenalty returns ((5+n)/6)^alpha (Wu et al. 2016, eq. 14).
func LengthPenalty(n int, alpha float64) float64 {
	return math.Pow((5+float64(n))/6, alpha)
}

func (o *Options) validate() error {
	if o.MaxLen <= 0 {
		return errors.Errorf("decode: maximum length %d", o.MaxLen)
	}
	if o.Beam == 0 {
		o.Beam = 1
	}
	if o.Beam < 0 || o.Alpha < 0 {
		return errors.Errorf("decode: beam %d, alpha %g", o.Beam, o.Alpha)
	}
	if o.NoRepeatNgram < 0 {
		return errors.Errorf("decode: no-repeat n-grams of length %d", o.NoRepeatNgram)
	}
	return nil
}
