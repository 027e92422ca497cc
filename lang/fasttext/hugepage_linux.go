package fasttext

import (
	"syscall"
	"unsafe"
)

// adviseHugePages asks the kernel to back the 2 MiB-aligned interior of p, which must not
// be written yet, with transparent huge pages (MADV_HUGEPAGE; THP's "madvise" mode is a
// common default). The input matrix is read at random, one or two cache lines per row, and
// with 4 KiB pages nearly every row read of a 40 MB matrix misses the TLB as well as the
// cache: huge pages make predictions about 10% faster. Best effort: errors are ignored.
func adviseHugePages[T any](p []T) {
	const huge = 2 << 20
	var zero T
	size := len(p) * int(unsafe.Sizeof(zero))
	if size < 2*huge {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(p))), size)
	off := (huge - int(uintptr(unsafe.Pointer(unsafe.SliceData(b))))%huge) % huge
	n := (len(b) - off) / huge * huge
	if n > 0 {
		_ = syscall.Madvise(b[off:off+n], 14) // MADV_HUGEPAGE
	}
}
