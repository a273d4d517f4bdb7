package gpt

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// Loading a GPT-2 state dict as Hugging Face's GPT2LMHeadModel or GPT2Model
// saves it: names with or without the "transformer." prefix; "lm_head.weight"
// either absent or equal to the token embedding (tied); the attention layers'
// causal-mask buffers "h.N.attn.bias" and "h.N.attn.masked_bias" recognised and
// skipped; Conv1D weights stored (in, out). Tensors of either float dtype are
// converted to the store's.

// LoadFile loads the GPT-2 safetensors state dict at path into the model's
// parameters in s (see LoadTensors).
func (m *Model) LoadFile(s *graph.Store, path string) error {
	ts, _, err := graph.LoadTensors(path)
	if err != nil {
		return err
	}
	return errors.Wrapf(m.LoadTensors(s, ts), "gpt: %s", path)
}

// LoadTensors copies a GPT-2 state dict into the model's parameters in s. Every
// tensor must be a parameter of the model (after the prefix is added), a
// causal-mask buffer, or an lm_head.weight equal to the token embedding; every
// parameter must be there with its shape. All of it is checked before anything
// is assigned: on error no parameter changes.
func (m *Model) LoadTensors(s *graph.Store, ts map[string]*tensor.Dense) error {
	want := map[string]*graph.Param{}
	for _, p := range m.params() {
		want[p.Name] = p
	}
	got := map[string]*tensor.Dense{}
	var lmHead *tensor.Dense
	for _, name := range slices.Sorted(maps.Keys(ts)) {
		t := ts[name]
		full := name
		if !strings.HasPrefix(full, "transformer.") {
			full = "transformer." + name
		}
		switch {
		case name == "lm_head.weight":
			lmHead = t
			continue
		case isMaskBuffer(full):
			continue
		}
		p, ok := want[full]
		if !ok {
			return errors.Errorf("tensor %q is not a parameter of a GPT-2 of %d layers (bias %t)", name, m.Config.Layers, m.Config.Bias)
		}
		if _, dup := got[full]; dup {
			return errors.Errorf("parameter %q is in the file twice (with and without the transformer. prefix)", full)
		}
		if !t.Shape().Eq(p.Shape()) {
			hint := ""
			if t.Dims() == 2 && t.Shape()[0] == p.Shape()[1] && t.Shape()[1] == p.Shape()[0] && strings.HasSuffix(full, ".weight") && strings.Contains(full, ".h.") {
				hint = " (transposed: GPT-2 stores Conv1D weights (in, out))"
			}
			return errors.Errorf("tensor %q has shape %v, the model's %v%s", name, []int(t.Shape()), []int(p.Shape()), hint)
		}
		v, err := convert(t, s.Dtype())
		if err != nil {
			return errors.Wrapf(err, "tensor %q", name)
		}
		got[full] = v
	}
	for _, p := range m.params() {
		if _, ok := got[p.Name]; !ok {
			return errors.Errorf("parameter %q is missing", p.Name)
		}
	}
	if lmHead != nil {
		wte := got[m.WTE.Name]
		if !lmHead.Shape().Eq(wte.Shape()) {
			return errors.Errorf("lm_head.weight has shape %v, the token embedding %v", []int(lmHead.Shape()), []int(wte.Shape()))
		}
		if !equalValues(lmHead, wte) {
			return errors.New("lm_head.weight differs from transformer.wte.weight: the model's output layer is tied to the token embedding")
		}
	}
	// the model's parameters are all of the prefix's in a store made for it;
	// AssignStore checks again, names and shapes, and assigns all or nothing
	sub := s.Sub("transformer")
	if len(sub.Params()) != len(got) {
		return errors.Errorf("the store holds %d parameters under transformer., the model %d", len(sub.Params()), len(got))
	}
	return graph.AssignStore(sub, got)
}

// params returns the model's parameters.
func (m *Model) params() []*graph.Param {
	ps := []*graph.Param{m.WTE, m.WPE}
	norm := func(l *LayerNorm) {
		ps = append(ps, l.Weight)
		if l.Bias != nil {
			ps = append(ps, l.Bias)
		}
	}
	conv := func(c *Conv1D) {
		ps = append(ps, c.Weight)
		if c.Bias != nil {
			ps = append(ps, c.Bias)
		}
	}
	for _, blk := range m.Blocks {
		norm(blk.LN1)
		conv(blk.Attn.CAttn)
		conv(blk.Attn.CProj)
		norm(blk.LN2)
		conv(blk.MLP.CFC)
		conv(blk.MLP.CProj)
	}
	norm(m.LNF)
	return ps
}

// isMaskBuffer reports whether name is transformer.h.N.attn.bias or
// transformer.h.N.attn.masked_bias: the causal mask GPT-2 keeps as a buffer.
func isMaskBuffer(name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) != 5 || parts[0] != "transformer" || parts[1] != "h" || parts[3] != "attn" {
		return false
	}
	if _, err := strconv.Atoi(parts[2]); err != nil {
		return false
	}
	return parts[4] == "bias" || parts[4] == "masked_bias"
}

// convert returns t in dtype (t itself when it has it).
func convert(t *tensor.Dense, dtype tensor.Dtype) (*tensor.Dense, error) {
	if t.Dtype() == dtype {
		return t, nil
	}
	if t.Dtype() != tensor.Float32 && t.Dtype() != tensor.Float64 {
		return nil, errors.Errorf("dtype %v, want float32 or float64", t.Dtype())
	}
	return graph.FromFloat64s(dtype, graph.Float64s(t), t.Shape()...), nil
}

func equalValues(a, b *tensor.Dense) bool {
	x, y := graph.Float64s(a), graph.Float64s(b)
	if a.Dtype() != b.Dtype() { // compare in the coarser precision
		for i := range x {
			if float32(x[i]) != float32(y[i]) {
				return false
			}
		}
		return true
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// ConfigFromTensors reads the configuration of a GPT-2 state dict from its
// tensors' shapes: the vocabulary and width from the token embedding, the
// block from the position table, the layers from the highest h.N, the biases
// from ln_f.bias. The number of heads is not in the shapes: it is given.
func ConfigFromTensors(ts map[string]*tensor.Dense, heads int) (Config, error) {
	get := func(name string) *tensor.Dense {
		if t, ok := ts["transformer."+name]; ok {
			return t
		}
		return ts[name]
	}
	wte, wpe := get("wte.weight"), get("wpe.weight")
	if wte == nil || wpe == nil || wte.Dims() != 2 || wpe.Dims() != 2 {
		return Config{}, errors.New("gpt: the tensors hold no wte.weight and wpe.weight matrices")
	}
	layers := 0
	for name := range ts {
		rest, ok := strings.CutPrefix(strings.TrimPrefix(name, "transformer."), "h.")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(strings.SplitN(rest, ".", 2)[0]); err == nil {
			layers = max(layers, n+1)
		}
	}
	cfg := Config{VocabSize: wte.Shape()[0], Embed: wte.Shape()[1], BlockSize: wpe.Shape()[0], Layers: layers, Heads: heads, Bias: get("ln_f.bias") != nil}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	if wpe.Shape()[1] != cfg.Embed {
		return Config{}, errors.Errorf("gpt: wpe.weight %v and wte.weight %v differ in width", []int(wpe.Shape()), []int(wte.Shape()))
	}
	return cfg, nil
}
