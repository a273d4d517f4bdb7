//go:build !linux

package graph

// mapSlab returns need bytes of zeroed heap memory where no anonymous mapping
// is at hand: the slab grows with the need, not beyond it.
func mapSlab(_, need int) []byte { return make([]byte, need) }

// dropPages leaves heap memory to the collector.
func dropPages([]byte) {}

// unmapSlab leaves heap memory to the collector.
func unmapSlab([]byte) {}
