package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/text/unicode/norm"
)

type truthRec struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	DupOf   string `json:"dup_of"`
	Lang    string `json:"lang"`
	Variant string `json:"variant"`
	Edits   int    `json:"edits"`
}

type docRec struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

func generate(t testing.TB, cfg Config) (corpus, truth []byte, sum Summary) {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var c, tr bytes.Buffer
	sum, err = g.Write(&c, &tr)
	if err != nil {
		t.Fatal(err)
	}
	return c.Bytes(), tr.Bytes(), sum
}

func TestDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Docs = 3000
	cfg.DocBytes = 300
	c1, t1, _ := generate(t, cfg)
	c2, t2, _ := generate(t, cfg)
	if !bytes.Equal(c1, c2) || !bytes.Equal(t1, t2) {
		t.Fatal("same seed gave different bytes")
	}
	cfg.Seed = 2
	c3, _, _ := generate(t, cfg)
	if bytes.Equal(c1, c3) {
		t.Fatal("seeds 1 and 2 gave the same corpus")
	}
}

// TestCommandDeterministic runs the command twice to zstd files and compares them byte for byte.
func TestCommandDeterministic(t *testing.T) {
	dir := t.TempDir()
	var files [2][]byte
	for k := range files {
		out := filepath.Join(dir, "c"+string(rune('0'+k))+".jsonl.zst")
		args := []string{"-size", "300KB", "-seed", "7", "-out", out, "-truth", out + ".truth.jsonl", "-quiet"}
		if err := run(args, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		files[k] = b
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatal("two runs with the same seed wrote different .zst files")
	}
	zr, err := zstd.NewReader(bytes.NewReader(files[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) < 300_000 {
		t.Fatalf("decompressed %d bytes, want at least 300000", len(plain))
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 4 {
		t.Fatalf("want 2 corpora and 2 truth files in %s, found %d entries (temporary files left?)", dir, len(ents))
	}
}

func TestSizeReached(t *testing.T) {
	for _, size := range []int64{1, 5000, 123_457, 1 << 20} {
		cfg := DefaultConfig()
		cfg.Docs, cfg.Bytes = 0, size
		c, _, sum := generate(t, cfg)
		if int64(len(c)) != sum.Bytes {
			t.Errorf("size %d: Summary.Bytes = %d, wrote %d", size, sum.Bytes, len(c))
		}
		last := c[bytes.LastIndexByte(c[:len(c)-1], '\n')+1:]
		if int64(len(c)) < size || int64(len(c)-len(last)) >= size {
			t.Errorf("size %d: wrote %d bytes, %d before the last line: want the first line that reaches the size", size, len(c), len(c)-len(last))
		}
	}
	cfg := DefaultConfig()
	cfg.Docs = 777
	c, _, sum := generate(t, cfg)
	if n := bytes.Count(c, []byte{'\n'}); n != 777 || sum.Docs != 777 {
		t.Errorf("Docs 777: wrote %d lines, Summary.Docs %d", n, sum.Docs)
	}
}

// TestPlanted checks the shares of each kind and that every planted record is what the truth
// file says it is.
func TestPlanted(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Docs = 20000
	cfg.DocBytes = 200
	cfg.DupShare, cfg.NearShare, cfg.JunkShare = 0.05, 0.03, 0.02
	c, tr, sum := generate(t, cfg)
	docs := parseLines[docRec](t, c)
	truth := parseLines[truthRec](t, tr)
	if len(docs) != 20000 || len(truth) != 20000 {
		t.Fatalf("%d docs, %d truth records, want 20000", len(docs), len(truth))
	}
	byID := map[string]int{}
	counts := map[string]int{}
	origText := map[string]string{}
	for i, d := range docs {
		tt := truth[i]
		if d.ID != tt.ID {
			t.Fatalf("line %d: doc id %s, truth id %s", i+1, d.ID, tt.ID)
		}
		byID[d.ID] = i
		counts[tt.Kind]++
		switch tt.Kind {
		case "original":
			if !norm.NFC.IsNormalString(d.Text) {
				t.Errorf("%s: text not NFC", d.ID)
			}
			if prev, dup := origText[d.Text]; dup {
				t.Errorf("%s: original has the same text as %s", d.ID, prev)
			}
			origText[d.Text] = d.ID
		case "exact_dup", "near_dup":
			j, ok := byID[tt.DupOf]
			if !ok || truth[j].Kind != "original" {
				t.Fatalf("%s: dup_of %q is not an earlier original", d.ID, tt.DupOf)
			}
			if tt.Lang != truth[j].Lang {
				t.Errorf("%s: lang %s, its original's %s", d.ID, tt.Lang, truth[j].Lang)
			}
			orig := docs[j].Text
			if tt.Kind == "near_dup" {
				if d.Text == orig {
					t.Errorf("%s: near duplicate identical to %s", d.ID, tt.DupOf)
				}
				if s := jaccard(d.Text, orig); s < 0.75 {
					t.Errorf("%s: word Jaccard %.2f with %s, want >= 0.75 (%d edits)", d.ID, s, tt.DupOf, tt.Edits)
				}
				break
			}
			switch tt.Variant {
			case "identical":
				if d.Text != orig {
					t.Errorf("%s: text differs from %s", d.ID, tt.DupOf)
				}
			case "whitespace":
				if d.Text == orig || strings.Join(strings.Fields(d.Text), " ") != strings.Join(strings.Fields(orig), " ") {
					t.Errorf("%s: not a white-space variant of %s", d.ID, tt.DupOf)
				}
			case "case":
				if strings.ToLower(d.Text) != strings.ToLower(orig) {
					t.Errorf("%s: not a case variant of %s", d.ID, tt.DupOf)
				}
			default:
				t.Errorf("%s: unknown variant %q", d.ID, tt.Variant)
			}
		case "junk":
			if tt.Variant == "" {
				t.Errorf("%s: junk without variant", d.ID)
			}
		default:
			t.Errorf("%s: unknown kind %q", d.ID, tt.Kind)
		}
	}
	want := map[string]float64{"exact_dup": cfg.DupShare, "near_dup": cfg.NearShare, "junk": cfg.JunkShare,
		"original": 1 - cfg.DupShare - cfg.NearShare - cfg.JunkShare}
	for kind, share := range want {
		got := float64(counts[kind]) / float64(len(docs))
		if got < share-0.006 || got > share+0.006 {
			t.Errorf("%s: share %.4f, want %.2f ± 0.006", kind, got, share)
		}
	}
	if sum.Kinds[ExactDup] != int64(counts["exact_dup"]) || sum.Kinds[Junk] != int64(counts["junk"]) {
		t.Errorf("Summary.Kinds %v disagrees with the truth file %v", sum.Kinds, counts)
	}
}

func TestNoPlanting(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Docs = 500
	cfg.DupShare, cfg.NearShare, cfg.JunkShare = 0, 0, 0
	_, _, sum := generate(t, cfg)
	if sum.Kinds[Original] != 500 {
		t.Fatalf("shares 0: %v, want 500 originals", sum.Kinds)
	}
}

func TestLangs(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Docs = 300
	cfg.Langs = []string{"yor", "amh"}
	_, tr, _ := generate(t, cfg)
	for _, r := range parseLines[truthRec](t, tr) {
		if r.Lang != "" && r.Lang != "yor_Latn" && r.Lang != "amh_Ethi" {
			t.Fatalf("%s: lang %s, want yor_Latn or amh_Ethi", r.ID, r.Lang)
		}
	}
	cfg.Langs = []string{"xxx"}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), `"xxx"`) {
		t.Fatalf("unknown language: err = %v", err)
	}
}

func TestWordLists(t *testing.T) {
	langs, err := loadLanguages()
	if err != nil {
		t.Fatal(err)
	}
	if len(langs) < 10 {
		t.Fatalf("%d word lists, want at least 10", len(langs))
	}
	for _, l := range langs {
		if len(l.words) < 280 {
			t.Errorf("%s: %d words, want about 300", l.code, len(l.words))
		}
	}
	for _, tt := range []struct {
		give    string
		wantErr string
	}{
		{give: strings.Repeat("a ", 300), wantErr: `"a" already on line 1`},
		{give: "# only a comment\nword", wantErr: "1 words, want 250 to 65536"},
		{give: "e\u0301", wantErr: "not NFC"},
		{give: `say"`, wantErr: "quote"},
	} {
		if _, err := parseWordList("xx", tt.give); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("parseWordList(%.20q): err = %v, want it to contain %q", tt.give, err, tt.wantErr)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		give      string
		wantBytes int64
		wantDocs  int64
		wantErr   bool
	}{
		{give: "1GB", wantBytes: 1_000_000_000},
		{give: "1.5MB", wantBytes: 1_500_000},
		{give: "2GiB", wantBytes: 2 << 30},
		{give: "64KiB", wantBytes: 65536},
		{give: "12345", wantBytes: 12345},
		{give: "100B", wantBytes: 100},
		{give: "20000docs", wantDocs: 20000},
		{give: "0", wantErr: true},
		{give: "-1GB", wantErr: true},
		{give: "lots", wantErr: true},
		{give: "0docs", wantErr: true},
	} {
		b, d, err := parseSize(tt.give)
		if (err != nil) != tt.wantErr || b != tt.wantBytes || d != tt.wantDocs {
			t.Errorf("parseSize(%q) = %d, %d, %v; want %d, %d, error %v", tt.give, b, d, err, tt.wantBytes, tt.wantDocs, tt.wantErr)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DupShare, cfg.NearShare, cfg.JunkShare = 0.6, 0.5, 0
	cfg.DocBytes = 1
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), "dup + near + junk") || !strings.Contains(err.Error(), "doc-bytes") {
		t.Fatalf("err = %v, want both problems", err)
	}
}

func TestJSONEscaping(t *testing.T) {
	give := "a\"b\\c\nd\te\x01f ẹ̀"
	line := append(appendJSONString([]byte(`"`), []byte(give)), '"')
	var got string
	if err := json.Unmarshal(line, &got); err != nil || got != give {
		t.Fatalf("round trip of %q: %q, %v", give, got, err)
	}
}

func parseLines[T any](t *testing.T, b []byte) []T {
	t.Helper()
	var out []T
	for n, line := range bytes.Split(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\n'}) {
		if !utf8.Valid(line) {
			t.Fatalf("line %d: invalid UTF-8", n+1)
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("line %d: %v: %s", n+1, err, line)
		}
		out = append(out, v)
	}
	return out
}

func jaccard(a, b string) float64 {
	set := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, w := range strings.Fields(s) {
			m[w] = true
		}
		return m
	}
	sa, sb := set(a), set(b)
	inter := 0
	for w := range sa {
		if sb[w] {
			inter++
		}
	}
	return float64(inter) / float64(len(sa)+len(sb)-inter)
}

func BenchmarkGenerate(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Docs = 1000
	g, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	sum, _ := g.Write(io.Discard, nil)
	b.SetBytes(sum.Bytes)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Write(io.Discard, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestZipf checks that word sampling follows the Zipf weights of the ranks.
func TestZipf(t *testing.T) {
	langs, err := loadLanguages()
	if err != nil {
		t.Fatal(err)
	}
	l := langs[0]
	const n = 1_000_000
	r := rand.New(rand.NewPCG(1, 2))
	rank := map[string]int{}
	for i, w := range l.words {
		rank[w] = i
	}
	got := make([]int, len(l.words))
	for range n {
		got[rank[l.word(r.Uint64())]]++
	}
	total := 0.0
	for i := range l.words {
		total += 1 / math.Pow(float64(i)+zipfOffset, zipfExponent)
	}
	for _, i := range []int{0, 1, 2, 10, 50, 100, len(l.words) - 1} {
		want := n / math.Pow(float64(i)+zipfOffset, zipfExponent) / total
		if d := math.Abs(float64(got[i]) - want); d > 0.1*want {
			t.Errorf("%s rank %d (%s): drawn %d times in %d, want %.0f ± 10%%", l.code, i, l.words[i], got[i], n, want)
		}
	}
}

// TestWritesPipeInPlace checks that a device or pipe given as -out is written to, never
// replaced by a renamed temporary file.
func TestWritesPipeInPlace(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	got := make(chan int, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- -1
			return
		}
		defer f.Close()
		n, _ := io.Copy(io.Discard, f)
		got <- int(n)
	}()
	if err := run([]string{"-size", "100docs", "-out", fifo, "-quiet"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if n := <-got; n <= 0 {
		t.Fatalf("read %d bytes from the pipe", n)
	}
	st, err := os.Lstat(fifo)
	if err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("%s is no longer a named pipe: %v, %v", fifo, st.Mode(), err)
	}
}
