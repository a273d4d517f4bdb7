package graph

import "gorgonia.org/tensor"

// AssignStore copies tensors (by full parameter name; "the file" in its errors)
// into the parameters under s.
// The map must hold exactly the parameters of s, each with the same shape and
// dtype; otherwise the error names the first mismatch in name order and nothing is
// changed. Values are copied into the existing Param.Value tensors, so compiled
// graphs see them.
func AssignStore(s *Store, tensors map[string]*tensor.Dense) error {
	infos := make(map[string]TensorInfo, len(tensors))
	for name, t := range tensors {
		infos[name] = TensorInfo{Dtype: t.Dtype(), Shape: t.Shape()}
	}
	if err := matchHeader(s, infos); err != nil {
		return err
	}
	for _, p := range s.Params() {
		switch p.Value.Dtype() {
		case tensor.Float32:
			copy(Slice[float32](p.Value), Slice[float32](tensors[p.Name]))
		case tensor.Float64:
			copy(Slice[float64](p.Value), Slice[float64](tensors[p.Name]))
		}
	}
	return nil
}
