package lang

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// sharedData returns the directory of the shared evaluation data (env SIEVE_SHARED_DATA, or
// ../../shared/data from this package, i.e. ../shared/data from the repository root), or ""
// when it is absent.
func sharedData() string {
	for _, dir := range []string{os.Getenv("SIEVE_SHARED_DATA"), filepath.Join("..", "..", "shared", "data")} {
		if dir == "" {
			continue
		}
		if st, err := os.Stat(filepath.Join(dir, "langid", "dev.tsv")); err == nil && !st.IsDir() {
			return dir
		}
	}
	return ""
}

var (
	benchDocsOnce sync.Once
	benchDocsList []string
	benchDocsErr  error
)

// benchDocs returns documents of about 1.4 KB: built from consecutive dev.tsv sentences of
// each of its 51 languages (up to 4 per language) when the shared data is present, else the
// paragraphs of testdata/docs.tsv.
func benchDocs(tb testing.TB) []string {
	benchDocsOnce.Do(func() {
		if dir := sharedData(); dir != "" {
			benchDocsList, benchDocsErr = docsFromLabelled(filepath.Join(dir, "langid", "dev.tsv"), 1400, 4)
			return
		}
		benchDocsList, benchDocsErr = docsFromLabelled(filepath.Join("testdata", "docs.tsv"), 1<<20, 1)
	})
	if benchDocsErr != nil {
		tb.Fatal(benchDocsErr)
	}
	return benchDocsList
}

// docsFromLabelled joins consecutive texts of the same label into documents of at most size
// bytes (and more than size*3/4), at most perLang per label.
func docsFromLabelled(path string, size, perLang int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ex, err := ReadLabelled(f, path)
	if err != nil {
		return nil, err
	}
	var docs []string
	var b strings.Builder
	cur, n := "", 0
	flush := func() {
		if b.Len() > size*3/4 || size >= 1<<20 {
			docs = append(docs, b.String())
			n++
		}
		b.Reset()
	}
	for _, e := range ex {
		if e.Gold != cur {
			flush()
			cur, n = e.Gold, 0
		}
		if n >= perLang {
			continue
		}
		if b.Len() > 0 && b.Len()+1+len(e.Text) > size {
			flush()
			if n >= perLang {
				continue
			}
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.Text)
	}
	flush()
	return docs, nil
}

var (
	benchIDOnce sync.Once
	benchID     *Identifier
	benchPlain  func(string) string
)

// benchIdentifier is the default configuration: lingua with every language, the open-set
// check, a 300-character sample. The documents' models are loaded before timing.
func benchIdentifier(b *testing.B) *Identifier {
	benchIDOnce.Do(func() {
		l, err := NewLingua(LinguaOptions{})
		if err != nil {
			b.Fatal(err)
		}
		o := DefaultOpenSet()
		benchID = NewIdentifier(l, IdentifierOptions{OpenSet: &o})
		for _, d := range benchDocs(b) {
			benchID.Identify(d)
		}
	})
	return benchID
}

func setDocBytes(b *testing.B, docs []string) {
	var n int64
	for _, d := range docs {
		n += int64(len(d))
	}
	b.SetBytes(n / int64(len(docs)))
}

// BenchmarkIdentify: sieve's lingua backend on 1.4 KB documents, one goroutine. Compare with
// BenchmarkPlainLingua (go test ./lang -run X -bench 'Identify|PlainLingua' -benchtime 200x).
func BenchmarkIdentify(b *testing.B) {
	docs := benchDocs(b)
	id := benchIdentifier(b)
	setDocBytes(b, docs)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id.Identify(docs[i%len(docs)])
		i++
	}
}

// BenchmarkIdentifyParallel runs one Identifier from GOMAXPROCS goroutines: run it with
// -cpu 1,2 to check that workers scale.
func BenchmarkIdentifyParallel(b *testing.B) {
	docs := benchDocs(b)
	id := benchIdentifier(b)
	setDocBytes(b, docs)
	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id.Identify(docs[int(next.Add(1))%len(docs)])
		}
	})
}

// BenchmarkPlainLingua: lingua-go as it comes, DetectLanguageOf on the whole document with
// every language preloaded (about 15 s and 2 GB before timing starts).
func BenchmarkPlainLingua(b *testing.B) {
	docs := benchDocs(b)
	if benchPlain == nil {
		p, err := PlainLingua(nil)
		if err != nil {
			b.Fatal(err)
		}
		benchPlain = p
	}
	setDocBytes(b, docs)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		benchPlain(docs[i%len(docs)])
		i++
	}
}

// BenchmarkLinguaPredict is the backend alone on the sample Identify would classify.
func BenchmarkLinguaPredict(b *testing.B) {
	docs := benchDocs(b)
	id := benchIdentifier(b)
	samples := make([]string, len(docs))
	for i, d := range docs {
		samples[i] = Sample(d, DefaultSampleChars)
	}
	buf := make([]Prediction, 0, 16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf = id.Backend().Predict(samples[i%len(samples)], 5, buf[:0])
		i++
	}
}
