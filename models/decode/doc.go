// Package decode turns any sequence-to-sequence model that runs one token at a
// time into output sequences.
//
// A model is seen through StepModel: Encode runs its encoder once over a batch
// of sources and returns a State with one row per source; Step feeds the previous
// token of every row (BOS first) and returns the log-probabilities of the next
// token and the attention weights over the source. State.Select reorders and
// copies rows, which is all beam search needs to follow its hypotheses.
//
// Greedy takes the most probable token of every row at every step. BeamSearch
// keeps the Beam best extensions by log-probability (Wu et al. 2016, sec. 7) and
// ranks finished hypotheses Y by
//
//	score(Y) = log p(Y | X) / lp(Y),   lp(Y) = ((5 + |Y|) / 6)^alpha
//
// (Wu et al. 2016, eq. 14; |Y| counts EOS), stopping once no live hypothesis
// can beat the best finished one. Both apply the constraints of Options before
// they choose: Forbid gives the listed tokens log-probability -Inf (such as the
// unknown word, which a pointer-generator can replace by a copy), and
// NoRepeatNgram blocks every token that would complete an n-gram already in the
// hypothesis (trigram blocking, Paulus, Xiong and Socher 2018; n = 1 writes no
// token twice). EOS is never blocked.
//
// BeamSearchBatch searches many sources at once, each as BeamSearch would
// alone: the encoder runs once over all of them and each step feeds the live
// hypotheses of every source still searching through one Step call, the rows
// of the sources that have finished dropped from the state.
//
// Tokens names the special ids (padding, unknown word, BOS, EOS) that the
// models of this module share.
package decode
