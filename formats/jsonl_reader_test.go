package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sieve-data/sieve/pipeline"
)

func jsonlInput(mod func(*pipeline.Input)) *pipeline.Input {
	in := pipeline.DefaultInput()
	in.Path = "unused"
	if mod != nil {
		mod(&in)
	}
	return &in
}

func readJSONL(t testing.TB, path string, in *pipeline.Input) ([]pipeline.Document, error) {
	t.Helper()
	r, err := NewJSONLReader(path, in)
	if err != nil {
		t.Fatal(err)
	}
	return readDocs(t, r)
}

func TestJSONLReader(t *testing.T) {
	tests := []struct {
		name     string
		give     string
		in       func(*pipeline.Input)
		wantID   string
		wantText string
		wantMeta map[string]any
	}{
		{
			name:     "id, text and metadata of every JSON type",
			give:     `{"id":"yo-1","text":"Ẹ káàárọ̀, ṣé dáadáa ni?","lang":"yor","n":3,"f":-1.5e3,"ok":true,"tags":["a",1,null],"src":{"url":"http://x"},"nil":null}`,
			wantID:   "yo-1",
			wantText: "Ẹ káàárọ̀, ṣé dáadáa ni?",
			wantMeta: map[string]any{"lang": "yor", "n": json.Number("3"), "f": json.Number("-1.5e3"), "ok": true,
				"tags": []any{"a", json.Number("1"), nil}, "src": map[string]any{"url": "http://x"}, "nil": nil},
		},
		{
			name:     "numeric id kept as written",
			give:     `{"text":"Habari","id":12345678901234567890}`,
			wantID:   "12345678901234567890",
			wantText: "Habari",
		},
		{
			name:     "no id field",
			give:     `{"text":"Bore da"}`,
			wantID:   "f.jsonl:1",
			wantText: "Bore da",
		},
		{
			name:     "null id",
			give:     `{"text":"Bore da","id":null}`,
			wantID:   "f.jsonl:1",
			wantText: "Bore da",
		},
		{
			name:     "boolean id stays in meta",
			give:     `{"text":"Bore da","id":true}`,
			wantID:   "f.jsonl:1",
			wantText: "Bore da",
			wantMeta: map[string]any{"id": true},
		},
		{
			name:     "custom fields",
			give:     `{"content":"Kaixo mundua","uid":"eu-7","text":"not this"}`,
			in:       func(in *pipeline.Input) { in.TextField, in.IDField = "content", "uid" },
			wantID:   "eu-7",
			wantText: "Kaixo mundua",
			wantMeta: map[string]any{"text": "not this"},
		},
		{
			name:     "dotted paths keep the siblings",
			give:     `{"doc":{"body":"Sawubona","title":"T","meta":{"id":"zu-3","x":1}},"score":0.5}`,
			in:       func(in *pipeline.Input) { in.TextField, in.IDField = "doc.body", "doc.meta.id" },
			wantID:   "zu-3",
			wantText: "Sawubona",
			wantMeta: map[string]any{"doc": map[string]any{"title": "T", "meta": map[string]any{"x": json.Number("1")}}, "score": json.Number("0.5")},
		},
		{
			name:     "dotted path container left out when empty",
			give:     `{"doc":{"body":"Sawubona"}}`,
			in:       func(in *pipeline.Input) { in.TextField = "doc.body" },
			wantID:   "f.jsonl:1",
			wantText: "Sawubona",
		},
		{
			name:     "escapes, surrogate pairs and lone surrogates as encoding/json",
			give:     `{"text":"q\"b\\s\/n\nt\tu\u00e9 \ud83d\ude00 lone\ud800x \udc00"}`,
			wantID:   "f.jsonl:1",
			wantText: "q\"b\\s/n\nt\tué 😀 lone\ufffdx \ufffd",
		},
		{
			name:     "last duplicate key wins",
			give:     `{"text":"first","text":"second","a":1,"a":2}`,
			wantID:   "f.jsonl:1",
			wantText: "second",
			wantMeta: map[string]any{"a": json.Number("2")},
		},
		{
			name:     "white space around tokens and CRLF",
			give:     " \t{ \"text\" : \"Magandang umaga\" , \"id\" : \"tl\" } \r",
			wantID:   "tl",
			wantText: "Magandang umaga",
		},
		{
			name:     "byte order mark",
			give:     "\ufeff{\"text\":\"Góðan daginn\"}",
			wantID:   "f.jsonl:1",
			wantText: "Góðan daginn",
		},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, "f.jsonl", []byte(tt.give+"\n"))
			docs, err := readJSONL(t, path, jsonlInput(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 1 {
				t.Fatalf("got %d docs, want 1", len(docs))
			}
			d := docs[0]
			if d.IsRejected() {
				t.Fatalf("rejected: %+v", d.Rejected)
			}
			if d.ID != tt.wantID || d.Text != tt.wantText {
				t.Errorf("ID, Text = %q, %q; want %q, %q", d.ID, d.Text, tt.wantID, tt.wantText)
			}
			if len(d.Meta) != 0 || len(tt.wantMeta) != 0 {
				if !reflect.DeepEqual(d.Meta, tt.wantMeta) {
					t.Errorf("Meta = %#v\nwant %#v", d.Meta, tt.wantMeta)
				}
			}
			if want := (pipeline.Position{File: path, Line: 1, Offset: 0}); d.Origin != want {
				t.Errorf("Origin = %+v, want %+v", d.Origin, want)
			}
		})
	}
}

func TestJSONLReaderLinesAndOffsets(t *testing.T) {
	lines := []string{
		`{"text":"Dydd da"}`,
		``,
		"  \t\r",
		`{"text":"Dobrý den","id":"cs"}`,
		"\r",
		`{"text":"Hyvää päivää"}`, // no final newline
	}
	content := strings.Join(lines, "\n")
	path := writeFile(t, t.TempDir(), "lines.jsonl", []byte(content))
	docs, err := readJSONL(t, path, jsonlInput(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []pipeline.Position{
		{File: path, Line: 1, Offset: 0},
		{File: path, Line: 4, Offset: int64(strings.Index(content, `{"text":"Dobrý`))},
		{File: path, Line: 6, Offset: int64(strings.Index(content, `{"text":"Hyvää`))},
	}
	if len(docs) != len(want) {
		t.Fatalf("got %d docs, want %d (blank lines are not records)", len(docs), len(want))
	}
	for i, d := range docs {
		if d.Origin != want[i] || d.IsRejected() {
			t.Errorf("doc %d: Origin %+v rejected %v; want %+v", i, d.Origin, d.Rejected, want[i])
		}
	}
	if docs[2].ID != "lines.jsonl:6" {
		t.Errorf("fallback id = %q, want lines.jsonl:6", docs[2].ID)
	}
}

// TestJSONLReaderBadInput puts each bad record between two good ones and checks the reject
// (on_error: reject) and the error (on_error: fail).
func TestJSONLReaderBadInput(t *testing.T) {
	const first, last = `{"text":"Sannu da zuwa"}`, `{"text":"Mhoro"}`
	tests := []struct {
		name       string
		give       string
		max        int
		wantReason string
		wantDetail string
	}{
		{"malformed JSON", `{"text": "abc"`, 0, ReasonInvalidJSON, "unexpected end of line after object key:value pair at column 15"},
		{"bad token", `{"text": abc}`, 0, ReasonInvalidJSON, "invalid character 'a' looking for beginning of value at column 10"},
		{"trailing garbage", `{"text":"a"} x`, 0, ReasonInvalidJSON, "invalid character 'x' after top-level value at column 14"},
		{"not an object", `["a","b"]`, 0, ReasonInvalidJSON, "want a JSON object, got an array"},
		{"control character in string", "{\"text\":\"a\tb\"}", 0, ReasonInvalidJSON, "invalid character '\\t' in string literal"},
		{"bad escape", `{"text":"a\qb"}`, 0, ReasonInvalidJSON, "in string escape code"},
		{"too deep", strings.Repeat("[", 10001) + strings.Repeat("]", 10001), 0, ReasonInvalidJSON, "exceeded max depth"},
		{"no text field", `{"body":"Mhoro"}`, 0, ReasonMissingText, `no field "text"`},
		{"text is a number", `{"text":42}`, 0, ReasonMissingText, `field "text" is a number, want a string`},
		{"text is null", `{"text":null}`, 0, ReasonMissingText, `field "text" is null, want a string`},
		{"invalid UTF-8", "{\"text\":\"caf\xe9\"}", 0, ReasonInvalidUTF8, "invalid UTF-8 at byte 12 of the line"},
		{"overlong UTF-8", "{\"text\":\"\xc0\xaf\"}", 0, ReasonInvalidUTF8, "invalid UTF-8 at byte 9"},
		{"empty text", `{"text":""}`, 0, ReasonEmptyText, "text is empty"},
		{"white space text", "{\"text\":\" \\t\\n\u3000 \"}", 0, ReasonEmptyText, "text is only white space"},
		{"record too large", `{"text":"` + strings.Repeat("ab", 1000) + `"}`, 1024, ReasonRecordTooLarge, "line of 2011 bytes exceeds max_record_bytes 1024"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := first + "\n" + tt.give + "\n" + last + "\n"
			path := writeFile(t, dir, fmt.Sprintf("bad%d.jsonl", i), []byte(content))
			in := jsonlInput(func(in *pipeline.Input) {
				if tt.max > 0 {
					in.MaxRecordBytes = tt.max
				}
			})
			docs, err := readJSONL(t, path, in)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 3 || docs[0].IsRejected() || docs[2].IsRejected() || docs[2].Text != "Mhoro" {
				t.Fatalf("want good, reject, good; got %+v", docs)
			}
			d := docs[1]
			if d.Rejected.Stage != Stage || d.Rejected.Reason != tt.wantReason || !strings.Contains(d.Rejected.Detail, tt.wantDetail) {
				t.Errorf("Rejected = %+v, want reason %s, detail containing %q", d.Rejected, tt.wantReason, tt.wantDetail)
			}
			wantPos := pipeline.Position{File: path, Line: 2, Offset: int64(len(first) + 1)}
			if d.Origin != wantPos || d.ID != fmt.Sprintf("bad%d.jsonl:2", i) {
				t.Errorf("Origin, ID = %+v, %q; want %+v", d.Origin, d.ID, wantPos)
			}
			if !utf8.ValidString(d.Text) {
				t.Errorf("reject text is not valid UTF-8: %q", d.Text)
			}

			in.OnError = "fail"
			docs, err = readJSONL(t, path, in)
			var re *ReadError
			if len(docs) != 1 || !errors.As(err, &re) {
				t.Fatalf("on_error fail: %d docs, err %v; want 1 doc and a *ReadError", len(docs), err)
			}
			wantMsg := fmt.Sprintf("%s:2 (byte %d): %s: ", path, len(first)+1, tt.wantReason)
			if re.Reason != tt.wantReason || !strings.HasPrefix(err.Error(), wantMsg) || !strings.Contains(err.Error(), tt.wantDetail) {
				t.Errorf("err = %q, want prefix %q and %q", err, wantMsg, tt.wantDetail)
			}
		})
	}
}

func TestJSONLReaderTruncated(t *testing.T) {
	content := corpus(20000)
	lineStarts := []int{0}
	for i, c := range content {
		if c == '\n' {
			lineStarts = append(lineStarts, i+1)
		}
	}
	gz, zs := gzipBytes(t, content), zstdBytes(t, content)
	tests := []struct {
		name string
		give []byte
	}{
		{"truncated gzip", gz[:len(gz)*2/3]},
		{"truncated zstd", zs[:len(zs)*2/3]},
		{"gzip without trailer", gz[:len(gz)-8]},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, fmt.Sprintf("t%d.jsonl.gz", i), tt.give)
			docs, err := readJSONL(t, path, jsonlInput(nil))
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) < 2 {
				t.Fatalf("got %d docs", len(docs))
			}
			good, last := docs[:len(docs)-1], docs[len(docs)-1]
			for j, d := range good {
				if d.IsRejected() || d.Origin.Line != int64(j+1) || d.ID != fmt.Sprint(j) {
					t.Fatalf("doc %d: %+v", j, d)
				}
			}
			line := int64(len(good) + 1)
			if last.Rejected.Reason != ReasonTruncated || last.Origin.Line != line || last.Origin.File != path {
				t.Fatalf("last doc = %+v, want %s at line %d", last, ReasonTruncated, line)
			}
			lineStarts = append(lineStarts, len(content)+1) // the line after the last one (stream ends at a line end)
			if off := last.Origin.Offset; off < int64(lineStarts[line-1]) || off >= int64(lineStarts[line]) {
				t.Errorf("offset %d not in line %d [%d, %d)", off, line, lineStarts[line-1], lineStarts[line])
			}
			if want := fmt.Sprintf("stream broke at decompressed byte %d, in line %d", last.Origin.Offset, line); !strings.Contains(last.Rejected.Detail, want) {
				t.Errorf("detail %q, want %q", last.Rejected.Detail, want)
			}

			docs, err = readJSONL(t, path, jsonlInput(func(in *pipeline.Input) { in.OnError = "fail" }))
			var re *ReadError
			if !errors.As(err, &re) || !errors.Is(err, ErrCorrupt) || re.Line != line || len(docs) != len(good) ||
				!strings.HasPrefix(err.Error(), fmt.Sprintf("%s:%d (byte %d): read.truncated: ", path, line, last.Origin.Offset)) {
				t.Errorf("on_error fail: %d docs, err %v", len(docs), err)
			}
		})
	}
}

func TestJSONLReaderMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.jsonl")
	_, err := NewJSONLReader(path, jsonlInput(nil))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want an error naming %s", err, path)
	}
}

// TestJSONLReader50MBLine reads a 50 MB line when max_record_bytes allows it, and skips it
// without holding it in memory when it does not.
func TestJSONLReader50MBLine(t *testing.T) {
	const size = 50 << 20
	text := bytes.Repeat([]byte("Ndewo "), size/6)
	var b bytes.Buffer
	b.WriteString(`{"id":"big","text":"`)
	b.Write(text)
	b.WriteString("\"}\n{\"text\":\"after\"}\n")
	path := writeFile(t, t.TempDir(), "big.jsonl", b.Bytes())
	b = bytes.Buffer{}

	docs, err := readJSONL(t, path, jsonlInput(nil)) // default max_record_bytes: 64 MiB
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].IsRejected() || docs[0].Text != string(text) || docs[1].Text != "after" {
		t.Fatalf("got %d docs, first rejected=%v len %d", len(docs), docs[0].IsRejected(), len(docs[0].Text))
	}
	if docs[1].Origin.Line != 2 || docs[1].Origin.Offset != int64(len(text)+23) {
		t.Errorf("second doc at %+v", docs[1].Origin)
	}
	docs = nil

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	docs, err = readJSONL(t, path, jsonlInput(func(in *pipeline.Input) { in.MaxRecordBytes = 1 << 20 }))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].Rejected.Reason != ReasonRecordTooLarge || docs[1].Text != "after" {
		t.Fatalf("got %+v", docs)
	}
	if want := fmt.Sprintf("line of %d bytes exceeds max_record_bytes %d", len(text)+22, 1<<20); docs[0].Rejected.Detail != want {
		t.Errorf("detail %q, want %q", docs[0].Rejected.Detail, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("skipping a 50 MB line allocated %d bytes; it should not be buffered", alloc)
	}
}

// checkJSONLDoc checks one document against what encoding/json makes of the line, the
// independent reference for the parser. in uses text field "text" and id field "id".
func checkJSONLDoc(t *testing.T, line []byte, tooLong bool, d *pipeline.Document) {
	t.Helper()
	if tooLong {
		if d.Rejected.Reason != ReasonRecordTooLarge {
			t.Fatalf("line of %d bytes: got %+v, want %s", len(line), d.Rejected, ReasonRecordTooLarge)
		}
		return
	}
	if !utf8.Valid(line) {
		if d.Rejected.Reason != ReasonInvalidUTF8 {
			t.Fatalf("invalid UTF-8 %q: got %+v", line, d.Rejected)
		}
		return
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if !json.Valid(line) || dec.Decode(&v) != nil {
		if d.Rejected.Reason != ReasonInvalidJSON {
			t.Fatalf("%q is not valid JSON for encoding/json: got %+v text %q", line, d.Rejected, d.Text)
		}
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		if d.Rejected.Reason != ReasonInvalidJSON {
			t.Fatalf("%q is not an object: got %+v", line, d.Rejected)
		}
		return
	}
	wantMeta := map[string]any{}
	for k, v := range m {
		wantMeta[k] = v
	}
	if _, ok := m["text"].(string); ok {
		delete(wantMeta, "text") // a text of another type stays in Meta, shown with the reject
	}
	wantID := ""
	switch id := m["id"].(type) {
	case string:
		if id != "" {
			wantID = id
			delete(wantMeta, "id")
		}
	case json.Number:
		wantID = string(id)
		delete(wantMeta, "id")
	case nil:
		delete(wantMeta, "id")
	}
	if wantID != "" && d.ID != wantID {
		t.Fatalf("%q: ID %q, want %q", line, d.ID, wantID)
	}
	if len(wantMeta) == 0 {
		wantMeta = nil
	}
	if !reflect.DeepEqual(d.Meta, wantMeta) {
		t.Fatalf("%q: Meta %#v, want %#v", line, d.Meta, wantMeta)
	}
	text, ok := m["text"].(string)
	switch {
	case !ok:
		if d.Rejected.Reason != ReasonMissingText {
			t.Fatalf("%q: got %+v, want %s", line, d.Rejected, ReasonMissingText)
		}
	case strings.TrimSpace(text) == "":
		if d.Rejected.Reason != ReasonEmptyText {
			t.Fatalf("%q: got %+v, want %s", line, d.Rejected, ReasonEmptyText)
		}
	default:
		if d.IsRejected() || d.Text != text {
			t.Fatalf("%q: got %+v text %q, want %q", line, d.Rejected, d.Text, text)
		}
	}
}

// splitRecords splits content into lines as the readers see them: "\n" ends a line, a final
// line without "\n" counts, a BOM at the very start is not part of line 1 for blankness.
func splitRecords(content []byte) [][]byte {
	lines := bytes.Split(content, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func isCompressed(b []byte) bool {
	return bytes.HasPrefix(b, []byte{0x1f, 0x8b}) || bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}) ||
		len(b) >= 4 && b[0]&0xf0 == 0x50 && bytes.Equal(b[1:4], []byte{0x2a, 0x4d, 0x18})
}

func FuzzJSONLReader(f *testing.F) {
	seeds := []string{
		`{"text":"Ẹ káàárọ̀","id":"a"}` + "\n" + `{"text":""}` + "\n\n" + `{"text":5,"x":[1,{"y":null}]}`,
		`{"text":"a\ud800\udc00\ud800\u00e9\"\\"}`,
		"{\"text\":\"caf\xe9\"}\n  \r\n{\"text\":\"ok\"}",
		`{"id":1e5,"text":"x","id":"y"}` + "\n" + `[1,2]` + "\n" + `{"text":"a"} trailing`,
		`{"text":"` + strings.Repeat("long ", 60) + `"}`,
		"\ufeff{\"text\":\"bom\"}\r\n",
		`{"a":-0.5e-7,"b":true,"c":false,"d":nul}`,
		`{"text":"x","text":1}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint16(200), uint8(0))
	}
	f.Fuzz(func(t *testing.T, content []byte, maxRec uint16, bufShift uint8) {
		max := 16 + int(maxRec)
		bufSize := 16 << (bufShift % 15) // 16 B .. 256 KiB: exercises lines longer than the buffer
		in := jsonlInput(func(in *pipeline.Input) { in.MaxRecordBytes = max })
		file, err := newFile("fuzz.jsonl", bytes.NewReader(content), nil, int64(len(content)))
		if err != nil {
			return // unsupported compression
		}
		docs, err := readDocs(t, newJSONLReader(file, in, bufSize))
		compressed := isCompressed(content)
		if err != nil {
			t.Fatalf("error with on_error reject: %v", err)
		}
		for _, d := range docs {
			if d.IsRejected() && (d.Rejected.Stage != Stage || !strings.HasPrefix(d.Rejected.Reason, "read.")) {
				t.Fatalf("bad rejection %+v", d.Rejected)
			}
			if !d.IsRejected() && (strings.TrimSpace(d.Text) == "" || !utf8.ValidString(d.Text) || d.ID == "") {
				t.Fatalf("kept doc with text %q id %q", d.Text, d.ID)
			}
		}
		if compressed {
			return // the decompressed content is not known here; no panic is what counts
		}
		// Count the records independently: every line that is not blank, and every line longer
		// than the limit, is one record.
		var records [][]byte
		var lineNos []int64
		var tooLongs []bool
		for i, l := range splitRecords(content) {
			tooLong := len(l) > max
			if i == 0 {
				l = bytes.TrimPrefix(l, []byte("\ufeff"))
			}
			if !tooLong && len(bytes.Trim(l, " \t\r")) == 0 {
				continue
			}
			records = append(records, l)
			lineNos = append(lineNos, int64(i+1))
			tooLongs = append(tooLongs, tooLong)
		}
		if len(docs) != len(records) {
			t.Fatalf("%d records, %d documents", len(records), len(docs))
		}
		for i, d := range docs {
			if d.Origin.Line != lineNos[i] {
				t.Fatalf("doc %d at line %d, want %d", i, d.Origin.Line, lineNos[i])
			}
			checkJSONLDoc(t, records[i], tooLongs[i], &d)
		}
	})
}

func TestJSONLParserMatchesEncodingJSON(t *testing.T) {
	lines := []string{
		`{}`, `{"text":"a"}`, `{"text":"a","id":""}`, `{"text":"a","id":0}`, `{"text":"a","id":-0.0e+0}`,
		`{"text":"\u0000\u001f\u007f"}`, `{"text":"\uD834\uDD1E"}`, `{"text":"\uDD1E\uD834"}`, `{"text":"\ud800\u"}`,
		`{"text":"\ud800\\u1234"}`, `{"text":"\ud800\ud800\udc00"}`, `{"text":"x","m":{"a":{"b":[[],{}]}}}`,
		`{"text":"x","n":01}`, `{"text":"x","n":1.}`, `{"text":"x","n":.5}`, `{"text":"x","n":1e}`, `{"text":"x","n":-}`,
		`{"text":"x","n":+1}`, `{"text":"x",}`, `{"text":"x" "y":1}`, `{"text" "x"}`, `{text:"x"}`, `{"text":'x'}`,
		`{"text":"x"}}`, `{"text":tru}`, `{"text":"x","b":[1,]}`, `{"text":"x","b":[1 2]}`, "{\"text\":\"x\"}\t \r",
		`{"text":"x\'"}`, `"just a string"`, `null`, `123`, `{"text":"\u00G0"}`, `{"":1,"text":"e"}`,
		`{"text":"x","id":{"a":1}}`, `{"text":"x","id":[1]}`, `{"text":"x","id":false}`,
		`{"text":"a\/b\bc\fd\re"}`, `{"te\u0078t":"escaped key"}`, `{"text":"x"` + strings.Repeat(" ", 20),
		`{"text":"` + strings.Repeat("é", 100) + `\n"}`,
	}
	for _, l := range lines {
		path := writeFile(t, t.TempDir(), "p.jsonl", []byte(l+"\n"))
		docs, err := readJSONL(t, path, jsonlInput(nil))
		if err != nil || len(docs) != 1 {
			t.Fatalf("%q: %d docs, %v", l, len(docs), err)
		}
		checkJSONLDoc(t, []byte(l), false, &docs[0])
	}
}

func BenchmarkJSONLReader(b *testing.B) {
	// About 1 KB per document: multilingual text with a few escapes, an id and two metadata fields.
	var content bytes.Buffer
	words := strings.Fields("Ẹ káàárọ̀ Habari ya asubuhi Bore da Kaixo mundua Góðan daginn Sawubona Magandang umaga " +
		"ọjọ́ ilé ẹ̀kọ́ shule kitabu llyfr liburua bók incwadi aklat \\\"quoted\\\" line\\nbreak")
	var docs int
	for content.Len() < 32<<20 {
		fmt.Fprintf(&content, `{"id":"doc-%d","url":"https://example.org/%d","lang":"yor","text":"`, docs, docs)
		n := 0
		for i := docs; n < 900; i++ {
			w := words[(i*7+n)%len(words)]
			content.WriteString(w)
			content.WriteByte(' ')
			n += len(w) + 1
		}
		content.WriteString("\"}\n")
		docs++
	}
	for _, codec := range []string{"plain", "zstd"} {
		b.Run(codec, func(b *testing.B) {
			data := content.Bytes()
			if codec == "zstd" {
				data = zstdBytes(b, data)
			}
			path := writeFile(b, b.TempDir(), "bench.jsonl", data)
			in := jsonlInput(nil)
			b.SetBytes(int64(content.Len()))
			b.ReportAllocs()
			var doc pipeline.Document
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0 := cpuTime()
			for b.Loop() {
				r, err := NewJSONLReader(path, in)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					doc = pipeline.Document{}
					err := r.Next(b.Context(), &doc)
					if err == io.EOF {
						break
					}
					if err != nil || doc.IsRejected() {
						b.Fatal(err, doc.Rejected)
					}
					n++
				}
				r.Close()
				if n != docs {
					b.Fatalf("%d docs, want %d", n, docs)
				}
			}
			cpu := cpuTime() - cpu0
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(b.N*docs)/b.Elapsed().Seconds(), "docs/s")
			// MB per second of CPU time (all threads, GC included): the "per core" figure, and
			// steadier than MB/s on a shared machine.
			b.ReportMetric(float64(b.N)*float64(content.Len())/1e6/cpu.Seconds(), "MB/cpu-s")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N*docs), "allocs/doc")
		})
	}
}

// cpuTime returns the CPU time (user + system) used by the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
