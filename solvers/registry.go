package solvers

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/pkg/errors"
)

// Hyper sets a solver's hyperparameters by their json names in its config
// ("lr", "beta2", "alpha", "momentum", "weight_decay", "nesterov", ...); what it
// leaves out keeps PyTorch's default for that solver.
type Hyper map[string]any

// Maker builds a solver from hyperparameters (see New).
type Maker func(Hyper) (Solver, error)

var known = map[string]Maker{
	"sgd":     maker(func() SGDConfig { return SGDConfig{} }, func(c SGDConfig) (Solver, error) { return NewSGD(c) }),
	"adam":    maker(DefaultAdamConfig, func(c AdamConfig) (Solver, error) { return NewAdam(c) }),
	"adamw":   maker(DefaultAdamWConfig, func(c AdamConfig) (Solver, error) { return NewAdamW(c) }),
	"rmsprop": maker(DefaultRMSPropConfig, func(c RMSPropConfig) (Solver, error) { return NewRMSProp(c) }),
	"adagrad": maker(DefaultAdaGradConfig, func(c AdaGradConfig) (Solver, error) { return NewAdaGrad(c) }),
}

// maker overlays the hyperparameters on a solver's defaults by json name; a
// name the config does not have is an error.
func maker[C any](defaults func() C, build func(C) (Solver, error)) Maker {
	return func(h Hyper) (Solver, error) {
		cfg := defaults()
		raw, err := json.Marshal(h)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return nil, err
		}
		return build(cfg)
	}
}

// New returns the solver called name (one of Names: sgd, adam, adamw, rmsprop,
// adagrad, and any registered) with the hyperparameters h over its defaults:
//
//	opt, err := solvers.New("adam", solvers.Hyper{"lr": 3e-4, "beta2": 0.98})
func New(name string, h Hyper) (Solver, error) {
	mk, ok := known[strings.ToLower(name)]
	if !ok {
		return nil, errors.Errorf("solvers: unknown optimizer %q (%s)", name, strings.Join(Names(), ", "))
	}
	s, err := mk(h)
	return s, errors.Wrapf(err, "solvers: %s", name)
}

// Register adds a solver under name, for New and every experiment's --optimizer.
func Register(name string, m Maker) { known[strings.ToLower(name)] = m }

// Names returns the known solvers' names, sorted.
func Names() []string { return slices.Sorted(maps.Keys(known)) }

// Only returns the hyperparameters of h that the solver called name has (all of
// h for a solver whose names are not known).
func Only(name string, h Hyper) Hyper {
	keys := keysOf[strings.ToLower(name)]
	if keys == nil {
		return h
	}
	out := Hyper{}
	for k, v := range h {
		if keys[k] {
			out[k] = v
		}
	}
	return out
}

// keysOf holds the json names of each built-in solver's hyperparameters.
var keysOf = map[string]map[string]bool{
	"sgd":     jsonNames(SGDConfig{}),
	"adam":    jsonNames(AdamConfig{}),
	"adamw":   jsonNames(AdamConfig{}),
	"rmsprop": jsonNames(RMSPropConfig{}),
	"adagrad": jsonNames(AdaGradConfig{}),
}

func jsonNames(v any) map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeOf(v)
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = true
	}
	return out
}
