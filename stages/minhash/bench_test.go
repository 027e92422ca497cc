package minhash

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// benchDoc builds a ~3 KB document of pseudo-words (Latin script with some diacritics).
func benchDoc(seed uint64, size int) string {
	rng := rand.New(rand.NewPCG(seed, 7))
	syll := []string{"ka", "ba", "lo", "mi", "ọ", "ẹ", "sí", "ní", "ta", "ra", "wa", "ku", "ndi", "zo"}
	var b strings.Builder
	for b.Len() < size {
		n := 1 + rng.IntN(4)
		for i := 0; i < n; i++ {
			b.WriteString(syll[rng.IntN(len(syll))])
		}
		if rng.IntN(12) == 0 {
			b.WriteString(".")
		}
		b.WriteByte(' ')
	}
	return b.String()
}

func BenchmarkSign3KB(b *testing.B) {
	s, err := NewSigner(DefaultParams, ShingleOptions{Mode: WordShingles})
	if err != nil {
		b.Fatal(err)
	}
	doc := benchDoc(1, 3000)
	sig := make([]uint64, DefaultParams.NumHashes())
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		s.Sign(doc, "Latn", sig)
	}
}

func BenchmarkSign3KBThaiChars(b *testing.B) {
	s, err := NewSigner(DefaultParams, ShingleOptions{})
	if err != nil {
		b.Fatal(err)
	}
	doc := strings.Repeat("ภาษาไทยเป็นภาษาที่เขียนโดยไม่เว้นวรรคระหว่างคำ ", 22)
	sig := make([]uint64, DefaultParams.NumHashes())
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		s.Sign(doc, "Thai", sig)
	}
}

func BenchmarkShingles3KB(b *testing.B) {
	s := NewShingler(ShingleOptions{Mode: WordShingles})
	doc := benchDoc(1, 3000)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		s.Shingles(doc, "Latn")
	}
}
