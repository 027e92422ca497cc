package minhash

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The compact index answers exactly like a map from band key to first document, across
// rebuilds, with the spill in memory and on disk.
func TestIndexMatchesMap(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		t.Run(fmt.Sprintf("disk=%v", dir != ""), func(t *testing.T) {
			const bands, docs = 14, 6000
			x, err := NewIndex(bands, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			rng := rand.New(rand.NewPCG(7, 7))
			ref := map[[2]uint64]uint32{}   // (band, key) -> first doc
			pool := make([][]uint64, bands) // keys seen per band, reused to make collisions
			keys := make([]uint64, bands)
			for d := 0; d < docs; d++ {
				var mask uint64
				for b := range keys {
					if len(pool[b]) > 0 && rng.IntN(5) == 0 {
						keys[b] = pool[b][rng.IntN(len(pool[b]))]
					} else {
						keys[b] = rng.Uint64() | 1
						pool[b] = append(pool[b], keys[b])
					}
					got, ok, err := x.Lookup(b, keys[b])
					if err != nil {
						t.Fatal(err)
					}
					want, wok := ref[[2]uint64{uint64(b), keys[b]}]
					if ok != wok || got != want {
						t.Fatalf("doc %d band %d: Lookup = %d,%v; want %d,%v", d, b, got, ok, want, wok)
					}
					if !ok && mask&(1<<b) == 0 {
						mask |= 1 << b
						ref[[2]uint64{uint64(b), keys[b]}] = uint32(d)
					}
				}
				if n, err := x.Add(keys, mask); err != nil || n != uint32(d) {
					t.Fatalf("Add = %d, %v", n, err)
				}
			}
			if x.Rebuilds() == 0 {
				t.Fatal("test did not exercise rebuilds")
			}
			if x.Entries() != len(ref) {
				t.Fatalf("Entries = %d, want %d", x.Entries(), len(ref))
			}
		})
	}
}

// indexBytesPerDoc fills an index with n documents of random band keys, as unique
// documents have, and returns the index memory per document.
func indexBytesPerDoc(tb testing.TB, n int) float64 {
	x, err := NewIndex(14, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	defer x.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	keys := make([]uint64, 14)
	for d := 0; d < n; d++ {
		var mask uint64
		for b := range keys {
			keys[b] = rng.Uint64() | 1
			if _, ok, err := x.Lookup(b, keys[b]); err != nil {
				tb.Fatal(err)
			} else if !ok {
				mask |= 1 << b
			}
		}
		if _, err := x.Add(keys, mask); err != nil {
			tb.Fatal(err)
		}
	}
	return float64(x.MemBytes()) / float64(n)
}

func TestIndexMemoryPerDoc(t *testing.T) {
	if testing.Short() {
		t.Skip("fills an index with 200,000 documents")
	}
	const n = 200_000 // fixed buffers (1 MiB spill tail, minimum dynamic table) weigh on smaller runs
	if b := indexBytesPerDoc(t, n); b > 128 {
		t.Errorf("index holds %.1f bytes per document at %d documents, goal <= 128", b, n)
	} else {
		t.Logf("%.1f bytes per document at %d documents", b, n)
	}
}

// BenchmarkIndex1M reports the index memory per document at 1M documents (14 bands).
// go test ./stages/minhash -run XXX -bench Index1M -benchtime 1x
func BenchmarkIndex1M(b *testing.B) {
	for b.Loop() {
		b.ReportMetric(indexBytesPerDoc(b, 1_000_000), "bytes/doc")
	}
}
