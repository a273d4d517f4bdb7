package graph

import (
	"fmt"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// AssignStore copies tensors (by full parameter name; "the file" in its errors)
// into the parameters under s.
// The map must hold exactly the parameters of s, each with the same shape and
// dtype; otherwise the error names the first mismatch in name order and nothing is
// changed. Values are copied into the existing Param.Value tensors, so compiled
// graphs see them.
func AssignStore(s *Store, tensors map[string]*tensor.Dense) error {
	ps := s.Params()
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	seen := map[string]bool{}
	var problems []string
	for _, p := range ps {
		seen[p.Name] = true
		t, ok := tensors[p.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("parameter %q is missing from the file", p.Name))
		case !t.Shape().Eq(p.Value.Shape()):
			problems = append(problems, fmt.Sprintf("parameter %q has shape %v in the store but %v in the file", p.Name, []int(p.Value.Shape()), []int(t.Shape())))
		case t.Dtype() != p.Value.Dtype():
			problems = append(problems, fmt.Sprintf("parameter %q is %v in the store but %v in the file", p.Name, p.Value.Dtype(), t.Dtype()))
		}
	}
	for _, name := range sortedNames(tensors) {
		if !seen[name] {
			problems = append(problems, fmt.Sprintf("tensor %q in the file is not a parameter of the store", name))
		}
	}
	if len(problems) > 0 {
		msg := problems[0]
		if len(problems) > 1 {
			msg += fmt.Sprintf(" (and %d more mismatches)", len(problems)-1)
		}
		return errors.New(msg)
	}
	for _, p := range ps {
		switch p.Value.Dtype() {
		case tensor.Float32:
			copy(Slice[float32](p.Value), Slice[float32](tensors[p.Name]))
		case tensor.Float64:
			copy(Slice[float64](p.Value), Slice[float64](tensors[p.Name]))
		}
	}
	return nil
}

func sortedNames(m map[string]*tensor.Dense) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
