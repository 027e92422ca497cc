package formats

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sieve-data/sieve/pipeline"
)

func textInput(mode string, mod func(*pipeline.Input)) *pipeline.Input {
	in := pipeline.DefaultInput()
	in.Path, in.Format, in.TextMode = "unused", "text", mode
	if mod != nil {
		mod(&in)
	}
	return &in
}

func readText(t testing.TB, path string, in *pipeline.Input) ([]pipeline.Document, error) {
	t.Helper()
	r, err := NewTextReader(path, in)
	if err != nil {
		t.Fatal(err)
	}
	return readDocs(t, r)
}

type wantDoc struct {
	id   string
	text string
	line int64
	off  int64
}

func TestTextReaderModes(t *testing.T) {
	content := "\ufeffSiku njema.\r\nHabari gani?\n\n  \t\nMolo, unjani?\n\u3000\u00a0\nIsiZulu sihle.\r\n\r\nKwaheri" // no final newline
	off := func(s string) int64 { return int64(strings.Index(content, s)) }
	tests := []struct {
		mode string
		want []wantDoc
	}{
		{"line", []wantDoc{
			{"t.txt:1", "Siku njema.", 1, 0},
			{"t.txt:2", "Habari gani?", 2, off("Habari")},
			{"t.txt:5", "Molo, unjani?", 5, off("Molo")},
			{"t.txt:7", "IsiZulu sihle.", 7, off("IsiZulu")},
			{"t.txt:9", "Kwaheri", 9, off("Kwaheri")},
		}},
		{"paragraph", []wantDoc{
			{"t.txt:1", "Siku njema.\nHabari gani?", 1, 0},
			{"t.txt:5", "Molo, unjani?", 5, off("Molo")},
			{"t.txt:7", "IsiZulu sihle.", 7, off("IsiZulu")},
			{"t.txt:9", "Kwaheri", 9, off("Kwaheri")},
		}},
		{"file", []wantDoc{
			{"t.txt", strings.TrimPrefix(content, "\ufeff"), 1, 0},
		}},
	}
	path := writeFile(t, t.TempDir(), "t.txt", []byte(content))
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			docs, err := readText(t, path, textInput(tt.mode, nil))
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != len(tt.want) {
				t.Fatalf("got %d docs, want %d: %+v", len(docs), len(tt.want), docs)
			}
			for i, d := range docs {
				w := tt.want[i]
				wantPos := pipeline.Position{File: path, Line: w.line, Offset: w.off}
				if d.IsRejected() || d.ID != w.id || d.Text != w.text || d.Origin != wantPos {
					t.Errorf("doc %d = %q %q %+v rejected %v; want %q %q %+v", i, d.ID, d.Text, d.Origin, d.Rejected, w.id, w.text, wantPos)
				}
			}
		})
	}
}

func TestTextReaderEmptyAndBlankFiles(t *testing.T) {
	dir := t.TempDir()
	for _, give := range []string{"", "\n\n", " \t\r\n\u3000\n", "\ufeff"} {
		path := writeFile(t, dir, "blank.txt", []byte(give))
		for _, mode := range []string{"line", "paragraph", "file"} {
			docs, err := readText(t, path, textInput(mode, nil))
			if err != nil || len(docs) != 0 {
				t.Errorf("%q, %s: %d docs, %v; want none", give, mode, len(docs), err)
			}
		}
	}
}

func TestTextReaderBadInput(t *testing.T) {
	long := strings.Repeat("Ẹ̀kọ́ ", 300) // 3600 bytes
	tests := []struct {
		name       string
		mode       string
		give       string
		wantDocs   int // documents, the bad one included
		wantIdx    int // index of the bad one
		wantLine   int64
		wantReason string
		wantDetail string
	}{
		{"line: invalid UTF-8", "line", "Sawubona\ncaf\xe9 au lait\nSalibonani\n", 3, 1, 2, ReasonInvalidUTF8, "invalid UTF-8 at byte 3 of the record"},
		{"paragraph: invalid UTF-8", "paragraph", "Sawubona\n\nok\nbad \xff\n\nSalibonani\n", 3, 1, 3, ReasonInvalidUTF8, "invalid UTF-8 at byte 7 of the record"},
		{"file: invalid UTF-8", "file", "one\ntwo \xc3\x28\n", 1, 0, 1, ReasonInvalidUTF8, "invalid UTF-8 at byte 8 of the record"},
		{"line: too large", "line", "short\n" + long + "\nafter\n", 3, 1, 2, ReasonRecordTooLarge, fmt.Sprintf("line of %d bytes exceeds max_record_bytes 2048", len(long))},
		{"paragraph: too large", "paragraph", "short\n\n" + long[:1500] + "\n" + long[:1500] + "\n\nafter\n", 3, 1, 3, ReasonRecordTooLarge, "paragraph of 3001 bytes exceeds max_record_bytes 2048"},
		{"paragraph: one line too large", "paragraph", "a\n" + long + "\nb\n\nafter", 2, 0, 1, ReasonRecordTooLarge, fmt.Sprintf("paragraph of %d bytes exceeds max_record_bytes 2048", 1+1+len(long)+1+1)},
		{"file: too large", "file", long, 1, 0, 1, ReasonRecordTooLarge, "file holds more than max_record_bytes 2048 bytes"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, fmt.Sprintf("bad%d.txt", i), []byte(tt.give))
			in := textInput(tt.mode, func(in *pipeline.Input) { in.MaxRecordBytes = 2048 })
			docs, err := readText(t, path, in)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != tt.wantDocs {
				t.Fatalf("got %d docs, want %d: %+v", len(docs), tt.wantDocs, docs)
			}
			for j, d := range docs {
				if j != tt.wantIdx && d.IsRejected() {
					t.Errorf("doc %d rejected: %+v", j, d.Rejected)
				}
			}
			d := docs[tt.wantIdx]
			if d.Rejected.Reason != tt.wantReason || d.Rejected.Stage != Stage || !strings.Contains(d.Rejected.Detail, tt.wantDetail) {
				t.Errorf("Rejected = %+v, want %s with %q", d.Rejected, tt.wantReason, tt.wantDetail)
			}
			if d.Origin.Line != tt.wantLine || d.Origin.File != path || !utf8.ValidString(d.Text) {
				t.Errorf("Origin = %+v, want line %d; text valid %v", d.Origin, tt.wantLine, utf8.ValidString(d.Text))
			}

			in.OnError = "fail"
			docs, err = readText(t, path, in)
			var re *ReadError
			wantMsg := fmt.Sprintf("%s:%d (byte %d): %s: ", path, tt.wantLine, d.Origin.Offset, tt.wantReason)
			if !errors.As(err, &re) || re.Reason != tt.wantReason || len(docs) != tt.wantIdx || !strings.HasPrefix(err.Error(), wantMsg) {
				t.Errorf("on_error fail: %d docs, err %v; want %d docs and %q", len(docs), err, tt.wantIdx, wantMsg)
			}
		})
	}
}

func TestTextReaderTruncated(t *testing.T) {
	var b strings.Builder
	for i := range 30000 {
		fmt.Fprintf(&b, "Ìlà %d: àwọn ọmọdé ń ṣeré %d\n", i, i*31)
		if i%3 == 2 {
			b.WriteString("\n")
		}
	}
	content := []byte(b.String())
	gz, zs := gzipBytes(t, content), zstdBytes(t, content)
	dir := t.TempDir()
	for _, c := range []struct {
		codec string
		data  []byte
	}{{"gzip", gz[:len(gz)/2]}, {"zstd", zs[:len(zs)/2]}} {
		for _, mode := range []string{"line", "paragraph", "file"} {
			t.Run(c.codec+"/"+mode, func(t *testing.T) {
				path := writeFile(t, dir, "t."+c.codec, c.data)
				docs, err := readText(t, path, textInput(mode, nil))
				if err != nil {
					t.Fatal(err)
				}
				last := docs[len(docs)-1]
				for _, d := range docs[:len(docs)-1] {
					if o := d.Origin.Offset; d.IsRejected() || !bytes.HasPrefix(content[o:], []byte(d.Text)) {
						t.Fatalf("doc before the break: %+v", d)
					}
				}
				if last.Rejected.Reason != ReasonTruncated || last.Origin.Offset <= 0 || last.Origin.Offset >= int64(len(content)) {
					t.Fatalf("last doc = %+v, want %s with the offset of the break", last, ReasonTruncated)
				}
				if mode == "file" && (len(docs) != 1 || last.ID != "t."+c.codec) {
					t.Errorf("file mode: %d docs, id %q", len(docs), last.ID)
				}
				if mode == "line" {
					// The line of the break: the last good line's number + 1, blank lines counted.
					wantLine := int64(1)
					if len(docs) > 1 {
						prev := docs[len(docs)-2].Origin
						wantLine = prev.Line + 1 + int64(bytes.Count(content[prev.Offset:last.Origin.Offset], []byte("\n"))) - 1
					}
					if last.Origin.Line != wantLine {
						t.Errorf("truncated at line %d, want %d", last.Origin.Line, wantLine)
					}
				}
				_, err = readText(t, path, textInput(mode, func(in *pipeline.Input) { in.OnError = "fail" }))
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path+":") {
					t.Errorf("on_error fail: err = %v", err)
				}
			})
		}
	}
}

func TestTextReaderConfigErrors(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "a.txt", []byte("x"))
	if _, err := NewTextReader(path, textInput("sentence", nil)); err == nil || !strings.Contains(err.Error(), `text_mode "sentence": must be one of file, line, paragraph`) {
		t.Errorf("bad mode: err = %v", err)
	}
	missing := filepath.Join(dir, "absent.txt")
	if _, err := NewTextReader(missing, textInput("line", nil)); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: err = %v", err)
	}
}

// textRecords counts the records of content independently of the reader, with the rules the
// reader documents, and returns what each should hold ("" text for a record that is too large).
func textRecords(content []byte, mode string, max int) (texts []string, tooLarge []bool) {
	isBlank := func(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }
	if mode == "file" {
		if len(content) > max {
			return []string{""}, []bool{true}
		}
		content = bytes.TrimPrefix(content, []byte("\ufeff"))
		if isBlank(content) {
			return nil, nil
		}
		return []string{string(content)}, []bool{false}
	}
	var para []string
	paraSize, paraBig := -1, false
	flush := func() {
		if para != nil {
			texts = append(texts, strings.Join(para, "\n"))
			tooLarge = append(tooLarge, paraBig || paraSize > max)
		}
		para, paraSize, paraBig = nil, -1, false
	}
	for i, l := range splitRecords(content) {
		big := len(l) > max
		if i == 0 {
			l = bytes.TrimPrefix(l, []byte("\ufeff"))
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		if !big && isBlank(l) {
			if mode == "paragraph" {
				flush()
			}
			continue
		}
		if mode == "line" {
			texts, tooLarge = append(texts, string(l)), append(tooLarge, big)
			continue
		}
		para = append(para, string(l))
		paraSize += 1 + len(l)
		paraBig = paraBig || big
	}
	flush()
	return texts, tooLarge
}

func FuzzTextReader(f *testing.F) {
	seeds := []string{
		"Siku njema.\r\nHabari gani?\n\n  \t\nMolo\n\u3000\u00a0\nIsiZulu\r\n\r\nKwaheri",
		"\ufeffa\n\nb\xff\n",
		strings.Repeat("ọ̀rọ̀ ", 100) + "\n\n" + strings.Repeat("x", 300),
		"\n\n\n",
		"",
	}
	for _, s := range seeds {
		for mode := range uint8(3) {
			f.Add([]byte(s), mode, uint16(200), uint8(0))
		}
	}
	f.Fuzz(func(t *testing.T, content []byte, modeN uint8, maxRec uint16, bufShift uint8) {
		mode := []string{"line", "paragraph", "file"}[modeN%3]
		max := 16 + int(maxRec)
		bufSize := 16 << (bufShift % 15)
		in := textInput(mode, func(in *pipeline.Input) { in.MaxRecordBytes = max })
		file, err := newFile("fuzz.txt", bytes.NewReader(content), nil, int64(len(content)))
		if err != nil {
			return // unsupported compression
		}
		docs, err := readDocs(t, newTextReader(file, in, bufSize))
		if err != nil {
			t.Fatalf("error with on_error reject: %v", err)
		}
		for _, d := range docs {
			if d.IsRejected() && (d.Rejected.Stage != Stage || !strings.HasPrefix(d.Rejected.Reason, "read.")) {
				t.Fatalf("bad rejection %+v", d.Rejected)
			}
			if !utf8.ValidString(d.Text) || d.ID == "" {
				t.Fatalf("doc with text %q id %q", d.Text, d.ID)
			}
		}
		if isCompressed(content) {
			return
		}
		texts, tooLarge := textRecords(content, mode, max)
		if len(docs) != len(texts) {
			t.Fatalf("%s: %d records, %d documents", mode, len(texts), len(docs))
		}
		for i, d := range docs {
			switch {
			case tooLarge[i]:
				if d.Rejected.Reason != ReasonRecordTooLarge {
					t.Fatalf("record %d: got %+v, want %s", i, d.Rejected, ReasonRecordTooLarge)
				}
			case !utf8.ValidString(texts[i]):
				if d.Rejected.Reason != ReasonInvalidUTF8 {
					t.Fatalf("record %d: got %+v, want %s", i, d.Rejected, ReasonInvalidUTF8)
				}
			default:
				if d.IsRejected() || d.Text != texts[i] {
					t.Fatalf("record %d: got %q %+v, want %q", i, d.Text, d.Rejected, texts[i])
				}
			}
		}
	})
}

func BenchmarkTextReader(b *testing.B) {
	// About 1 KB per line, paragraphs of three lines.
	var content bytes.Buffer
	words := strings.Fields("Ẹ káàárọ̀ Habari ya asubuhi Bore da Kaixo mundua Góðan daginn Sawubona Magandang umaga " +
		"ọjọ́ ilé ẹ̀kọ́ shule kitabu llyfr liburua bók incwadi aklat")
	var lines int
	for content.Len() < 32<<20 {
		n := 0
		for i := lines; n < 1000; i++ {
			w := words[(i*7+n)%len(words)]
			content.WriteString(w)
			content.WriteByte(' ')
			n += len(w) + 1
		}
		content.WriteByte('\n')
		if lines++; lines%3 == 0 {
			content.WriteByte('\n')
		}
	}
	path := writeFile(b, b.TempDir(), "bench.txt", content.Bytes())
	for _, mode := range []string{"line", "paragraph"} {
		b.Run(mode, func(b *testing.B) {
			in := textInput(mode, nil)
			b.SetBytes(int64(content.Len()))
			b.ReportAllocs()
			var doc pipeline.Document
			for b.Loop() {
				r, err := NewTextReader(path, in)
				if err != nil {
					b.Fatal(err)
				}
				for {
					doc = pipeline.Document{}
					err := r.Next(b.Context(), &doc)
					if err == io.EOF {
						break
					}
					if err != nil || doc.IsRejected() {
						b.Fatal(err, doc.Rejected)
					}
				}
				r.Close()
			}
		})
	}
}
