package minhash

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dupCorpus makes n documents in Latin and Thai pseudo-text, about a third of them edited
// copies of earlier ones (some copies of copies), for the equivalence tests.
func dupCorpus(n int, seed uint64) []ShardDoc {
	rng := rand.New(rand.NewPCG(seed, 3))
	sylls := [][]string{
		{"ka", "wa", "ma", "ni", "ku", "to", "li", "za", "mba", "nge", "ọ", "ẹ"},
		{"ภา", "ษา", "ไท", "ย", "เป็", "น", "กา", "ร", "เขี", "ยน"},
	}
	var docs []ShardDoc
	for i := 0; i < n; i++ {
		if i > 5 && rng.IntN(3) == 0 {
			src := docs[rng.IntN(len(docs))]
			w := strings.Fields(src.Text)
			for e := 0; e < 1+rng.IntN(6); e++ {
				w[rng.IntN(len(w))] = "x"
			}
			if rng.IntN(4) == 0 {
				w = w[:len(w)*9/10]
			}
			docs = append(docs, ShardDoc{ID: fmt.Sprintf("d%04d", i), Text: strings.Join(w, " "), Lang: src.Lang, KeepValue: rng.Float64()})
			continue
		}
		l := rng.IntN(len(sylls))
		var b strings.Builder
		for w := 0; w < 60+rng.IntN(120); w++ {
			for k := 0; k < 1+rng.IntN(3); k++ {
				b.WriteString(sylls[l][rng.IntN(len(sylls[l]))])
			}
			b.WriteByte(' ')
		}
		docs = append(docs, ShardDoc{ID: fmt.Sprintf("d%04d", i), Text: b.String(), Lang: []string{"swh", "tha"}[l], KeepValue: rng.Float64()})
	}
	docs = append(docs, ShardDoc{ID: "empty", Text: "!!! ..."})
	return docs
}

type verdict struct {
	removed bool
	of      string
	sim     float64
}

// streamingVerdicts runs the streaming Deduper over docs in order.
func streamingVerdicts(t *testing.T, docs []ShardDoc, cfg ShardedConfig) []verdict {
	t.Helper()
	dd, err := NewDeduper(DedupOptions{Params: cfg.Params, Verify: cfg.Verify, Threshold: cfg.Threshold, SpillDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer dd.Close()
	h, _ := NewHasher(cfg.Params)
	s := &Signer{H: h, Sh: NewShingler(cfg.Shingle)}
	sig := make([]uint64, cfg.Params.NumHashes())
	keys := make([]uint64, cfg.Params.Bands)
	out := make([]verdict, len(docs))
	for i, d := range docs {
		if s.Sign(d.Text, d.Script, sig) == 0 {
			continue
		}
		h.BandKeys(sig, 0, keys)
		m, err := dd.Add(d.ID, sig, keys)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = verdict{m.Duplicate, m.OfID, m.Similarity}
	}
	return out
}

// shardedVerdicts runs the four phases with the documents split into shards.
func shardedVerdicts(t *testing.T, docs []ShardDoc, cfg ShardedConfig, shards, tasks int) ([]verdict, []Decision) {
	t.Helper()
	cfg.Dir = t.TempDir()
	per := (len(docs) + shards - 1) / shards
	for s := 0; s < shards; s++ {
		part := docs[min(s*per, len(docs)):min((s+1)*per, len(docs))]
		_, err := WriteSignatures(cfg, s, func(emit func(ShardDoc) error) error {
			for _, d := range part {
				if err := emit(d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for task := 0; task < tasks; task++ {
		if err := BucketTask(cfg, shards, task, tasks); err != nil {
			t.Fatal(err)
		}
	}
	for task := 0; task < tasks; task++ {
		if err := ClusterTask(cfg, task, tasks); err != nil {
			t.Fatal(err)
		}
	}
	if err := MergeClusters(cfg, shards, tasks); err != nil {
		t.Fatal(err)
	}
	var out []verdict
	var decs []Decision
	for s := 0; s < shards; s++ {
		f, err := OpenFilter(cfg, s)
		if err != nil {
			t.Fatal(err)
		}
		n := min((s+1)*per, len(docs)) - min(s*per, len(docs))
		for pos := 0; pos < n; pos++ {
			d, err := f.Decision(pos)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, verdict{d.Removed, d.OfID, d.Similarity})
			decs = append(decs, d)
		}
		f.Close()
	}
	return out, decs
}

// Acceptance: the sharded phases remove exactly the documents the streaming mode removes,
// naming the same earlier document and similarity, whatever the number of shards, tasks
// and key ranges, with and without verification.
func TestShardedEqualsStreaming(t *testing.T) {
	docs := dupCorpus(500, 1)
	for _, verify := range []bool{false, true} {
		cfg := ShardedConfig{Params: DefaultParams, Verify: verify, Threshold: 0.8}
		want := streamingVerdicts(t, docs, cfg)
		removed := 0
		for _, v := range want {
			if v.removed {
				removed++
			}
		}
		if removed < 50 {
			t.Fatalf("only %d removed: corpus does not exercise dedup", removed)
		}
		for _, tc := range []struct{ shards, tasks, ranges int }{{1, 1, 1}, {3, 1, 1}, {3, 3, 1}, {4, 3, 2}} {
			t.Run(fmt.Sprintf("verify=%v/shards=%d/tasks=%d/ranges=%d", verify, tc.shards, tc.tasks, tc.ranges), func(t *testing.T) {
				c := cfg
				c.RangesPerBand = tc.ranges
				got, _ := shardedVerdicts(t, docs, c, tc.shards, tc.tasks)
				for i := range want {
					if got[i] != want[i] {
						t.Errorf("%s: sharded %+v, streaming %+v", docs[i].ID, got[i], want[i])
					}
				}
			})
		}
	}
}

// With keep longest, each cluster keeps exactly one document, its longest.
func TestShardedKeepLongest(t *testing.T) {
	docs := dupCorpus(300, 2)
	cfg := ShardedConfig{Params: DefaultParams, Threshold: 0.8, Keep: KeepLongest}
	_, decs := shardedVerdicts(t, docs, cfg, 3, 2)
	type cl struct {
		kept     []int
		size     int
		longest  int
		longestN int
	}
	clusters := map[string]*cl{}
	for i, d := range decs {
		if d.ClusterSize < 2 {
			continue
		}
		c := clusters[d.ClusterID]
		if c == nil {
			c = &cl{size: d.ClusterSize, longest: -1}
			clusters[d.ClusterID] = c
		}
		if n := len([]rune(docs[i].Text)); n > c.longestN {
			c.longest, c.longestN = i, n
		}
		if !d.Removed {
			c.kept = append(c.kept, i)
		} else if d.OfID != d.ClusterID {
			t.Errorf("%s removed as duplicate of %s, not of its cluster's keeper %s", docs[i].ID, d.OfID, d.ClusterID)
		}
	}
	if len(clusters) < 10 {
		t.Fatalf("%d clusters: corpus does not exercise keep", len(clusters))
	}
	for id, c := range clusters {
		if len(c.kept) != 1 || c.kept[0] != c.longest || docs[c.longest].ID != id {
			t.Errorf("cluster %s: kept %v, longest %d", id, c.kept, c.longest)
		}
	}
}

// A damaged phase file is an error naming the file, never a silent wrong result.
func TestShardedChecksum(t *testing.T) {
	docs := dupCorpus(50, 3)
	cfg := ShardedConfig{Dir: t.TempDir(), Params: DefaultParams}
	_, err := WriteSignatures(cfg, 0, func(emit func(ShardDoc) error) error {
		for _, d := range docs {
			if err := emit(d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p := bandPath(cfg.Dir, 0, 3)
	b, _ := os.ReadFile(p)
	b[headerSize+5] ^= 1
	os.WriteFile(p, b, 0o644)
	err = BucketTask(cfg, 1, 0, 1)
	if err == nil || !strings.Contains(err.Error(), filepath.Base(p)) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("corrupt band file: error %v", err)
	}
	os.WriteFile(p, b[:len(b)-3], 0o644)
	if err = BucketTask(cfg, 1, 0, 1); err == nil || !strings.Contains(err.Error(), filepath.Base(p)) {
		t.Fatalf("truncated band file: error %v", err)
	}
}

// TestShardedLarge runs the four phases over a generated corpus of $SIEVE_MINHASH_LARGE
// documents (about 300 bytes each, 10% planted near-duplicates) in shards of 100,000, with
// 2 tasks per phase, and logs time per phase and the peak RSS of the process:
//
//	SIEVE_MINHASH_LARGE=5000000 go test ./stages/minhash -run ShardedLarge -v -timeout 2h
func TestShardedLarge(t *testing.T) {
	var n int
	if _, err := fmt.Sscan(os.Getenv("SIEVE_MINHASH_LARGE"), &n); err != nil || n <= 0 {
		t.Skip("set SIEVE_MINHASH_LARGE=<documents> to run")
	}
	const perShard, tasks = 100_000, 2
	shards := (n + perShard - 1) / perShard
	dir := os.Getenv("SIEVE_MINHASH_LARGE_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := ShardedConfig{Dir: dir, Params: DefaultParams, Threshold: 0.8, RangesPerBand: 4}
	words := make([]string, 5000)
	wr := rand.New(rand.NewPCG(9, 9))
	sylls := []string{"ka", "wa", "ma", "ni", "ku", "to", "li", "za", "mba", "nge", "ọ", "ẹ", "sí", "ní"}
	for i := range words {
		var b strings.Builder
		for k := 0; k < 2+wr.IntN(3); k++ {
			b.WriteString(sylls[wr.IntN(len(sylls))])
		}
		words[i] = b.String()
	}
	// document g: original text from seed g, or (1 in 10) an edited copy of an earlier one
	docText := func(g int, buf []string) string {
		r := rand.New(rand.NewPCG(uint64(g), 1))
		src := g
		if g > 0 && r.IntN(10) == 0 {
			src = r.IntN(g)
			for src > 0 && rand.New(rand.NewPCG(uint64(src), 1)).IntN(10) == 0 {
				src = rand.New(rand.NewPCG(uint64(src), 1)).IntN(src) // follow to an original
			}
		}
		sr := rand.New(rand.NewPCG(uint64(src), 2))
		buf = buf[:0]
		for w := 0; w < 50; w++ {
			buf = append(buf, words[sr.IntN(len(words))])
		}
		if src != g {
			buf[r.IntN(len(buf))] = "x"
		}
		return strings.Join(buf, " ")
	}
	phase := func(name string, fn func() error) {
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%-10s %8.1fs  peak RSS so far %6.0f MiB", name, time.Since(start).Seconds(), float64(PeakRSS())/(1<<20))
	}
	phase("signatures", func() error {
		for s := 0; s < shards; s++ {
			_, err := WriteSignatures(cfg, s, func(emit func(ShardDoc) error) error {
				var buf []string
				for g := s * perShard; g < min(n, (s+1)*perShard); g++ {
					if err := emit(ShardDoc{ID: fmt.Sprintf("doc-%d", g), Text: docText(g, buf)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	phase("buckets", func() error {
		for task := 0; task < tasks; task++ {
			if err := BucketTask(cfg, shards, task, tasks); err != nil {
				return err
			}
		}
		return nil
	})
	phase("clusters", func() error {
		for task := 0; task < tasks; task++ {
			if err := ClusterTask(cfg, task, tasks); err != nil {
				return err
			}
		}
		return MergeClusters(cfg, shards, tasks)
	})
	removed := 0
	phase("filter", func() error {
		for s := 0; s < shards; s++ {
			f, err := OpenFilter(cfg, s)
			if err != nil {
				return err
			}
			removed += f.Removed()
			f.Close()
		}
		return nil
	})
	t.Logf("%d documents in %d shards: %d removed; peak RSS %.0f MiB", n, shards, removed, float64(PeakRSS())/(1<<20))
	if removed < n/20 {
		t.Errorf("only %d removed of about %d planted copies", removed, n/10)
	}
	if rss := PeakRSS(); rss > 2<<30 {
		t.Errorf("peak RSS %d bytes > 2 GiB", rss)
	}
}

// Phase files read back from disk never panic the reader: any damage is an error.
func FuzzPhaseFiles(f *testing.F) {
	dir := f.TempDir()
	w, _ := createChecked(filepath.Join(dir, "seed.bin"), "IDS")
	w.u64(2)
	w.u64(0)
	w.u64(3)
	w.u64(5)
	w.write([]byte("abcde"))
	w.Close()
	seed, _ := os.ReadFile(filepath.Join(dir, "seed.bin"))
	f.Add(seed)
	f.Add([]byte("SVMHIDS \x01\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "f.bin")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_ = readRecords(p, "PAIR", 3, func([]uint64) error { return nil })
		if r, err := openIDs(p); err == nil {
			for pos := uint32(0); pos < 4; pos++ {
				_, _ = r.get(pos)
			}
			r.f.Close()
		}
	})
}
