//go:build !unix

package minhash

// cpuSeconds is not measured on this platform.
func cpuSeconds() float64 { return 0 }

// PeakRSS is not measured on this platform.
func PeakRSS() int64 { return 0 }
