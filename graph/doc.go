// Package graph is triad's layer over Gorgonia: the parameter store that lives
// outside any expression graph, seeded initialisers, the builder that binds
// parameters and named inputs into a graph, compiled programs (graph, TapeMachine,
// named inputs and outputs, gradients), layers, the project's own differentiable
// ops where Gorgonia's are wrong or missing, checkpoints and a numeric gradient
// checker.
//
// The mechanism every model reuses:
//
//	store := graph.NewStore(tensor.Float32, graph.NewRNG(seed, "init"))
//	lin, _ := graph.NewLinear(store, "fc", 784, 10, true)  // parameters only
//	b := graph.NewBuilder(store, graph.Train)            // one static-shape graph
//	x := b.Input("x", tensor.Float32, 64, 784)
//	loss := ...                                            // nodes built from lin.Forward(b, x)
//	prog, _ := b.Compile(graph.Loss(loss))                 // TapeMachine + gradients
//	prog.Set("x", batch); prog.Run(); solver.Step(store.Params())
//
// Parameters are updated in place by solvers, so every program built from the same
// store sees the new weights. The programs of one store also share its Arena: the
// values of kernel nodes, the scratch of fused kernels and random inputs are lent
// for one run at a time, so that a model's many compiled programs (one per bucket
// shape, for training, evaluation and decoding) need about the memory of the
// largest, and programs over one store run one at a time. Inside a run, a kernel
// node's buffer serves later nodes once every node that reads its value has run.
package graph
