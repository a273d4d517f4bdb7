// Package modeltest holds what the tests of the attention and
// sequence-to-sequence models share: a float64 store, the gradient check of a
// loss
//
//	L = sum_k sum(y_k * r_k)
//
// over any outputs y_k with fixed N(0, 1) weights r_k (so that the gradient
// reaches every element of every output with a different weight), PyTorch
// parity fixtures (safetensors files of parameters "param.NAME", inputs
// "input.X", loss weights "r.Y", outputs, the loss and the gradients "grad.NAME"
// and "grad_input.X", written by scripts/fixtures_*.py and compared to a
// relative 1e-6), teacher forcing through a decode.StepModel, which must give
// the teacher-forced program's loss
//
//	-1/N sum_{b,t} log p(y_bt | y_b<t, x_b)   (N target tokens, EOS included),
//
// and the benchmarks' toy pairs and CPU clock.
package modeltest
