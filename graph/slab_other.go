//go:build !linux

package graph

// mapSlab returns n bytes of zeroed heap memory where no anonymous mapping is
// at hand.
func mapSlab(n int) []byte { return make([]byte, n) }

// dropPages leaves heap memory to the collector.
func dropPages([]byte) {}

// unmapSlab leaves heap memory to the collector.
func unmapSlab([]byte) {}
