// Package translate is the machine-translation experiment: Multi30k (German to
// English by default), a bidirectional GRU encoder with a Bahdanau-attention GRU
// decoder or a Transformer, word or BPE vocabularies, scored by sacreBLEU's corpus
// BLEU on the validation split. The defaults are a GRU with attention in the
// spirit of Bahdanau et al. (2015), sized for a CPU.
//
// From Go:
//
//	cfg := translate.DefaultConfig()
//	cfg.MaxSteps = 100
//	sum, err := translate.Run(ctx, cfg, os.Stderr)
//	m, err := translate.Load(sum.Dir) // or the run directory
//	defer m.Close()
//	out, err := m.Translate([]string{"Ein Hund läuft."}, m.DecodeOptions())
package translate

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/triadml/triad/experiments/internal/encdec"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// Config holds the hyperparameters of a translation run; its json keys are the
// command's flags (underscores as dashes) and config.json's keys.
type Config struct {
	train.Common
	train.Optim `help.batch:"sentence pairs per training step" help.lr:"peak Adam learning rate"`
	train.Data  `help.data_dir:"directory holding Multi30k's {train,val}.{de,en}.gz (default: found through $TRIAD_DATA or the cache)"`
	Src         string `json:"src" help:"source language (de or en)"`
	Tgt         string `json:"tgt" help:"target language (en or de)"`
	Model       string `json:"model" help:"gru-attn (bidirectional GRU encoder, Bahdanau attention decoder) or transformer (which trains best with --batch 128 --dropout 0.1 --lr 5e-4 --warmup 400)"`
	Vocab       string `json:"vocab" help:"word (words and punctuation) or bpe (byte-pair encoding of the words, one model per language)"`
	BPESize     int    `json:"bpe_size" help:"bpe: symbols per language (alphabet plus merges)"`
	Lower       bool   `json:"lower" help:"lowercase both sides before tokenising (cased BLEU is then meaningless)"`
	MinFreq     int    `json:"min_freq" help:"minimum count of a vocabulary token in the training split"`
	MaxLen      int    `json:"max_len" help:"longest sentence in tokens: longer training pairs are left out, longer inputs cut"`
	Buckets     int    `json:"buckets" help:"length buckets of the training pairs (one compiled program each)"`
	TrainSize   int    `json:"train_size" help:"use only the first N training pairs (0: all)"`
	encdec.RNN  `help.embed:"gru-attn: embedding width of both languages" help.hidden:"gru-attn: encoder units per direction (the decoder has twice as many)" help.attn_dim:"gru-attn: width of the additive attention (0: the decoder's)"`
	encdec.Transformer
	PreLN     bool   `json:"pre_ln" help:"transformer: pre-LN sub-layers (default post-LN, as the paper)"`
	Positions string `json:"positions" help:"transformer: sinusoidal or learned positions"`
	TieOutput bool   `json:"tie_output" help:"transformer: tie the output layer to the target embedding"`
	// training
	Dropout         float64 `json:"dropout" help:"dropout (embeddings, layers, before the output)"`
	LabelSmoothing  float64 `json:"label_smoothing" help:"label smoothing of the training cross-entropy (Szegedy et al. 2016)"`
	MaxTokens       int     `json:"max_tokens" help:"most rows x padded length per compiled training or validation-loss program: a larger batch of a length bucket runs in parts whose gradients are combined (bounds memory; 0: no limit)"`
	Schedule        string  `json:"schedule" help:"learning rate after the warm-up: constant, noam (inverse square root of the step, Vaswani et al. 2017) or cosine (to lr/100 at the last step)"`
	Warmup          int     `json:"warmup" help:"linear warm-up steps of the learning rate"`
	train.StepDecay `help.lr_decay:"constant schedule: factor per epoch from epoch lr_decay_after on (1: none)" help.lr_decay_after:"constant schedule: first epoch whose rate is multiplied by lr_decay" alias.lr_decay_after:"decay_after"`
	Beta2           float64 `json:"beta2" help:"Adam's beta2"`
	WeightDecay     float64 `json:"weight_decay" help:"Adam's L2 weight decay"`
	// evaluation and decoding
	train.EvalSet     `alias.eval_size:"val_size"`
	EvalBatch         int `json:"eval_batch" help:"sentences per batch of validation decoding and perplexity"`
	encdec.BeamSearch `help.beam:"beam size of the final evaluation (and of --beam-every-epoch); 0 or 1: greedy only"`
	BeamEpochs        bool    `json:"beam_every_epoch" help:"also decode the validation set with beam search at every evaluation"`
	UnkReplace        bool    `json:"unk_replace" help:"word vocabulary: replace an output <unk> by the source word it attends to most (Luong et al. 2015)"`
	DecodeRatio       float64 `json:"decode_ratio" help:"decoding stops after decode_ratio * source length + 10 tokens (and at max_len)"`
}

// DefaultConfig is a GRU with attention in the spirit of Bahdanau et al. (2015),
// sized for a CPU: word vocabularies of minimum count 2 (as torchtext's Multi30k
// examples), embeddings 256, encoder 256 per direction, batch 64, Adam 1e-3 with
// a short warm-up, label smoothing 0.1.
func DefaultConfig() Config {
	return Config{
		Common: train.Common{Seed: 1, Epochs: 10, LogEvery: 50},
		Src:    "de", Tgt: "en", Model: "gru-attn", Vocab: "word", BPESize: 8000, MinFreq: 2, MaxLen: 50, Buckets: 6,
		RNN: encdec.RNN{Embed: 256, Hidden: 256}, Transformer: encdec.Transformer{Dim: 256, Heads: 8, FF: 512, Layers: 3},
		Positions: "sinusoidal",
		Dropout:   0.2, LabelSmoothing: 0.1, MaxTokens: 2048, Schedule: "constant", Warmup: 200, StepDecay: train.StepDecay{Decay: 1, DecayAfter: 1},
		Optim: train.Optim{Batch: 64, LR: 1e-3, ClipNorm: 1},
		Beta2: 0.999, EvalBatch: 128, BeamSearch: encdec.BeamSearch{Beam: 5, LengthPenalty: 0.6}, UnkReplace: true, DecodeRatio: 1.5,
	}
}

// Validate reports the first setting out of its range, or a combination the
// experiment does not run.
func (c Config) Validate() error {
	for _, l := range []string{c.Src, c.Tgt} {
		if l != "de" && l != "en" {
			return errors.Errorf("unknown language %q (de, en)", l)
		}
	}
	if c.Src == c.Tgt {
		return errors.Errorf("source and target are both %q", c.Src)
	}
	if err := oneOf("model", c.Model, "gru-attn", "transformer"); err != nil {
		return err
	}
	if err := oneOf("vocabulary", c.Vocab, "word", "bpe"); err != nil {
		return err
	}
	if err := oneOf("schedule", c.Schedule, "constant", "noam", "cosine"); err != nil {
		return err
	}
	switch {
	case c.Batch <= 0 || c.EvalBatch <= 0 || c.MaxLen <= 0 || c.Buckets <= 0:
		return errors.New("batch, eval_batch, max_len and buckets must be positive")
	case c.Vocab == "bpe" && c.BPESize <= 0:
		return errors.New("bpe_size must be positive")
	case !(c.LR > 0) || c.Warmup < 0 || !(c.Decay > 0) || c.Beta2 < 0 || c.Beta2 >= 1 || c.WeightDecay < 0 || c.ClipNorm < 0:
		return errors.New("lr and lr_decay must be positive, warmup, weight_decay and clip_norm non-negative, beta2 in [0, 1)")
	case c.Dropout < 0 || c.Dropout >= 1 || c.LabelSmoothing < 0 || c.LabelSmoothing >= 1:
		return errors.New("dropout and label_smoothing must be in [0, 1)")
	case c.Beam < 0 || c.LengthPenalty < 0 || !(c.DecodeRatio > 0):
		return errors.New("beam and length_penalty must be non-negative and decode_ratio positive")
	case c.TrainSize < 0 || c.EvalSize < 0 || c.MinFreq < 0 || c.MaxTokens < 0:
		return errors.New("train_size, eval_size, min_freq and max_tokens must be non-negative")
	}
	if c.Model == "gru-attn" && (c.Embed <= 0 || c.Hidden <= 0 || c.AttnDim < 0) {
		return errors.New("embed and hidden must be positive")
	}
	if c.Model == "transformer" {
		if c.Dim <= 0 || c.Heads <= 0 || c.FF <= 0 || c.Layers <= 0 || c.Dim%c.Heads != 0 {
			return errors.Errorf("transformer: dim %d, heads %d, ff %d, layers %d: want positive sizes and dim a multiple of heads", c.Dim, c.Heads, c.FF, c.Layers)
		}
		if c.Positions != "sinusoidal" && c.Positions != "learned" {
			return errors.Errorf("unknown positions %q (sinusoidal, learned)", c.Positions)
		}
	}
	return nil
}

// oneOf reports a value that is none of the choices.
func oneOf(what, v string, choices ...string) error {
	for _, c := range choices {
		if v == c {
			return nil
		}
	}
	return errors.Errorf("unknown %s %q (%s)", what, v, strings.Join(choices, ", "))
}

// schedule returns the learning-rate schedule: a linear warm-up to LR, then
// constant (with an optional per-epoch decay), the inverse square root of the
// step (Vaswani et al. 2017, eq. 3, scaled to peak at LR), or a half cosine to
// LR/100 at the run's last step.
func (c Config) schedule(stepsPerEpoch int) (solvers.Schedule, error) {
	switch c.Schedule {
	case "noam":
		w := max(c.Warmup, 1)
		d := c.Dim
		if c.Model != "transformer" {
			d = 2 * c.Hidden
		}
		// Noam peaks at step w with factor/sqrt(d*w): choose the factor that makes the peak LR
		return solvers.NewNoam(d, w, c.LR*math.Sqrt(float64(d*w)))
	case "cosine":
		return solvers.CosineOver(c.LR, c.LR/100, c.Warmup, c.Common.TotalSteps(stepsPerEpoch))
	}
	s := c.StepDecay.Schedule(c.LR, stepsPerEpoch)
	s.Warmup = c.Warmup
	return s, nil
}

// command returns the command line that reproduces a run from scratch: every
// setting that differs from the defaults, and the thread count (results are
// bitwise reproducible for a given seed, binary and thread count).
func (c Config) command() string {
	c.Out, c.Resume = "", ""
	var now, was map[string]any
	a, _ := json.Marshal(c)
	b, _ := json.Marshal(DefaultConfig())
	_ = json.Unmarshal(a, &now)
	_ = json.Unmarshal(b, &was)
	keys := make([]string, 0, len(now))
	for k := range now {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := []string{"triad translate"}
	for _, k := range keys {
		if k != "threads" && reflect.DeepEqual(now[k], was[k]) {
			continue
		}
		flag := "--" + strings.ReplaceAll(k, "_", "-")
		switch v := now[k].(type) {
		case bool:
			parts = append(parts, fmt.Sprintf("%s=%t", flag, v))
		case string:
			if v == "" || strings.ContainsAny(v, " \t\"'$\\") {
				v = strconv.Quote(v)
			}
			parts = append(parts, flag, v)
		default:
			parts = append(parts, flag, fmt.Sprint(v))
		}
	}
	return strings.Join(parts, " ")
}
