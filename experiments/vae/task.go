package vae

import (
	"math/rand/v2"
	"strconv"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/graph"
	vaemodel "github.com/triadml/triad/models/vae"
	"github.com/triadml/triad/train"
)

// task trains on shuffled batches of the training images (the last batch of an
// epoch may be smaller) and evaluates on the whole test set.
type task struct {
	cfg           Config
	model         *Model
	data          Data
	dir           string
	d             int
	nTrain, nTest int
	progs         *graph.Programs[int, *vaemodel.ELBOProgram] // training programs by batch size
	evals         *graph.Programs[int, *vaemodel.ELBOProgram] // evaluation programs by batch size
	prior         []float64                                   // the fixed latent points of the sample grid
	perm          []int
	permEpoch     int
	lastStep      int
	sums          [4]float64 // since the last evaluation: nelbo, recon, kl (summed over images), images
	train.Shard              // the part of each batch in a data-parallel group (shard.go)
}

var _ train.StatefulTask = (*task)(nil)

func newTask(cfg Config, m *Model, data Data, dir string) *task {
	elbo := func(mode graph.Mode) *graph.Programs[int, *vaemodel.ELBOProgram] {
		return graph.NewPrograms(func(n int) (*vaemodel.ELBOProgram, error) { return m.VAE.BuildELBO(m.store, mode, n, nil) })
	}
	d := data.Pixels()
	return &task{cfg: cfg, model: m, data: data, dir: dir, d: d,
		nTrain: len(data.Train) / d, nTest: len(data.Test) / d,
		progs: elbo(graph.Train), evals: elbo(graph.Eval),
		prior: priorLatents(cfg.Seed, sampleImages, m.VAE.Config.Latent), permEpoch: -1, lastStep: -1}
}

func (t *task) StepsPerEpoch() int { return (t.nTrain + t.cfg.Batch - 1) / t.cfg.Batch }

// TrainStep trains on batch step%StepsPerEpoch of the permutation drawn for
// epoch step/StepsPerEpoch from the "shuffle/<epoch>" stream.
func (t *task) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	spe := t.StepsPerEpoch()
	epoch, pos := step/spe, step%spe
	if epoch != t.permEpoch {
		t.perm = batch.Perm(graph.NewRNG(t.cfg.Seed, "shuffle/"+strconv.Itoa(epoch)), t.nTrain)
		t.permEpoch = epoch
	}
	idx := t.perm[pos*t.cfg.Batch : min((pos+1)*t.cfg.Batch, t.nTrain)]
	if t.Size > 1 {
		return t.trainShard(step, idx)
	}
	loss, recon, kl, err := t.run(t.progs, t.data.Train, idx, t.model.VAE.Config.BetaAt(step), noise.Uint64(), 0)
	if err != nil {
		return train.Result{}, err
	}
	n := float64(len(idx))
	t.sums[0] += (recon + kl) * n
	t.sums[1] += recon * n
	t.sums[2] += kl * n
	t.sums[3] += n
	t.lastStep = step
	return train.Result{Loss: loss, Items: len(idx)}, nil
}

// run runs the ELBO program of cache for the images idx of data with the KL
// weight beta and eps from key, starting at counter at (graph.Sampler), and
// returns its batch means.
func (t *task) run(cache *graph.Programs[int, *vaemodel.ELBOProgram], data []float32, idx []int, beta float64, key uint64, at int) (loss, recon, kl float64, err error) {
	p, err := cache.Get(len(idx))
	if err != nil {
		return 0, 0, 0, err
	}
	if err := vaemodel.FillRows(p.X(), data, t.d, idx); err != nil {
		return 0, 0, 0, err
	}
	if err := p.Feed(nil, beta); err != nil {
		return 0, 0, 0, err
	}
	p.SetNoiseAt(key, at)
	if err := p.Run(); err != nil {
		return 0, 0, 0, err
	}
	loss, recon, kl = p.Values()
	return loss, recon, kl, nil
}

// testSums returns the sums of the negative ELBO (beta = 1) and its terms over
// the test images lo to hi, in batches of Batch; the eps of image i are the
// values of key from counter i*Latent, whatever the batches.
func (t *task) testSums(lo, hi int, key uint64) (nelbo, recon, kl float64, err error) {
	idx := make([]int, 0, t.cfg.Batch)
	for start := lo; start < hi; start += t.cfg.Batch {
		idx = idx[:0]
		for i := start; i < min(start+t.cfg.Batch, hi); i++ {
			idx = append(idx, i)
		}
		l, r, k, err := t.run(t.evals, t.data.Test, idx, 1, key, start*t.model.VAE.Config.Latent)
		if err != nil {
			return 0, 0, 0, err
		}
		n := float64(len(idx))
		nelbo, recon, kl = nelbo+l*n, recon+r*n, kl+k*n
	}
	return nelbo, recon, kl, nil
}

// Evaluate returns the negative ELBO (beta = 1) and its terms per test image,
// over the whole test set with eps drawn from a fixed-seed stream, so that
// evaluations differ only by the weights; the training images' means since the
// last evaluation; and writes the figures.
func (t *task) Evaluate() (map[string]float64, error) {
	nelbo, recon, kl, err := t.testSums(0, t.nTest, t.evalKey())
	if err != nil {
		return nil, err
	}
	n := float64(t.nTest)
	m := map[string]float64{"test_nelbo": nelbo / n, "test_recon": recon / n, "test_kl": kl / n}
	if t.sums[3] > 0 {
		m["train_nelbo"] = t.sums[0] / t.sums[3]
		m["train_recon"] = t.sums[1] / t.sums[3]
		m["train_kl"] = t.sums[2] / t.sums[3]
	}
	t.sums = [4]float64{}
	if err := t.figures(); err != nil {
		return nil, err
	}
	return m, nil
}

// TaskState is the training sums since the last evaluation, so that a run
// resumed mid-epoch reports the same training means.
func (t *task) TaskState() map[string]*tensor.Dense {
	return map[string]*tensor.Dense{"train_sums": t.sumsState()}
}

// SetTaskState restores the training sums.
func (t *task) SetTaskState(m map[string]*tensor.Dense) error {
	return t.restoreSums(m)
}

// close frees the ELBO programs.
func (t *task) close() error {
	return firstErr(t.progs.Reset(), t.evals.Reset())
}
