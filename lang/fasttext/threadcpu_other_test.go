//go:build !linux

package fasttext

import (
	"testing"
	"time"
)

// threadCPU skips the benchmark: the CPU time of one thread (RUSAGE_THREAD) is Linux's.
func threadCPU(b *testing.B) time.Duration {
	b.Skip("per-thread CPU time (RUSAGE_THREAD) is only measured on Linux")
	return 0
}
