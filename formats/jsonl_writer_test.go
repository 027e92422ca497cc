package formats

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/sieve-data/sieve/pipeline"
)

// textLine is one JSONL text record as an outside reader decodes it.
type textLine struct {
	ID        string         `json:"id"`
	Text      string         `json:"text"`
	Lang      string         `json:"lang"`
	Script    string         `json:"script"`
	LangScore float64        `json:"lang_score"`
	Source    string         `json:"source"`
	Metadata  map[string]any `json:"metadata"`
}

type rejectLine struct {
	ID     string `json:"id"`
	Stage  string `json:"stage"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
	File   string `json:"file"`
	Line   int64  `json:"line"`
	Offset int64  `json:"offset"`
	Lang   string `json:"lang"`
	Text   string `json:"text"`
}

func writeJSONL(t testing.TB, shape Shape, compression string, docs []pipeline.Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewJSONLWriter(&buf, shape, compression)
	if err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		if err := w.Write(&docs[i]); err != nil {
			t.Fatalf("Write(%s): %v", docs[i].ID, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if w.Rows() != int64(len(docs)) {
		t.Errorf("Rows() = %d, want %d", w.Rows(), len(docs))
	}
	return buf.Bytes()
}

// jsonlLines decompresses (when zstd) and splits output into lines.
func jsonlLines(t testing.TB, data []byte, compressed bool) [][]byte {
	t.Helper()
	var r io.Reader = bytes.NewReader(data)
	if compressed {
		zr, err := zstd.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decompress: %v", err)
	}
	if len(plain) > 0 && plain[len(plain)-1] != '\n' {
		t.Fatalf("output does not end with a newline")
	}
	return bytes.Split(bytes.TrimSuffix(plain, []byte("\n")), []byte("\n"))
}

func TestJSONLWriterRoundTrip(t *testing.T) {
	docs := testDocs(103)
	for _, compression := range []string{"none", "zstd"} {
		t.Run(compression, func(t *testing.T) {
			data := writeJSONL(t, TextShape(), compression, docs)
			if compression == "zstd" && !bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
				t.Fatalf("zstd output lacks the zstd magic")
			}
			lines := jsonlLines(t, data, compression == "zstd")
			if len(lines) != len(docs) {
				t.Fatalf("%d lines, want %d", len(lines), len(docs))
			}
			for i, line := range lines {
				d := &docs[i]
				var got textLine
				if err := json.Unmarshal(line, &got); err != nil {
					t.Fatalf("line %d: %v: %s", i+1, err, line)
				}
				want := textLine{d.ID, d.Text, DatasetLang(d), d.Script, d.LangScore, d.Origin.File, nil}
				gotMeta := got.Metadata
				got.Metadata = nil
				if !reflect.DeepEqual(got, want) {
					t.Errorf("line %d = %+v, want %+v", i+1, got, want)
				}
				// metadata is a nested object holding exactly doc.Meta's canonical JSON
				var raw struct{ Metadata json.RawMessage }
				if err := json.Unmarshal(line, &raw); err != nil {
					t.Fatal(err)
				}
				if string(raw.Metadata) != metaJSON(t, d.Meta) {
					t.Errorf("line %d metadata = %s, want %s", i+1, raw.Metadata, metaJSON(t, d.Meta))
				}
				if gotMeta == nil {
					t.Errorf("line %d: metadata decoded as null, want an object", i+1)
				}
			}
		})
	}
}

func TestJSONLWriterMatchesEncodingJSONByteForByte(t *testing.T) {
	docs := testDocs(40)
	lines := jsonlLines(t, writeJSONL(t, TextShape(), "none", docs), false)
	for i, line := range lines {
		d := &docs[i]
		meta := d.Meta
		if meta == nil {
			meta = map[string]any{}
		}
		// a struct in schema order, encoded by encoding/json without HTML escaping
		want := struct {
			ID        string         `json:"id"`
			Text      string         `json:"text"`
			Lang      string         `json:"lang"`
			Script    string         `json:"script"`
			LangScore float64        `json:"lang_score"`
			Source    string         `json:"source"`
			Metadata  map[string]any `json:"metadata"`
		}{d.ID, d.Text, DatasetLang(d), d.Script, d.LangScore, d.Origin.File, meta}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(want); err != nil {
			t.Fatal(err)
		}
		if got := string(line) + "\n"; got != b.String() {
			t.Errorf("line %d:\ngot  %s\nwant %s", i+1, got, b.String())
		}
	}
}

func TestJSONLWriterDeterministic(t *testing.T) {
	docs := testDocs(500)
	for _, d := range docs[:50] { // many keys: map iteration order differs between runs
		for k := 0; k < 30; k++ {
			if d.Meta == nil {
				continue
			}
			d.Meta[strings.Repeat("k", k%7)+string(rune('a'+k))] = float64(k)
		}
	}
	for _, compression := range []string{"none", "zstd"} {
		a := writeJSONL(t, TextShape(), compression, docs)
		b := writeJSONL(t, TextShape(), compression, docs)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two writes of the same documents differ", compression)
		}
	}
}

func TestJSONLRejectShape(t *testing.T) {
	docs := testDocs(12)
	for i := range docs {
		docs[i].Reject("length", "length.too_short", "12 chars < min 50 \"quoted\"")
	}
	lines := jsonlLines(t, writeJSONL(t, RejectShape(), "zstd", docs), true)
	if len(lines) != len(docs) {
		t.Fatalf("%d lines, want %d", len(lines), len(docs))
	}
	for i, line := range lines {
		d := &docs[i]
		var got rejectLine
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		want := rejectLine{d.ID, "length", "length.too_short", d.Rejected.Detail, d.Origin.File, d.Origin.Line, d.Origin.Offset, d.Lang, d.Text}
		if got != want {
			t.Errorf("line %d = %+v, want %+v", i+1, got, want)
		}
	}
}

func TestJSONLWriterDocumentErrorsLeaveOutputIntact(t *testing.T) {
	docs := testDocs(3)
	bad := []pipeline.Document{
		{ID: "nan-score", Text: "x", LangScore: math.NaN()},
		{ID: "nan-meta", Text: "x", Meta: map[string]any{"v": math.Inf(1)}},
	}
	var buf bytes.Buffer
	w, err := NewJSONLWriter(&buf, TextShape(), "none")
	if err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		if err := w.Write(&docs[i]); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			for j := range bad {
				err := w.Write(&bad[j])
				if err == nil || !strings.Contains(err.Error(), bad[j].ID) {
					t.Errorf("Write(%s) error = %v, want one naming the document", bad[j].ID, err)
				}
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if want := string(writeJSONL(t, TextShape(), "none", docs)); buf.String() != want {
		t.Errorf("output after rejected writes differs from output without them")
	}
	if err := w.Write(&docs[0]); err == nil {
		t.Errorf("Write after Close succeeded")
	}
}

func TestJSONLWriterBadCompression(t *testing.T) {
	for _, c := range []string{"gzip", "snappy", "zst"} {
		if _, err := NewJSONLWriter(io.Discard, TextShape(), c); err == nil {
			t.Errorf("compression %q accepted", c)
		}
	}
}

type failingWriter struct{ after int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.after -= len(p); f.after < 0 {
		return 0, io.ErrShortWrite
	}
	return len(p), nil
}

func TestJSONLWriterIOErrorIsSticky(t *testing.T) {
	docs := testDocs(2000)
	w, err := NewJSONLWriter(&failingWriter{after: 1000}, TextShape(), "none")
	if err != nil {
		t.Fatal(err)
	}
	var firstErr error
	for i := range docs {
		if err := w.Write(&docs[i]); err != nil {
			firstErr = err
			break
		}
	}
	if firstErr == nil {
		firstErr = w.Close()
	}
	if firstErr == nil {
		t.Fatal("no error from a failing writer")
	}
	if err := w.Close(); err == nil {
		t.Errorf("Close after an I/O error returned nil")
	}
}

func TestJSONLWriterReusedEncoderWritesSameBytes(t *testing.T) {
	docs := testDocs(400)
	first, second := docs[:150], docs[150:]
	var a bytes.Buffer
	w, err := NewJSONLWriter(&a, TextShape(), "zstd")
	if err != nil {
		t.Fatal(err)
	}
	for i := range first {
		if err := w.Write(&first[i]); err != nil {
			t.Fatal(err)
		}
	}
	if w.takeEncoder() != nil {
		t.Fatal("an open writer handed over its encoder")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	zw := w.takeEncoder()
	if zw == nil {
		t.Fatal("no encoder from a closed writer")
	}
	var b bytes.Buffer
	w2, err := newJSONLWriter(&b, TextShape(), "zstd", zw)
	if err != nil {
		t.Fatal(err)
	}
	for i := range second {
		if err := w2.Write(&second[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if want := writeJSONL(t, TextShape(), "zstd", second); !bytes.Equal(b.Bytes(), want) {
		t.Error("a reused encoder writes other bytes than a new one")
	}
	if want := writeJSONL(t, TextShape(), "zstd", first); !bytes.Equal(a.Bytes(), want) {
		t.Error("handing the encoder over changed the first stream")
	}
}

// benchDocs returns documents of about 1 KB of text each, and their total text bytes. The
// text is words of the test sentences in a seeded random order, so that it compresses
// about as well as natural text rather than as a repeated sentence would.
func benchDocs(n int) ([]pipeline.Document, int64) {
	var vocab []string
	for _, s := range sentences {
		vocab = append(vocab, strings.Fields(s.text)...)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	docs := testDocs(n)
	var total int64
	for i := range docs {
		var b strings.Builder
		for b.Len() < 1024 {
			b.WriteString(vocab[rng.IntN(len(vocab))])
			b.WriteByte(' ')
		}
		docs[i].Text = b.String()
		total += int64(len(docs[i].Text))
	}
	return docs, total
}

func BenchmarkJSONLWriter(b *testing.B) {
	docs, total := benchDocs(8192) // 8 MB of distinct text: no free matches for zstd
	for _, compression := range []string{"none", "zstd"} {
		b.Run(compression, func(b *testing.B) {
			w, err := NewJSONLWriter(bufio.NewWriter(io.Discard), TextShape(), compression)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(total / int64(len(docs)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := w.Write(&docs[i%len(docs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

func TestJSONLWriterEmptyOutput(t *testing.T) {
	if got := writeJSONL(t, TextShape(), "none", nil); len(got) != 0 {
		t.Errorf("uncompressed, no documents: %d bytes", len(got))
	}
	// a complete zstd frame, so that every decompressor accepts the file
	got := writeJSONL(t, TextShape(), "zstd", nil)
	if !bytes.HasPrefix(got, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		t.Fatalf("zstd, no documents: %x, want a zstd frame", got)
	}
	zr, err := zstd.NewReader(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if plain, err := io.ReadAll(zr); err != nil || len(plain) != 0 {
		t.Errorf("decompressed %q, %v", plain, err)
	}
}
