// Package acoustic implements a recurrent acoustic model trained with CTC
// (Graves et al. 2006, "Connectionist Temporal Classification", ICML): frames of
// stacked features x_1..x_T go through a stack of bidirectional LSTM or GRU
// layers (package rnn), and a linear layer maps each step's output
// [h_t^fwd; h_t^bwd] to log-probabilities over the classes, class 0 being the
// blank:
//
//	lp_t = log_softmax(W [h_t^fwd; h_t^bwd] + b)     (T, B, Classes), time-major
//
// The CTC loss (package losses) sums over the alignments of each row's labels to
// its first in_len frames; training programs average it over the batch (PyTorch's
// "mean": each row's loss divided by its label count), evaluation programs
// return each row's negative log-likelihood and the log-probabilities, which
// Program.Decode turns into labels by greedy decoding or prefix beam search.
//
// Rows of a batch are independent: a row with no frames and no labels changes
// nothing, so a program built for B rows takes any smaller batch. Shorter rows
// are either padded with frames the network reads (a graph without masks, the
// faster one) or masked, the recurrent state then carried unchanged over padded
// steps in both directions.
//
// Parameters, named as PyTorch modules would name them: rnn.* (torch.nn.LSTM or
// torch.nn.GRU names, bidirectional), head.weight, head.bias.
package acoustic
