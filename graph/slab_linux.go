//go:build linux

package graph

import "syscall"

// mapSlab reserves address space for at least need bytes, reserve where it
// can, outside the Go heap: a private anonymous mapping that reserves no
// memory up front, whose pages become memory when first touched. Where the
// system refuses (a limit on address space, say), it maps need bytes, or at
// last returns need bytes of heap memory.
func mapSlab(reserve, need int) []byte {
	for _, n := range []int{reserve, need} {
		if n <= 0 {
			continue
		}
		b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
		if err == nil {
			return b
		}
	}
	return make([]byte, need)
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
