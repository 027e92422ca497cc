package lang

import (
	"bufio"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkIdentifyFastTextDev measures the fastText backend as the langid stage uses it
// (NFC, script routing, a 300-character sample, open-set check) with a GlotLID-like model
// (softmax, character 2-5-grams, word bigrams, dim 32, 200k buckets, 51 labels) trained by the
// fasttext command on dev.tsv, on 1.4 KB documents; "whole" classifies the whole text as
// `fasttext predict` does. Skipped without the fasttext command or the shared data.
func BenchmarkIdentifyFastTextDev(b *testing.B) {
	bin, err := exec.LookPath("fasttext")
	if err != nil {
		b.Skip("fasttext command not installed")
	}
	dir := sharedData()
	if dir == "" {
		b.Skip("shared data absent")
	}
	f, err := os.Open(filepath.Join(dir, "langid", "dev.tsv"))
	if err != nil {
		b.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if label, text, ok := strings.Cut(sc.Text(), "\t"); ok {
			lines = append(lines, "__label__"+label+" "+text)
		}
	}
	f.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	tmp := b.TempDir()
	train := filepath.Join(tmp, "dev.train")
	if err := os.WriteFile(train, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(tmp, "dev")
	cmd := exec.Command(bin, "supervised", "-input", train, "-output", out, "-minn", "2", "-maxn", "5",
		"-wordNgrams", "2", "-dim", "32", "-epoch", "5", "-lr", "0.5", "-bucket", "200000", "-thread", "2", "-verbose", "0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("fasttext supervised: %v\n%s", err, msg)
	}
	backend, err := NewFastText(out + ".bin")
	if err != nil {
		b.Fatal(err)
	}
	docs := benchDocs(b)
	for _, tt := range []struct {
		name   string
		sample int
	}{{"sample300", 0}, {"whole", -1}} {
		b.Run(tt.name, func(b *testing.B) {
			os := DefaultOpenSet()
			id := NewIdentifier(backend, IdentifierOptions{SampleChars: tt.sample, OpenSet: &os})
			var bytes int64
			for _, d := range docs {
				bytes += int64(len(d))
			}
			b.SetBytes(bytes / int64(len(docs)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				_ = id.Identify(docs[i%len(docs)])
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
	// predict: the backend alone on the whole text, as `fasttext predict` reads a line (no
	// NFC, script routing, sample or open-set check).
	b.Run("predict", func(b *testing.B) {
		var preds []Prediction
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			preds = backend.Predict(docs[i%len(docs)], 1, preds[:0])
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	})
	// parallel: the stage's sample on every CPU; compare -cpu 1,2 for worker scaling.
	b.Run("parallel", func(b *testing.B) {
		os := DefaultOpenSet()
		id := NewIdentifier(backend, IdentifierOptions{OpenSet: &os})
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = id.Identify(docs[int(next.Add(1))%len(docs)])
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	})
}
