// Command 04-vae trains a variational autoencoder (models/vae) briefly on
// MNIST, prints the terms of its objective, and walks its latent space: a grid
// of decoded points over the first two latent dimensions and an interpolation
// between two encoded test digits. Without MNIST (and in -short mode) it uses
// a small synthetic set of strokes instead.
//
//	go run ./examples/04-vae [-out DIR] [-short] [-latent N]
package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/examples/notebook"
	vaeexp "github.com/triadml/triad/experiments/vae"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/vae"
	"github.com/triadml/triad/solvers"
)

func main() {
	latent := flag.Int("latent", 2, "latent size (the grid walks the first two dimensions, the others held at 0)")
	out, short := notebook.Flags("examples/04-vae/out")
	if _, err := run(config{out: out, short: short, latent: *latent}); err != nil {
		log.Fatal(err)
	}
}

// config is one run's settings.
type config struct {
	out    string
	short  bool
	latent int
	// synthetic skips the search for MNIST.
	synthetic bool
}

// images is a data set of pictures with intensities in [0, 1] and their class
// labels, and where it comes from.
type images struct {
	vaeexp.Data
	source string
}

// elbo is the negative ELBO of a set of images and its two terms, per image.
type elbo struct{ nelbo, recon, kl float64 }

// result is what the test checks.
type result struct {
	source                  string
	firstLoss, lastLoss     float64 // mean training loss of the first and last logging windows
	before, after           elbo    // on the test images, before and after training
	rows, cols, latent      int
	gridSide, interpolation int
	files                   []string
}

// settings of a full run on MNIST, a full run on synthetic data and a short run.
type settings struct {
	hidden             []int
	batch, steps, logs int
	gridSide           int
}

func run(cfg config) (*result, error) {
	if cfg.latent < 2 {
		return nil, errors.Errorf("latent size %d: the walk needs at least 2 dimensions", cfg.latent)
	}
	nb, err := notebook.New(cfg.out, "A variational autoencoder and its latent space", cfg.short, os.Stdout)
	if err != nil {
		return nil, err
	}
	nb.Text("A variational autoencoder (Kingma and Welling 2014) learns to compress an image x into a small code z and back. The encoder outputs a Gaussian q(z|x) = N(mu(x), diag(exp(logvar(x)))), a code is drawn from it by the reparameterisation z = mu + exp(logvar/2) eps with eps ~ N(0, I), and the decoder gives the probability of every pixel, p(x|z). Training minimises the negative evidence lower bound\n\n    -ELBO(x) = -log p(x|z) + beta KL(q(z|x) || N(0, I))\n\na reconstruction term (binary cross-entropy summed over the pixels) plus a KL term that keeps the codes close to the prior, so that decoding any point near the origin gives a plausible image. beta = 1 is the plain ELBO; here beta rises linearly from 0 to 1 over the first quarter of training (KL warm-up, Bowman et al. 2016).")

	data, err := loadData(cfg, nb)
	if err != nil {
		return nil, err
	}
	set := settings{hidden: []int{400}, batch: 128, steps: 800, logs: 8, gridSide: 15}
	switch {
	case cfg.short:
		set = settings{hidden: []int{32}, batch: 32, steps: 40, logs: 4, gridSide: 5}
	case data.source != "MNIST":
		set = settings{hidden: []int{128}, batch: 64, steps: 3000, logs: 10, gridSide: 11}
	}
	d := data.Pixels()
	mc := vae.Config{Input: d, Hidden: set.hidden, Latent: cfg.latent, Activation: "relu", Likelihood: vae.Bernoulli, Beta: 1, WarmupSteps: set.steps / 4}
	store := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	model, err := vae.New(store, mc)
	if err != nil {
		return nil, err
	}
	nTrain, nTest := len(data.Train)/d, len(data.Test)/d
	nb.Printf("data: %s, %d training and %d test images of %dx%d pixels\nmodel: %d-%v-%d, ReLU, Bernoulli decoder, %d parameters\ntraining: Adam (lr 1e-3), batch %d, %d steps (%.2f epochs), KL warm-up over %d steps\n",
		data.source, nTrain, nTest, data.Rows, data.Cols, d, set.hidden, cfg.latent, store.Count(), set.batch, set.steps, float64(set.steps*set.batch)/float64(nTrain), mc.WarmupSteps)

	res := &result{source: data.source, rows: data.Rows, cols: data.Cols, latent: cfg.latent, gridSide: set.gridSide}
	eval, err := newEvaluator(model, store, data)
	if err != nil {
		return nil, err
	}
	if res.before, err = eval.run(); err != nil {
		return nil, err
	}

	// Train.
	prog, err := model.BuildELBO(store, graph.Train, set.batch, nil)
	if err != nil {
		return nil, err
	}
	opt, err := solvers.NewAdam(solvers.DefaultAdamConfig())
	if err != nil {
		return nil, err
	}
	every := max(1, set.steps/set.logs)
	var logRows [][4]float64 // step, loss, recon, kl per window
	var win [3]float64
	var curves = notebook.Curves{}
	perm, permEpoch := []int(nil), -1
	steps := nTrain / set.batch
	for step := 0; step < set.steps; step++ {
		epoch := step / steps
		if epoch != permEpoch {
			perm, permEpoch = batch.Perm(graph.NewRNG(1, "shuffle/"+strconv.Itoa(epoch)), nTrain), epoch
		}
		pos := step % steps
		if err := vae.FillRows(prog.X(), data.Train, d, perm[pos*set.batch:(pos+1)*set.batch]); err != nil {
			return nil, err
		}
		beta := mc.BetaAt(step)
		if err := prog.Feed(nil, beta); err != nil {
			return nil, err
		}
		prog.SetNoise(graph.NewRNG(1, "noise/"+strconv.Itoa(step)))
		if err := prog.Run(); err != nil {
			return nil, err
		}
		if err := opt.Step(store.Params()); err != nil {
			return nil, err
		}
		loss, recon, kl := prog.Values()
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return nil, errors.Errorf("step %d: the loss is %v", step, loss)
		}
		win[0], win[1], win[2] = win[0]+loss, win[1]+recon, win[2]+kl
		if (step+1)%every == 0 || step+1 == set.steps {
			n := float64((step % every) + 1)
			logRows = append(logRows, [4]float64{float64(step + 1), win[0] / n, win[1] / n, win[2] / n})
			win = [3]float64{}
		}
		curves["reconstruction"] = append(curves["reconstruction"], [2]float64{float64(step + 1), recon})
		curves["KL"] = append(curves["KL"], [2]float64{float64(step + 1), kl})
		curves["loss = recon + beta KL"] = append(curves["loss = recon + beta KL"], [2]float64{float64(step + 1), loss})
	}
	res.firstLoss, res.lastLoss = logRows[0][1], logRows[len(logRows)-1][1]
	tbl := fmt.Sprintf("%6s %8s %12s %12s %12s\n", "step", "beta", "loss", "recon", "KL")
	for _, l := range logRows {
		tbl += fmt.Sprintf("%6d %8.3f %12.2f %12.2f %12.2f\n", int(l[0]), mc.BetaAt(int(l[0])-1), l[1], l[2], l[3])
	}
	nb.Text("Training, in nats per image, averaged over the steps since the previous line (beta is the value at the line's step):")
	nb.Printf("%s", tbl)
	if err := nb.Plot("training", "training objective per image", "step", "nats", curves, []string{"loss = recon + beta KL", "reconstruction", "KL"}); err != nil {
		return nil, err
	}
	res.files = append(res.files, "training.png")
	nb.Text("While beta is small the KL term costs little and the encoder spreads the codes out; once beta reaches 1 the KL is weighed fully and the two terms are traded against each other.")
	if res.after, err = eval.run(); err != nil {
		return nil, err
	}
	nb.Printf("negative ELBO on the %d test images (beta = 1, one sample of eps per image), nats per image:\n  before training %8.2f = recon %8.2f + KL %6.2f\n  after training  %8.2f = recon %8.2f + KL %6.2f\n",
		nTest, res.before.nelbo, res.before.recon, res.before.kl, res.after.nelbo, res.after.recon, res.after.kl)

	// Walk the latent space: a grid over the first two dimensions.
	walk := vaeexp.NewModel(store, model)
	defer walk.Close()
	side := set.gridSide
	nb.Text("Walking the latent space. We decode a %dx%d grid of codes over the first two latent dimensions (any others held at 0, the prior's mean). The grid's coordinates are quantiles of the standard normal, (i + 1/2)/%d mapped through its inverse CDF, so each cell covers the same prior mass (Kingma and Welling 2014, fig. 4); z_1 grows to the right, z_2 upwards. Each picture is the decoder's mean, the pixel probabilities.", side, side, side)
	pts := vae.ManifoldLatents(side)
	z := make([][]float32, side*side)
	for i := range z {
		z[i] = make([]float32, cfg.latent)
		z[i][0], z[i][1] = float32(pts[2*i]), float32(pts[2*i+1])
	}
	pix, err := walk.Decode(z)
	if err != nil {
		return nil, err
	}
	if err := savePNG(nb, "latent_grid.png", fmt.Sprintf("decoded %dx%d grid over (z_1, z_2)", side, side), pix, data, side); err != nil {
		return nil, err
	}
	res.files = append(res.files, "latent_grid.png")
	nb.Printf("z_1 and z_2 run over %.2f .. %.2f\n", pts[0], pts[2*(side-1)])

	// An interpolation between two encoded test images of different classes.
	a, bIdx := 0, 1
	for bIdx < nTest-1 && data.TestLabels[bIdx] == data.TestLabels[a] {
		bIdx++
	}
	const between = 10
	res.interpolation = between
	pair := [][]float32{data.Test[a*d : (a+1)*d], data.Test[bIdx*d : (bIdx+1)*d]}
	mu, err := walk.Encode(pair)
	if err != nil {
		return nil, err
	}
	za, zb := mu[0], mu[1]
	nb.Text("An interpolation. We encode test image %d (a %s) and test image %d (a %s), take the means of their codes, and decode %d evenly spaced points on the straight line between them: z(s) = (1 - s) mu_1 + s mu_2 for s = 0, 1/%d, ..., 1. The row below shows the first image, the %d decoded points, and the second image.", a, data.label(data.TestLabels[a]), bIdx, data.label(data.TestLabels[bIdx]), between, between-1, between)
	nb.Printf("mu_1 = %s\nmu_2 = %s\n", vec(za), vec(zb))
	zs := make([][]float32, between)
	for i := range zs {
		t := float64(i) / float64(between-1)
		zs[i] = make([]float32, cfg.latent)
		for j := range za {
			zs[i][j] = float32((1-t)*float64(za[j]) + t*float64(zb[j]))
		}
	}
	dec, err := walk.Decode(zs)
	if err != nil {
		return nil, err
	}
	row := append([][]float32{pair[0]}, dec...)
	row = append(row, pair[1])
	if err := savePNG(nb, "interpolation.png", "from one encoded test image to another", row, data, between+2); err != nil {
		return nil, err
	}
	res.files = append(res.files, "interpolation.png")
	nb.Text("Because the KL term pulls every code towards one shared Gaussian, the space between two codes is populated: the decoded points change gradually from one image to the other, through the shapes whose codes lie between them, rather than through noise.")
	return res, nb.Close()
}

// label names class c of the data.
func (d images) label(c int) string {
	if d.source == "MNIST" {
		return fmt.Sprintf("%d", c)
	}
	return strokeNames[c]
}

// evaluator computes the negative ELBO of the test images with beta = 1 and a
// fixed noise stream, so that two evaluations differ only by the weights.
type evaluator struct {
	prog  *vae.ELBOProgram
	data  images
	batch int
}

func newEvaluator(m *vae.VAE, s *graph.Store, data images) (*evaluator, error) {
	n := len(data.Test) / data.Pixels()
	batch := min(500, n)
	for n%batch != 0 {
		batch--
	}
	p, err := m.BuildELBO(s, graph.Eval, batch, nil)
	if err != nil {
		return nil, err
	}
	return &evaluator{prog: p, data: data, batch: batch}, nil
}

func (e *evaluator) run() (elbo, error) {
	d := e.data.Pixels()
	n := len(e.data.Test) / d
	e.prog.SetNoise(graph.NewRNG(1, "eval"))
	var sum elbo
	idx := make([]int, e.batch)
	for start := 0; start < n; start += e.batch {
		for i := range idx {
			idx[i] = start + i
		}
		if err := vae.FillRows(e.prog.X(), e.data.Test, d, idx); err != nil {
			return elbo{}, err
		}
		if err := e.prog.Feed(nil, 1); err != nil {
			return elbo{}, err
		}
		if err := e.prog.Run(); err != nil {
			return elbo{}, err
		}
		l, r, k := e.prog.Values()
		sum.nelbo += l
		sum.recon += r
		sum.kl += k
	}
	batches := float64(n / e.batch)
	return elbo{sum.nelbo / batches, sum.recon / batches, sum.kl / batches}, nil
}

// loadData returns MNIST, or the synthetic strokes in short mode or when MNIST
// cannot be found.
func loadData(cfg config, nb *notebook.Notebook) (images, error) {
	if cfg.short || cfg.synthetic {
		nb.Text("A short run: the data are synthetic 16x16 pictures of four kinds of stroke, not MNIST.")
		return strokes(512, 128, 16, graph.NewRNG(1, "strokes")), nil
	}
	dir, err := findMNIST()
	if err != nil {
		nb.Text("MNIST was not found (%v). The run goes on with synthetic 16x16 pictures of four kinds of stroke instead; put MNIST where the message says, or list its folder's parent in $TRIAD_DATA, to train on digits.", err)
		return strokes(8192, 1024, 16, graph.NewRNG(1, "strokes")), nil
	}
	mnist, err := vaeexp.LoadMNIST(dir)
	return images{Data: mnist, source: "MNIST"}, err
}

// findMNIST looks for MNIST as datasets.Find does ($TRIAD_DATA, the user
// cache, a download where allowed), and also in ../shared/data, where a
// checkout beside the shared data folder keeps it.
func findMNIST() (string, error) {
	f := datasets.NewFinder()
	if st, err := os.Stat(filepath.Join("..", "shared", "data")); err == nil && st.IsDir() {
		f.Dirs = append(f.Dirs, filepath.Join("..", "shared", "data"))
	}
	return f.Find(context.Background(), "mnist")
}

// strokeNames are the classes of the synthetic data.
var strokeNames = []string{"horizontal bar", "vertical bar", "diagonal", "ring"}

// strokes draws nTrain + nTest side x side pictures, each one stroke (a
// horizontal bar, a vertical bar, a diagonal or a ring) at a random place,
// blurred at the edges, with a little noise: a stand-in for MNIST that a VAE
// learns in seconds.
func strokes(nTrain, nTest, side int, rng *rand.Rand) images {
	d := images{Data: vaeexp.Data{Rows: side, Cols: side}, source: "synthetic strokes"}
	draw := func() ([]float32, int) {
		c := rng.IntN(len(strokeNames))
		px := make([]float32, side*side)
		cx := float64(side)/2 + (rng.Float64()*2-1)*float64(side)/5
		cy := float64(side)/2 + (rng.Float64()*2-1)*float64(side)/5
		r := float64(side) * (0.2 + 0.1*rng.Float64())
		for y := 0; y < side; y++ {
			for x := 0; x < side; x++ {
				fx, fy := float64(x)+0.5, float64(y)+0.5
				var dist float64 // distance from the stroke's centre line
				switch c {
				case 0:
					dist = math.Abs(fy - cy)
				case 1:
					dist = math.Abs(fx - cx)
				case 2:
					dist = math.Abs((fx-cx)-(fy-cy)) / math.Sqrt2
				case 3:
					dist = math.Abs(math.Hypot(fx-cx, fy-cy) - r)
				}
				v := 1 / (1 + math.Exp(4*(dist-1))) // a soft stroke about 2 pixels wide
				v += 0.05 * rng.NormFloat64()
				px[y*side+x] = float32(math.Min(1, math.Max(0, v)))
			}
		}
		return px, c
	}
	for i := 0; i < nTrain+nTest; i++ {
		px, c := draw()
		if i < nTrain {
			d.Train, d.TrainLabels = append(d.Train, px...), append(d.TrainLabels, c)
		} else {
			d.Test, d.TestLabels = append(d.Test, px...), append(d.TestLabels, c)
		}
	}
	return d
}

// savePNG lays out images (intensities in [0, 1]) in a grid of cols columns
// and adds it to the page.
func savePNG(nb *notebook.Notebook, file, caption string, pics [][]float32, data images, cols int) error {
	var pix []float64
	for _, img := range pics {
		for _, v := range img {
			pix = append(pix, float64(v))
		}
	}
	img, err := vae.Grid(pix, data.Rows, data.Cols, vae.GridOptions{Cols: cols, Pad: 1, PadValue: 0.5})
	if err != nil {
		return err
	}
	return nb.PNG(file, caption, scale(img, 2))
}

// scale enlarges a grey image k times (nearest neighbour), so that small
// pictures are visible on a page.
func scale(src *image.Gray, k int) *image.Gray {
	b := src.Bounds()
	dst := image.NewGray(image.Rect(0, 0, b.Dx()*k, b.Dy()*k))
	for y := 0; y < b.Dy()*k; y++ {
		for x := 0; x < b.Dx()*k; x++ {
			dst.SetGray(x, y, src.GrayAt(b.Min.X+x/k, b.Min.Y+y/k))
		}
	}
	return dst
}

func vec(v []float32) string {
	s := "("
	for i, x := range v {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%.3f", float64(x))
	}
	return s + ")"
}
