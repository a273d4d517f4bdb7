package train

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// Comm is a process's place in a group of processes ("ranks") that train one model
// together, synchronous and data-parallel: the loop of every rank runs the same
// steps on its own shard of each global batch, and one all-reduction per step
// averages the gradients, so that every rank takes the same solver step and holds
// the same weights. OpenDist("mpi") returns one over MPI (a build with -tags mpi,
// started by mpirun or srun); NewLocalComms returns a group of goroutines, for
// tests.
//
// How a step goes (Loop.Run with Loop.Comm set):
//
//   - At the start (and after --resume, which every rank reads) rank 0's
//     parameters are broadcast to all, and the task is told its shard with
//     Sharded.SetShard(rank, size).
//   - Each rank runs TrainStep on its shard, then the loop packs every parameter
//     gradient, the step's loss and item count and a stop flag into ONE buffer of
//     the store's dtype (so a float32 store rounds the loss to float32) and sums
//     it over the ranks with a single all-reduction; gradients and loss are
//     divided by the number of ranks. With equal shards of a loss that is a mean
//     over the batch's items, the mean of the ranks' gradients is the gradient of
//     the global batch's mean loss, so the step is the single-process step up to
//     the order of the float additions.
//   - Clipping, the solver step, the learning-rate schedule and the non-finite
//     loss check then run identically on every rank. A Ctrl-C (SIGINT/SIGTERM) on
//     any rank raises the stop flag, and all ranks stop together after the step.
//   - Evaluation is sharded and reduced for a ShardedEvaluator; otherwise rank 0
//     evaluates alone and broadcasts its metrics.
//   - Rank 0 alone writes metrics.jsonl, checkpoints, plots and summary.json; the
//     other ranks log nothing. The task state of a StatefulTask is summed over
//     the ranks when a checkpoint is written (see step 2 below). At the end the
//     loop checks that every rank holds bit-identical weights.
//
// Dropout and other noise: with more than one rank each rank draws from its own
// stream ("noise/<step>/rank<r>"), so a multi-rank run matches the single-process
// run exactly only for tasks without random inputs (in distribution otherwise).
//
// Failures: an error on one rank must end the whole job, or the others wait
// forever in the next collective call. A program therefore calls Abort when Run
// (or anything else) fails on any rank; mpirun also ends the job when a rank dies.
//
// Adopting it in an experiment (cmd/triad/lm.go is the worked example):
//
//  1. Make the Task a Sharded one: SetShard(rank, size) makes TrainStep use only
//     shard rank of size equal parts of each global batch (e.g. examples
//     [rank*B/size, (rank+1)*B/size) of the step's batch; an error when size does
//     not divide B), with programs built for the shard's batch. Build programs
//     lazily, at the first step, so that SetShard comes before.
//  2. A StatefulTask that is Sharded returns from TaskState tensors of the whole
//     state's shape (all B columns) that hold, after each TrainStep, its own
//     shard's part and zeros elsewhere; before its first step (at the start, or
//     after SetTaskState from a checkpoint) it may hold the whole state, the same
//     on every rank. When it writes a checkpoint the loop sums the ranks' states
//     (one all-reduction per checkpoint, none per step), so the checkpoint holds
//     the whole state, as a single process's does, and resumes with any number
//     of ranks.
//  3. Optionally make it a ShardedEvaluator (sums that add over ranks, and the
//     metrics from the sums); otherwise rank 0 calls Evaluate alone, which must
//     then still cover all the validation data.
//  4. In the command: comm, err := startDist(&cfg.Common); defer endDist(comm,
//     &err) (err being the function's named result); runDirDist instead of runDir;
//     write config.json and other run files only where isRoot(comm); set
//     Loop.Comm = comm. See cmd/triad/experiment.go.
type Comm interface {
	// Rank returns this process's rank, from 0 to Size()-1.
	Rank() int
	// Size returns the number of ranks.
	Size() int
	// LocalSize returns the number of ranks on this machine, this one included.
	LocalSize() int
	// AllreduceSumFloat32 replaces buf on every rank by the element-wise sum of
	// every rank's buf, the same on every rank.
	AllreduceSumFloat32(buf []float32) error
	// AllreduceSumFloat64 is AllreduceSumFloat32 for float64.
	AllreduceSumFloat64(buf []float64) error
	// BcastFloat32 copies root's buf into every other rank's buf.
	BcastFloat32(buf []float32, root int) error
	// BcastFloat64 is BcastFloat32 for float64.
	BcastFloat64(buf []float64, root int) error
	// BcastBytes is BcastFloat32 for bytes.
	BcastBytes(buf []byte, root int) error
	// Abort ends the whole group with exit status code. Over MPI it ends every
	// process and does not return; a local group makes every pending and later
	// call of every rank fail instead.
	Abort(code int)
	// Close leaves the group at a normal end (MPI_Finalize).
	Close() error
}

// Sharded is a Task that trains on one shard of each global batch; see Comm.
type Sharded interface {
	Task
	// SetShard makes the task's TrainStep use shard rank of size equal parts of
	// each global batch. It is called once, before the first step.
	SetShard(rank, size int) error
}

// ShardedEvaluator is a Sharded task whose evaluation is sharded too: each rank
// evaluates its part of the validation data, the loop sums the parts over the
// ranks and the task turns the sums into its metrics.
type ShardedEvaluator interface {
	Sharded
	// EvaluateSums evaluates this rank's shard and returns quantities that add up
	// over ranks (sums of losses, counts of items). Every rank returns the same
	// keys.
	EvaluateSums() (map[string]float64, error)
	// MetricsFromSums returns the metrics Evaluate would return for all the data,
	// from the sums of every rank's EvaluateSums.
	MetricsFromSums(sums map[string]float64) (map[string]float64, error)
}

// EvaluateSummed is the Evaluate of a ShardedEvaluator in one process: the
// metrics of its own sums.
func EvaluateSummed(t ShardedEvaluator) (map[string]float64, error) {
	sums, err := t.EvaluateSums()
	if err != nil {
		return nil, err
	}
	return t.MetricsFromSums(sums)
}

// CheckShard reports a shard that the task named name cannot take in SetShard:
// a rank outside [0, size), a batch of batch rows or columns that does not
// split evenly into size ranks (a usage error), or programs already built.
func CheckShard(name string, rank, size, batch int, built bool) error {
	if size <= 0 || rank < 0 || rank >= size {
		return errors.Errorf("%s: shard %d of %d", name, rank, size)
	}
	if batch%size != 0 {
		return Usage(errors.Errorf("%s: batch %d does not split evenly into %d ranks; use a multiple of %d", name, batch, size, size))
	}
	if built {
		return errors.Errorf("%s: SetShard after the programs were built", name)
	}
	return nil
}

// DistMPI is the --dist value of data-parallel training over MPI.
const DistMPI = "mpi"

// OpenDist joins the data-parallel group of the kind --dist names: nil for ""
// (one process) or, for "mpi", the MPI group this process was started in (by
// mpirun or srun; a process started alone is a group of one). A build without
// the build tag mpi returns an error that tells how to build with it.
func OpenDist(kind string) (Comm, error) {
	switch kind {
	case "":
		return nil, nil
	case DistMPI:
		return openMPI()
	}
	return nil, errors.Errorf("train: unknown --dist %q (\"\" for one process, or %q)", kind, DistMPI)
}

// distRun is the loop's side of a group.
type distRun struct {
	comm       Comm
	rank, size int
	stop       bool // the stop flag of the last step's reduction
	stepped    bool // a step ran: the task state is split among the ranks
	params     []*graph.Param
	dtype      tensor.Dtype
	stateful   StatefulTask // nil unless the task carries state
	f32        []float32    // the fused buffer of a float32 store
	f64        []float64    // of a float64 store
}

// startDist checks that every rank runs the same model and schedule and tells the
// task its shard.
func (l *Loop) startDist() (*distRun, error) {
	d := &distRun{comm: l.Comm, rank: l.Comm.Rank(), size: l.Comm.Size(), params: l.Store.Params(), dtype: l.Store.Dtype()}
	if st, ok := l.Task.(StatefulTask); ok {
		d.stateful = st
	}
	if sh, ok := l.Task.(Sharded); ok {
		if err := sh.SetShard(d.rank, d.size); err != nil {
			return nil, errors.Wrap(err, "train")
		}
	} else if d.size > 1 {
		return nil, errors.Errorf("train: the task (%T) cannot be split across ranks: it does not implement train.Sharded", l.Task)
	}
	// the same model, state and schedule on every rank, or the collectives below
	// would mix unrelated buffers (or wait forever)
	h := fnv.New32a()
	for _, p := range d.params {
		h.Write([]byte(fmt.Sprint(p.Name, p.Shape(), ";")))
	}
	n, err := d.stateSize()
	if err != nil {
		return nil, err
	}
	mine := []float64{float64(h.Sum32()), float64(l.Task.StepsPerEpoch()), float64(n), float64(l.Common.Epochs), float64(l.Common.MaxSteps)}
	all := append([]float64(nil), mine...)
	if err := d.comm.AllreduceSumFloat64(all); err != nil {
		return nil, errors.Wrap(err, "train: starting the group")
	}
	for i, v := range mine {
		if all[i] != v*float64(d.size) {
			return nil, errors.Errorf("train: rank %d runs another model or schedule than the others (parameters, steps per epoch, task state, epochs, max steps: %v here)", d.rank, mine)
		}
	}
	return d, nil
}

// stateSize returns the number of task-state elements, which checkpoints sum.
func (d *distRun) stateSize() (int, error) {
	if d.stateful == nil {
		return 0, nil
	}
	n := 0
	for k, t := range d.stateful.TaskState() {
		if t.Dtype() != d.dtype {
			return 0, errors.Errorf("train: task state %q is %v, not the parameters' %v", k, t.Dtype(), d.dtype)
		}
		n += t.Shape().TotalSize()
	}
	return n, nil
}

// noise returns the step's random stream: the single-process one in a group of
// one, else one per rank, so that shards draw independent dropout masks.
func (d *distRun) noise(seed uint64, step int) *rand.Rand {
	name := "noise/" + strconv.Itoa(step)
	if d.size > 1 {
		name += "/rank" + strconv.Itoa(d.rank)
	}
	return graph.NewRNG(seed, name)
}

// reduce is the step's one all-reduction: it averages the gradients and the loss,
// adds up the items and agrees on stopping.
func (d *distRun) reduce(res Result, stop bool) (Result, error) {
	d.stepped = true
	if d.dtype == tensor.Float32 {
		return reduceStep(d, &d.f32, d.comm.AllreduceSumFloat32, res, stop)
	}
	return reduceStep(d, &d.f64, d.comm.AllreduceSumFloat64, res, stop)
}

func reduceStep[T graph.Float](d *distRun, bufp *[]T, allreduce func([]T) error, res Result, stop bool) (Result, error) {
	n := 3
	for _, p := range d.params {
		n += p.Size()
	}
	if len(*bufp) != n {
		*bufp = make([]T, n)
	}
	buf := *bufp
	off := 0
	for _, p := range d.params {
		off += copy(buf[off:], graph.Slice[T](p.Grad))
	}
	buf[off], buf[off+1], buf[off+2] = T(res.Loss), T(res.Items), 0
	if stop {
		buf[off+2] = 1
	}
	if err := allreduce(buf); err != nil {
		return res, errors.Wrap(err, "reducing the gradients")
	}
	size := T(d.size)
	off = 0
	for _, p := range d.params {
		g := graph.Slice[T](p.Grad)
		for i, v := range buf[off : off+len(g)] {
			g[i] = v / size
		}
		off += len(g)
	}
	res.Loss = float64(buf[off] / size)
	res.Items = int(math.Round(float64(buf[off+1])))
	d.stop = buf[off+2] > 0
	return res, nil
}

// gatherState returns the whole task state for a checkpoint: nil (the task's
// own) before any step, when every rank holds it whole, else the sum of the
// ranks' parts, in new tensors. Every rank must call it.
func (d *distRun) gatherState() (map[string]*tensor.Dense, error) {
	if d.stateful == nil || !d.stepped {
		return nil, nil
	}
	var err error
	out := map[string]*tensor.Dense{}
	if d.dtype == tensor.Float32 {
		err = sumState(d, out, d.comm.AllreduceSumFloat32)
	} else {
		err = sumState(d, out, d.comm.AllreduceSumFloat64)
	}
	return out, errors.Wrap(err, "train: gathering the task state")
}

func sumState[T graph.Float](d *distRun, out map[string]*tensor.Dense, allreduce func([]T) error) error {
	state := d.stateful.TaskState()
	keys := sortedKeys(state)
	var buf []T
	for _, k := range keys {
		if state[k].Dtype() != d.dtype {
			return errors.Errorf("task state %q is %v, not %v", k, state[k].Dtype(), d.dtype)
		}
		buf = append(buf, graph.Slice[T](state[k])...)
	}
	if err := allreduce(buf); err != nil {
		return err
	}
	for _, k := range keys {
		t := graph.NewDense(d.dtype, state[k].Shape()...)
		buf = buf[copy(graph.Slice[T](t), buf):]
		out[k] = t
	}
	return nil
}

// bcastParams copies rank 0's parameters to every rank.
func (d *distRun) bcastParams() error {
	var err error
	if d.dtype == tensor.Float32 {
		err = bcastValues(d.params, d.comm.BcastFloat32)
	} else {
		err = bcastValues(d.params, d.comm.BcastFloat64)
	}
	return errors.Wrap(err, "train: broadcasting the parameters")
}

func bcastValues[T graph.Float](params []*graph.Param, bcast func([]T, int) error) error {
	n := 0
	for _, p := range params {
		n += p.Size()
	}
	buf := make([]T, 0, n)
	for _, p := range params {
		buf = append(buf, graph.Slice[T](p.Value)...)
	}
	if err := bcast(buf, 0); err != nil {
		return err
	}
	off := 0
	for _, p := range params {
		off += copy(graph.Slice[T](p.Value), buf[off:])
	}
	return nil
}

// checkSame verifies that every rank holds rank 0's weights bit for bit.
func (d *distRun) checkSame() error {
	h := fnv.New64a()
	var b [8]byte
	for _, p := range d.params {
		for _, v := range graph.Float64s(p.Value) {
			bits := math.Float64bits(v)
			for i := range b {
				b[i] = byte(bits >> (8 * i))
			}
			h.Write(b[:])
		}
	}
	mine := h.Sum(nil)
	root := append([]byte(nil), mine...)
	if err := d.comm.BcastBytes(root, 0); err != nil {
		return errors.Wrap(err, "train: comparing the ranks' weights")
	}
	if string(root) != string(mine) {
		return errors.Errorf("train: rank %d's weights differ from rank 0's", d.rank)
	}
	return nil
}

// evaluate runs the evaluation of a group: sharded and summed for a
// ShardedEvaluator, else on rank 0 and broadcast, so that every rank sees the same
// metrics (the best checkpoint and a plateau schedule depend on them).
func (d *distRun) evaluate(t Task) (map[string]float64, error) {
	if se, ok := t.(ShardedEvaluator); ok {
		sums, err := se.EvaluateSums()
		if err != nil {
			return nil, err
		}
		keys := sortedKeys(sums)
		h := fnv.New32a()
		h.Write([]byte(strings.Join(keys, "\x00")))
		buf := make([]float64, len(keys)+2)
		for i, k := range keys {
			buf[i] = sums[k]
		}
		buf[len(keys)], buf[len(keys)+1] = float64(h.Sum32()), float64(len(keys))
		mine := buf[len(keys):]
		want := []float64{mine[0] * float64(d.size), mine[1] * float64(d.size)}
		if err := d.comm.AllreduceSumFloat64(buf); err != nil {
			return nil, errors.Wrap(err, "reducing the evaluation")
		}
		if buf[len(keys)] != want[0] || buf[len(keys)+1] != want[1] {
			return nil, errors.Errorf("rank %d's evaluation sums %v differ in names from the other ranks'", d.rank, keys)
		}
		total := map[string]float64{}
		for i, k := range keys {
			total[k] = buf[i]
		}
		return se.MetricsFromSums(total)
	}
	var (
		names []byte
		vals  []float64
	)
	if d.rank == 0 {
		m, err := t.Evaluate()
		if err != nil {
			return nil, err
		}
		keys := sortedKeys(m)
		names = []byte(strings.Join(keys, "\x00"))
		for _, k := range keys {
			vals = append(vals, m[k])
		}
	}
	lens := []float64{float64(len(names)), float64(len(vals))}
	if err := d.comm.BcastFloat64(lens, 0); err != nil {
		return nil, errors.Wrap(err, "broadcasting the evaluation")
	}
	if d.rank != 0 {
		names, vals = make([]byte, int(lens[0])), make([]float64, int(lens[1]))
	}
	if err := d.comm.BcastBytes(names, 0); err != nil {
		return nil, errors.Wrap(err, "broadcasting the evaluation")
	}
	if err := d.comm.BcastFloat64(vals, 0); err != nil {
		return nil, errors.Wrap(err, "broadcasting the evaluation")
	}
	m := map[string]float64{}
	if len(vals) > 0 {
		for i, k := range strings.Split(string(names), "\x00") {
			m[k] = vals[i]
		}
	}
	return m, nil
}

// evaluate is the Task's evaluation, or the group's.
func (l *Loop) evaluate(d *distRun) (map[string]float64, error) {
	if d == nil {
		return l.Task.Evaluate()
	}
	return d.evaluate(l.Task)
}
