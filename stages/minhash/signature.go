// Package minhash is sieve's near-duplicate detection: text normalisation and shingling
// (word n-grams from lang's segmentation, character n-grams for scripts written without
// spaces), MinHash signatures from a seeded family of permutations, banded LSH, a compact
// streaming index that keeps the first document of each cluster, and the phases of the
// sharded mode (signatures, buckets, clusters, filter) that give the same kept set.
//
// The pipeline stage that uses it is stages.MinhashDedup ("minhash_dedup").
package minhash

import (
	"fmt"
	"math"
	"math/bits"
)

// Params fixes the MinHash family and the LSH banding. Two runs with equal Params (and equal
// shingling options) produce identical signatures and band keys.
type Params struct {
	Bands int    // number of LSH bands
	Rows  int    // rows (hashes) per band; Bands*Rows hashes per signature
	Seed  uint64 // seeds the permutations
}

// DefaultParams is FineWeb's setting: 112 hashes as 14 bands of 8 rows.
var DefaultParams = Params{Bands: 14, Rows: 8, Seed: 1}

// NumHashes is the signature length.
func (p Params) NumHashes() int { return p.Bands * p.Rows }

// Validate reports a problem with the parameters, or nil.
func (p Params) Validate() error {
	if p.Bands < 1 || p.Bands > 64 {
		return fmt.Errorf("bands must be in 1..64, got %d", p.Bands)
	}
	if p.Rows < 1 || p.Rows > 64 {
		return fmt.Errorf("rows must be in 1..64, got %d", p.Rows)
	}
	if n := p.NumHashes(); n > 1024 {
		return fmt.Errorf("bands*rows must be <= 1024, got %d", n)
	}
	return nil
}

// CandidateProbability is the probability that two documents of Jaccard similarity j share
// at least one band: 1 - (1 - j^rows)^bands (the LSH S-curve).
func CandidateProbability(j float64, bands, rows int) float64 {
	return 1 - math.Pow(1-math.Pow(j, float64(rows)), float64(bands))
}

// ParamsForThreshold chooses bands and rows with bands*rows <= numHashes whose S-curve best
// separates similarities above threshold from those below: it minimises the weighted sum of
// the false-positive area (integral of the S-curve over [0, threshold)) and the
// false-negative area (integral of 1 - S over [threshold, 1]), as datasketch does, with equal
// weights.
func ParamsForThreshold(threshold float64, numHashes int, seed uint64) (Params, error) {
	if !(threshold > 0 && threshold < 1) {
		return Params{}, fmt.Errorf("threshold must be in (0, 1), got %v", threshold)
	}
	if numHashes < 2 || numHashes > 1024 {
		return Params{}, fmt.Errorf("num_hashes must be in 2..1024, got %d", numHashes)
	}
	integrate := func(f func(float64) float64, a, b float64) float64 {
		const steps = 200
		h := (b - a) / steps
		s := 0.0
		for i := 0; i < steps; i++ {
			x := a + (float64(i)+0.5)*h
			s += f(x) * h
		}
		return s
	}
	best, bestErr := Params{}, math.Inf(1)
	for b := 1; b <= numHashes && b <= 64; b++ {
		for r := 1; r <= numHashes/b && r <= 64; r++ {
			fp := integrate(func(j float64) float64 { return CandidateProbability(j, b, r) }, 0, threshold)
			fn := integrate(func(j float64) float64 { return 1 - CandidateProbability(j, b, r) }, threshold, 1)
			if e := fp + fn; e < bestErr-1e-12 {
				best, bestErr = Params{Bands: b, Rows: r, Seed: seed}, e
			}
		}
	}
	return best, nil
}

// Hasher computes MinHash signatures. The permutation family is h_i(x) = a_i*x + b_i mod 2^64
// with odd a_i (a bijection of 64-bit values) applied to the 64-bit shingle hash x; a_i and
// b_i come from SplitMix64 seeded with Params.Seed. A Hasher is immutable and safe for
// concurrent use; the per-document state lives in the signature slice the caller passes.
type Hasher struct {
	p    Params
	a, b []uint64
}

// NewHasher builds the permutation family for p.
func NewHasher(p Params) (*Hasher, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	n := p.NumHashes()
	h := &Hasher{p: p, a: make([]uint64, n), b: make([]uint64, n)}
	state := p.Seed ^ 0x5ee1e5eed0000000
	for i := 0; i < n; i++ {
		h.a[i] = splitmix(&state) | 1
		h.b[i] = splitmix(&state)
	}
	return h, nil
}

// Params returns the parameters of the family.
func (h *Hasher) Params() Params { return h.p }

// Reset sets every value of sig (of length NumHashes) to the empty-set value.
func (h *Hasher) Reset(sig []uint64) {
	for i := range sig {
		sig[i] = math.MaxUint64
	}
}

// Add folds one shingle hash x into sig.
func (h *Hasher) Add(sig []uint64, x uint64) {
	a, b := h.a, h.b
	sig = sig[:len(a)]
	b = b[:len(a)]
	for i, ai := range a {
		if v := ai*x + b[i]; v < sig[i] {
			sig[i] = v
		}
	}
}

// AddBatch folds many shingle hashes into sig. It is faster than calling Add for each: the
// permutation parameters stay in registers across a block of shingles.
func (h *Hasher) AddBatch(sig []uint64, xs []uint64) {
	a, b := h.a, h.b
	n := len(a)
	sig = sig[:n]
	b = b[:n]
	for i := 0; i < n; i++ {
		ai, bi, m := a[i], b[i], sig[i]
		j := 0
		for ; j+4 <= len(xs); j += 4 {
			v0 := ai*xs[j] + bi
			v1 := ai*xs[j+1] + bi
			v2 := ai*xs[j+2] + bi
			v3 := ai*xs[j+3] + bi
			m = min(m, v0, v1, v2, v3)
		}
		for ; j < len(xs); j++ {
			m = min(m, ai*xs[j]+bi)
		}
		sig[i] = m
	}
}

// BandKeys writes the key of each band of sig to dst (length Bands): a nonzero 64-bit hash
// of the band's rows, its index and salt, so equal rows in different bands (or, with a
// per-language salt, in different languages) give different keys. Salt 0 is the global scope.
func (h *Hasher) BandKeys(sig []uint64, salt uint64, dst []uint64) {
	r := h.p.Rows
	for b := 0; b < h.p.Bands; b++ {
		k := uint64(b+1)*0x9e3779b97f4a7c15 ^ salt
		for _, v := range sig[b*r : (b+1)*r] {
			k = mix64(k ^ v)
		}
		if k == 0 {
			k = 1
		}
		dst[b] = k
	}
}

// Similarity is the estimated Jaccard similarity of two signatures: the share of equal
// positions. Its standard error is sqrt(J(1-J)/NumHashes).
func Similarity(a, b []uint64) float64 {
	if len(a) == 0 || len(a) != len(b) {
		return 0
	}
	eq := 0
	for i, v := range a {
		if v == b[i] {
			eq++
		}
	}
	return float64(eq) / float64(len(a))
}

// Empty reports whether sig is the signature of an empty shingle set.
func Empty(sig []uint64) bool {
	for _, v := range sig {
		if v != math.MaxUint64 {
			return false
		}
	}
	return true
}

func splitmix(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	z := *state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// mix64 is a bijective 64-bit finaliser (Stafford variant 13, as in SplitMix64).
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// fastrange maps a uniform 64-bit x to [0, n).
func fastrange(x uint64, n uint64) uint64 {
	hi, _ := bits.Mul64(x, n)
	return hi
}
