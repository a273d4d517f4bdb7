//go:build linux

package graph

import "syscall"

// mapSlab reserves n bytes of address space outside the Go heap: a private
// anonymous mapping that reserves no memory up front, whose pages become
// memory when first touched. Where the system refuses one, it returns heap
// memory.
func mapSlab(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return make([]byte, n)
	}
	return b
}

// dropPages gives the pages of slab back to the system; the addresses stay
// valid and read as zeros.
func dropPages(slab []byte) {
	if len(slab) > 0 {
		_ = syscall.Madvise(slab, syscall.MADV_DONTNEED)
	}
}

// unmapSlab unmaps a slab that mapSlab mapped; heap memory is left to the
// collector.
func unmapSlab(slab []byte) {
	if len(slab) > 0 {
		_ = syscall.Munmap(slab) // an error means heap memory, which is not mapped
	}
}
