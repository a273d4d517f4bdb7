// Package solvers holds triad's optimisation algorithms, gradient clipping and
// learning-rate schedules.
//
// The solvers (SGD with momentum, dampening and Nesterov momentum, Adam, AdamW,
// RMSProp, AdaGrad) follow the algorithms of PyTorch 1.13's torch.optim exactly,
// including the order of floating-point operations of its single-tensor
// implementations, so that a float64 run matches PyTorch to rounding (the tests
// allow 1e-12 relative; the largest difference seen is a few units in the last
// place of the operands).
// They update each graph.Param's Value in place from its accumulated Grad and
// zero the Grad; their per-parameter state is created on a parameter's first step
// and a step allocates nothing after that. Weight decay (except AdamW's decoupled
// decay) is an L2 term computed from the weights.
//
// A training step reads:
//
//	solver, _ := solvers.NewAdam(solvers.DefaultAdamConfig())
//	sched, _ := solvers.NewWarmupCosine(1e-3, 1e-5, 500, 20000)
//	for step := 0; step < 20000; step++ {
//		// ... run the program, which accumulates the gradients ...
//		norm, _ := solvers.ClipGradNorm(params, 1, 2)
//		if math.IsNaN(norm) || math.IsInf(norm, 0) {
//			// stop, or zero the gradients and skip the step
//		}
//		solver.SetLR(sched.LR(step))
//		if err := solver.Step(params); err != nil { ... }
//	}
//
// Solver.State returns the per-parameter buffers under PyTorch's names
// ("fc.weight.exp_avg", "fc.weight.step") as tensors, ready for a checkpoint;
// Solver.LoadState restores them, after which training continues bitwise as if it
// had never stopped. Plateau (ReduceLROnPlateau) keeps its own small JSON state.
package solvers
