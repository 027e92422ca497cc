package lang

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
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
