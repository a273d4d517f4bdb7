// Package rnn implements recurrent networks as unrolled static graphs: the Elman
// RNN exactly as the textbook equation
//
//	h_t = act(W_hh h_{t-1} + W_hx x_t + b_h)      (act = tanh or ReLU)
//
// (with PyTorch's two biases b_ih + b_hh, which sum to the textbook b_h), the LSTM
// (Hochreiter and Schmidhuber 1997, with forget gate, Gers et al. 2000)
//
//	i, f, g, o = sigmoid(.), sigmoid(.), tanh(.), sigmoid(.) of W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
//	c_t = f c_{t-1} + i g,   h_t = o tanh(c_t)
//
// and the GRU in PyTorch's formulation (Cho et al. 2014, with the reset gate
// applied after the recurrent product)
//
//	r, z = sigmoid(W_ir x + b_ir + W_hr h + b_hr), sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//	n = tanh(W_in x + b_in + r (W_hn h + b_hn)),   h_t = (1 - z) n + z h_{t-1}
//
// Stacks of L layers with dropout between layers and a bidirectional option run
// in one of two forms. Unrolled over T, with one input node per time step and a
// few nodes per step, layer and direction, they are the reference, checked
// against PyTorch and numeric gradients. Fused (Config.Fused, ForwardSeq,
// ForwardEmbedded; the language model's default), each layer and direction is one
// node over the whole time-major sequence: one matrix product projects the inputs
// of all steps, one product per step adds the recurrent term, and the backward
// pass computes the gradients of all steps' pre-activations once, then each
// weight's gradient as one product over all steps (fused.go). Both forms give the
// same results to rounding. The initial state is an input, so truncated
// back-propagation through time carries the last state into the next batch. Parameter names and layouts follow torch.nn.RNN/LSTM/GRU
// (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ..._reverse), so a
// state_dict moves between the two.
package rnn
