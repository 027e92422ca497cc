package tokenizer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// benchDocs returns documents of about 1.4 KB by language: sentences assembled from the
// word lists of bench/gen (Zipf-like word choice, seeded), and, when the shared evaluation
// corpora are there (../shared/data or $SIEVE_SHARED_DATA), real MasakhaNEWS articles cut to
// 1.4 KB: 64 for each of six languages, and all of them in file order ("news-all", 2,300 documents in 16
// languages, whose words do not all fit the cache).
func benchDocs(b *testing.B) map[string][]string {
	docs := map[string][]string{}
	for _, code := range []string{"eng", "yor", "amh", "swa", "hau", "isl"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "bench", "gen", "words", code+".txt"))
		if err != nil {
			b.Fatal(err)
		}
		var words []string
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(line, "#") {
				words = append(words, strings.Fields(line)...)
			}
		}
		r := rand.New(rand.NewPCG(1, uint64(len(code))))
		for range 64 {
			var sb strings.Builder
			for sb.Len() < 1400 {
				n := 6 + r.IntN(12)
				for i := range n {
					u := r.Float64()
					w := words[int(u*u*u*float64(len(words)))]
					if i > 0 {
						sb.WriteByte(' ')
					}
					sb.WriteString(w)
				}
				sb.WriteString(". ")
				if r.IntN(5) == 0 {
					sb.WriteString("\n\n")
				}
			}
			docs["gen-"+code] = append(docs["gen-"+code], sb.String())
		}
	}
	shared := os.Getenv("SIEVE_SHARED_DATA")
	if shared == "" {
		shared = filepath.Join("..", "..", "..", "shared", "data")
	}
	if f, err := os.Open(filepath.Join(shared, "docs", "masakhanews.jsonl")); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var rec struct{ Lang, Text string }
			if json.Unmarshal(sc.Bytes(), &rec) != nil || len(rec.Text) <= 1400 {
				continue
			}
			cut := 1400
			for !utf8.RuneStart(rec.Text[cut]) {
				cut--
			}
			if k := "news-" + rec.Lang; len(docs[k]) < 64 && strings.Contains("amh_Ethi tir_Ethi hau_Latn yor_Latn swh_Latn eng_Latn", rec.Lang) {
				docs[k] = append(docs[k], rec.Text[:cut])
			}
			// Every article in file order: 16 languages mixed, as a worker sees a corpus.
			docs["news-all"] = append(docs["news-all"], rec.Text[:cut])
		}
	}
	return docs
}

// benchTokenizers are the test tokenizers, or the files listed in $SIEVE_TOKENIZERS
// (comma-separated tokenizer.json paths, e.g. Llama 3's and Gemma 3's).
func benchTokenizers(b *testing.B) []*Tokenizer {
	var out []*Tokenizer
	if env := os.Getenv("SIEVE_TOKENIZERS"); env != "" {
		for _, p := range strings.Split(env, ",") {
			tk, err := Load(p)
			if err != nil {
				b.Fatal(err)
			}
			tk.name = strings.TrimPrefix(filepath.Base(filepath.Dir(filepath.Dir(p))), "tokenizer-") // .../tokenizer-llama3/models/tokenizer.json
			out = append(out, tk)
		}
		return out
	}
	return []*Tokenizer{load(b, "bytelevel.json"), load(b, "sentencepiece.json")}
}

// BenchmarkCount counts 1.4 KB documents with one Counter (one core), as a pipeline worker
// does: docs/s and MB/s per core, with the cache warm.
func BenchmarkCount(b *testing.B) {
	docs := benchDocs(b)
	var langs []string
	for k := range docs {
		langs = append(langs, k)
	}
	slices.Sort(langs)
	for _, tk := range benchTokenizers(b) {
		for _, lang := range langs {
			ds := docs[lang]
			var bytes int
			for _, d := range ds {
				bytes += len(d)
			}
			b.Run(fmt.Sprintf("%s/%s", strings.TrimSuffix(tk.name, ".json"), lang), func(b *testing.B) {
				c := tk.NewCounter()
				for _, d := range ds {
					c.Count(d)
				}
				b.SetBytes(int64(bytes / len(ds)))
				b.ReportAllocs()
				i, tokens := 0, 0
				start := time.Now()
				for b.Loop() {
					tokens += c.Count(ds[i%len(ds)])
					i++
				}
				b.ReportMetric(float64(i)/time.Since(start).Seconds(), "docs/s")
				b.ReportMetric(float64(bytes)/float64(len(ds))/(float64(tokens)/float64(i)), "bytes/token")
			})
		}
	}
}

// BenchmarkCountCold counts each document with an empty cache: the cost of a document
// whose words were never seen.
func BenchmarkCountCold(b *testing.B) {
	docs := benchDocs(b)
	for _, tk := range benchTokenizers(b) {
		for _, lang := range []string{"gen-yor", "gen-amh"} {
			ds := docs[lang]
			b.Run(fmt.Sprintf("%s/%s", strings.TrimSuffix(tk.name, ".json"), lang), func(b *testing.B) {
				b.SetBytes(int64(len(ds[0])))
				i := 0
				for b.Loop() {
					c := tk.NewCounter()
					c.Count(ds[i%len(ds)])
					i++
				}
			})
		}
	}
}

// BenchmarkLoad parses a tokenizer.json ($SIEVE_TOKENIZERS, else the test files).
func BenchmarkLoad(b *testing.B) {
	paths := []string{"testdata/bytelevel.json", "testdata/sentencepiece.json"}
	if env := os.Getenv("SIEVE_TOKENIZERS"); env != "" {
		paths = strings.Split(env, ",")
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimPrefix(filepath.Base(filepath.Dir(filepath.Dir(p))), "tokenizer-"), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
