package formats

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sieve-data/sieve/pipeline"
)

func csvInput(mod func(*pipeline.Input)) *pipeline.Input {
	in := pipeline.DefaultInput()
	in.Path = "unused"
	if mod != nil {
		mod(&in)
	}
	return &in
}

func readCSV(t testing.TB, path string, in *pipeline.Input, delim rune) ([]pipeline.Document, error) {
	t.Helper()
	r, err := NewCSVReader(path, in, delim)
	if err != nil {
		return nil, err
	}
	return readDocs(t, r)
}

// csvDoc is what a test expects of one document.
type csvDoc struct {
	ID, Text string
	Line     int64
	Offset   int64
	Meta     map[string]any
	Reason   string
}

func csvDocs(docs []pipeline.Document) []csvDoc {
	out := make([]csvDoc, len(docs))
	for i, d := range docs {
		out[i] = csvDoc{ID: d.ID, Text: d.Text, Line: d.Origin.Line, Offset: d.Origin.Offset, Meta: d.Meta, Reason: d.Rejected.Reason}
	}
	return out
}

func TestCSVReader(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		give  string
		delim rune
		in    func(*pipeline.Input)
		want  []csvDoc
	}{
		{
			name: "header, quoted fields spanning lines, doubled quotes, CRLF, empty lines",
			file: "f.csv",
			give: "id,text,lang\r\n" +
				"yo-1,\"Ẹ káàárọ̀, ṣé dáadáa ni?\",yor\r\n" +
				"\r\n" +
				"sw-1,\"Habari ya asubuhi.\nNdiyo, \"\"sawa\"\".\",swa\r\n" +
				",Bore da,cym\r\n",
			delim: ',',
			want: []csvDoc{
				{ID: "yo-1", Text: "Ẹ káàárọ̀, ṣé dáadáa ni?", Line: 2, Offset: 14, Meta: map[string]any{"lang": "yor"}},
				{ID: "sw-1", Text: "Habari ya asubuhi.\nNdiyo, \"sawa\".", Line: 4, Offset: 66, Meta: map[string]any{"lang": "swa"}},
				{ID: "f.csv:6", Text: "Bore da", Line: 6, Offset: 114, Meta: map[string]any{"lang": "cym", "id": ""}},
			},
		},
		{
			name:  "byte order mark, no id column, empty header name",
			file:  "f.csv",
			give:  "\ufeff,text\n0,Kaixo mundua\n",
			delim: ',',
			want: []csvDoc{
				{ID: "f.csv:2", Text: "Kaixo mundua", Line: 2, Offset: 9, Meta: map[string]any{"column_1": "0"}},
			},
		},
		{
			name:  "tsv default delimiter",
			file:  "f.tsv",
			give:  "text\tid\nSawubona, unjani?\tzu-7\n",
			delim: '\t',
			want: []csvDoc{
				{ID: "zu-7", Text: "Sawubona, unjani?", Line: 2, Offset: 8},
			},
		},
		{
			name:  "configured delimiter and field names",
			file:  "f.csv",
			give:  "key;body\nk1;Góðan daginn\n",
			delim: ',',
			in: func(in *pipeline.Input) {
				in.Delimiter, in.TextField, in.IDField = ";", "body", "key"
			},
			want: []csvDoc{{ID: "k1", Text: "Góðan daginn", Line: 2, Offset: 9}},
		},
		{
			name:  "quoting none with named columns: quotes are plain characters",
			file:  "dev.tsv",
			give:  "amh_Ethi\tመንግስቴ ምን ይሉኝ\" ያልፈጠረበት\n\nyor_Latn\t\"Ẹ kú\" ni wọ́n wí\n",
			delim: '\t',
			in: func(in *pipeline.Input) {
				in.Quoting, in.Columns = "none", []string{"label", "text"}
			},
			want: []csvDoc{
				{ID: "dev.tsv:1", Text: "መንግስቴ ምን ይሉኝ\" ያልፈጠረበት", Line: 1, Offset: 0, Meta: map[string]any{"label": "amh_Ethi"}},
				{ID: "dev.tsv:3", Text: "\"Ẹ kú\" ni wọ́n wí", Line: 3, Offset: 66, Meta: map[string]any{"label": "yor_Latn"}},
			},
		},
		{
			name:  "bad records are rejected and reading goes on",
			file:  "f.csv",
			give:  "id,text\na,one\nb,two,extra\nc,bare \"quote\nd,\"open \"x\ne,\xff\xfe\nf,   \ng,\nh,last\n",
			delim: ',',
			want: []csvDoc{
				{ID: "a", Text: "one", Line: 2, Offset: 8},
				{ID: "f.csv:3", Line: 3, Offset: 14, Reason: ReasonInvalidCSV},
				{ID: "f.csv:4", Line: 4, Offset: 26, Reason: ReasonInvalidCSV},
				{ID: "f.csv:5", Line: 5, Offset: 40, Reason: ReasonInvalidCSV},
				{ID: "e", Text: "e,\uFFFD", Line: 6, Offset: 51, Reason: ReasonInvalidUTF8},
				{ID: "f", Text: "   ", Line: 7, Offset: 56, Reason: ReasonEmptyText},
				{ID: "g", Line: 8, Offset: 62, Reason: ReasonEmptyText},
				{ID: "h", Text: "last", Line: 9, Offset: 65},
			},
		},
		{
			name:  "quoting none: wrong field count",
			file:  "f.tsv",
			give:  "id\ttext\na\tone\tmore\nb\ttwo\n",
			delim: '\t',
			in:    func(in *pipeline.Input) { in.Quoting = "none" },
			want: []csvDoc{
				{ID: "f.tsv:2", Line: 2, Offset: 8, Reason: ReasonInvalidCSV},
				{ID: "b", Text: "two", Line: 3, Offset: 19},
			},
		},
		{
			name:  "header only",
			file:  "f.csv",
			give:  "id,text\n",
			delim: ',',
		},
		{
			name:  "empty file",
			file:  "f.csv",
			give:  "",
			delim: ',',
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), tt.file, []byte(tt.give))
			docs, err := readCSV(t, path, csvInput(tt.in), tt.delim)
			if err != nil {
				t.Fatal(err)
			}
			got := csvDocs(docs)
			for i := range got {
				if got[i].Reason != "" && tt.want != nil && i < len(tt.want) && tt.want[i].Text == "" {
					got[i].Text = "" // the detail is checked elsewhere; the text of a reject is not the point here
				}
			}
			if !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tt.want)
			}
			for _, d := range docs {
				if d.Origin.File != path {
					t.Errorf("Origin.File = %q, want %q", d.Origin.File, path)
				}
			}
		})
	}
}

func TestCSVReaderRejectDetails(t *testing.T) {
	path := writeFile(t, t.TempDir(), "f.csv", []byte("id,text\nb,two,extra\nc,bare \"quote\ne,ok\xff\n"))
	docs, err := readCSV(t, path, csvInput(nil), ',')
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"line 2: record has 3 fields, the header has 2",
		`line 3, column 8: bare " in non-quoted-field`,
		`column "text": invalid UTF-8 at byte 2 of the field`,
	}
	if len(docs) != len(want) {
		t.Fatalf("%d docs, want %d", len(docs), len(want))
	}
	for i, d := range docs {
		if d.Rejected.Detail != want[i] || d.Rejected.Stage != Stage {
			t.Errorf("doc %d: %s %q, want %q", i, d.Rejected.Stage, d.Rejected.Detail, want[i])
		}
	}
}

func TestCSVReaderOnErrorFail(t *testing.T) {
	path := writeFile(t, t.TempDir(), "f.csv", []byte("id,text\na,one\nb,two,extra\nc,three\n"))
	docs, err := readCSV(t, path, csvInput(func(in *pipeline.Input) { in.OnError = "fail" }), ',')
	var re *ReadError
	if !errors.As(err, &re) || re.Reason != ReasonInvalidCSV || re.Line != 3 || re.Offset != 14 || re.File != path {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), path+":3 (byte 14): read.invalid_csv: line 3: record has 3 fields") {
		t.Errorf("message: %v", err)
	}
	if len(docs) != 1 || docs[0].Text != "one" {
		t.Errorf("docs before the error: %+v", docs)
	}
}

func TestCSVReaderStartupErrors(t *testing.T) {
	tests := []struct {
		name, give string
		in         func(*pipeline.Input)
		wantErr    string
	}{
		{"no text column", "id,body,lang\n1,x,y\n", nil, `f.csv: no column "text" for the text (text_field); the columns are "id", "body", "lang"`},
		{"column twice", "id,text,id\n", nil, `f.csv: column "id" appears twice in the header`},
		{"bad header", "id,\"te\"xt\n", nil, `f.csv:1 (byte 0): header: parse error on line 1, column 7: extraneous or missing " in quoted-field`},
		{"header not UTF-8", "id,t\xffxt\n", nil, "header is not valid UTF-8"},
		{"bad delimiter", "id,text\n", func(in *pipeline.Input) { in.Delimiter = "\"" }, `delimiter "\""`},
		{"two-character delimiter", "id,text\n", func(in *pipeline.Input) { in.Delimiter = "::" }, `delimiter "::"`},
		{"bad quoting", "id,text\n", func(in *pipeline.Input) { in.Quoting = "single" }, `quoting "single": must be one of csv, none`},
		{"columns without the text", "a,b\n", func(in *pipeline.Input) { in.Columns = []string{"a", "b"} }, `no column "text"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "f.csv", []byte(tt.give))
			_, err := NewCSVReader(path, csvInput(tt.in), ',')
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestCSVReaderRecordTooLarge(t *testing.T) {
	// An unterminated quote would make the record run to the end of the file: it is cut at
	// max_record_bytes and ends the file, without the rest being held in memory.
	var b bytes.Buffer
	b.WriteString("id,text\na,fine\nb,\"never closed\n")
	for b.Len() < 1<<20 {
		b.WriteString("more text that the open quote swallows\n")
	}
	path := writeFile(t, t.TempDir(), "f.csv", b.Bytes())
	in := csvInput(func(in *pipeline.Input) { in.MaxRecordBytes = 4096 })
	docs, err := readCSV(t, path, in, ',')
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].Text != "fine" || docs[1].Rejected.Reason != ReasonRecordTooLarge || docs[1].Origin.Line != 3 || docs[1].Origin.Offset != 15 {
		t.Fatalf("docs = %+v", csvDocs(docs))
	}
	if !strings.Contains(docs[1].Rejected.Detail, "the rest of the file is not read") {
		t.Errorf("detail: %q", docs[1].Rejected.Detail)
	}
	// A record a little over the limit (within the read-ahead) is rejected alone.
	path = writeFile(t, t.TempDir(), "f.csv", []byte("id,text\na,\""+strings.Repeat("y", 5000)+"\"\nb,next\n"))
	docs, err = readCSV(t, path, in, ',')
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].Rejected.Reason != ReasonRecordTooLarge || docs[0].ID != "a" || docs[1].Text != "next" {
		t.Fatalf("docs = %+v", csvDocs(docs))
	}
	// quoting none: one long line is skipped, the next one read.
	long := "id\ttext\na\t" + strings.Repeat("x", 5000) + "\nb\tnext\n"
	path = writeFile(t, t.TempDir(), "f.tsv", []byte(long))
	in = csvInput(func(in *pipeline.Input) { in.MaxRecordBytes, in.Quoting = 4096, "none" })
	docs, err = readCSV(t, path, in, '\t')
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].Rejected.Reason != ReasonRecordTooLarge || docs[1].Text != "next" {
		t.Fatalf("docs = %+v", csvDocs(docs))
	}
}

func TestCSVReaderTruncatedGzip(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("id,text\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "%d,\"Habari ya asubuhi, rafiki %d\"\n", i, i)
	}
	gz := gzipBytes(t, b.Bytes())
	path := writeFile(t, t.TempDir(), "f.csv.gz", gz[:len(gz)/2])
	docs, err := readCSV(t, path, csvInput(nil), ',')
	if err != nil {
		t.Fatal(err)
	}
	last := docs[len(docs)-1]
	if last.Rejected.Reason != ReasonTruncated || last.Origin.Line < 2 {
		t.Fatalf("last doc: %+v", last)
	}
	for _, d := range docs[:len(docs)-1] {
		if d.IsRejected() {
			t.Fatalf("reject before the break: %+v", d)
		}
	}
}

// countCSVRecords counts what encoding/csv returns for data (records and errors), header
// included: the number of documents a CSVReader must give, plus one.
func countCSVRecords(data []byte, delim rune) int {
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM)))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	n := 0
	for {
		_, err := cr.Read()
		if err == io.EOF {
			return n
		}
		n++
	}
}

func FuzzCSVReader(f *testing.F) {
	f.Add([]byte("id,text,lang\nyo-1,\"Ẹ káàárọ̀\nṣé\",yor\n\n2,x\n\"bad\"q,\"\n"), false)
	f.Add([]byte("\ufefftext\n\xff\n\"a\"\"b\"\n"), false)
	f.Add([]byte("text\tid\n\"a\tb\n\tc\td\n"), true)
	f.Add([]byte("text\r\n\r\n\"\r\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, none bool) {
		if utf8.Valid(data) && bytes.ContainsRune(data, utf8.RuneError) {
			return // a U+FFFD in the input would blur the invalid-UTF-8 check below
		}
		path := writeFile(t, t.TempDir(), "f.csv", data)
		in := csvInput(func(in *pipeline.Input) {
			in.MaxRecordBytes = 1 << 20
			if none {
				in.Quoting = "none"
			}
		})
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		docs, err := readCSV(t, path, in, ',')
		runtime.ReadMemStats(&ms1)
		if err != nil {
			var re *ReadError
			if !errors.As(err, &re) && !strings.Contains(err.Error(), "f.csv: ") {
				t.Fatalf("start-up error does not name the file: %v", err)
			}
			return // a bad header or no text column
		}
		if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 64<<20+uint64(200*len(data)) {
			t.Errorf("%d bytes allocated for %d bytes of input", alloc, len(data))
		}
		// Every record encoding/csv sees (or every non-empty line) yields one document.
		want := 0
		if none {
			for l := range bytes.SplitSeq(bytes.TrimPrefix(data, utf8BOM), []byte("\n")) {
				if len(bytes.TrimSuffix(l, []byte("\r"))) > 0 {
					want++
				}
			}
		} else {
			want = countCSVRecords(data, ',')
		}
		if want > 0 {
			want-- // the header
		}
		if len(docs) != want {
			t.Fatalf("%d documents, want %d", len(docs), want)
		}
		var prev int64 = -1
		for _, d := range docs {
			if d.Origin.Offset <= prev || d.Origin.Offset > int64(len(data)) || d.Origin.Line < 1 {
				t.Fatalf("origin %+v after offset %d", d.Origin, prev)
			}
			prev = d.Origin.Offset
			if d.ID == "" {
				t.Fatal("empty id")
			}
			if d.IsRejected() {
				if !strings.HasPrefix(d.Rejected.Reason, "read.") || d.Rejected.Detail == "" {
					t.Fatalf("reject %+v", d.Rejected)
				}
				continue
			}
			if !utf8.ValidString(d.Text) || isSpace(d.Text) {
				t.Fatalf("kept text %q", d.Text)
			}
		}
	})
}

func BenchmarkCSVReader(b *testing.B) {
	for _, quoting := range []string{"csv", "none"} {
		b.Run(quoting, func(b *testing.B) {
			path, size, docs, in := benchCSVFile(b, quoting)
			benchReader(b, size, docs, func() (pipeline.Source, error) { return NewCSVReader(path, in, ',') })
		})
	}
}

// benchCSVFile writes 32 MB of records of about 1 KB: multilingual text (with quotes,
// commas and line breaks when quoted), an id and two more columns; with quoting none,
// tab-separated. It returns the file, its size, its records and the input to read it with.
func benchCSVFile(b *testing.B, quoting string) (string, int64, int, *pipeline.Input) {
	words := strings.Fields("Ẹ káàárọ̀ Habari ya asubuhi, Bore da Kaixo mundua Góðan daginn Sawubona Magandang umaga " +
		"ọjọ́ ilé ẹ̀kọ́ shule kitabu llyfr liburua bók incwadi aklat \"quoted\" line\nbreak")
	var content bytes.Buffer
	sep := ","
	if quoting == "none" {
		sep = "\t"
	}
	content.WriteString(strings.Join([]string{"id", "url", "lang", "text"}, sep) + "\n")
	var docs int
	for content.Len() < 32<<20 {
		var text strings.Builder
		for i := docs; text.Len() < 900; i++ {
			text.WriteString(words[(i*7+text.Len())%len(words)])
			text.WriteByte(' ')
		}
		t := text.String()
		if quoting == "csv" {
			t = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
		} else {
			t = strings.ReplaceAll(t, "\n", " ")
		}
		fmt.Fprintf(&content, "doc-%d%shttps://example.org/%d%syor%s%s\n", docs, sep, docs, sep, sep, t)
		docs++
	}
	path := writeFile(b, b.TempDir(), "bench.csv", content.Bytes())
	in := csvInput(func(in *pipeline.Input) { in.Quoting, in.Delimiter, in.Path = quoting, sep, path })
	return path, int64(content.Len()), docs, in
}

// benchReader reads the source open makes to its end b.N times, checking it gives docs
// documents none of them rejected, and reports docs/s, MB per CPU second and allocations
// per document.
func benchReader(b *testing.B, size int64, docs int, open func() (pipeline.Source, error)) {
	b.Helper()
	b.SetBytes(size)
	b.ReportAllocs()
	var doc pipeline.Document
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	for b.Loop() {
		r, err := open()
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
				b.Fatal(err, doc.Rejected, doc.Origin)
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
	b.ReportMetric(float64(b.N)*float64(size)/1e6/cpu.Seconds(), "MB/cpu-s")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N*docs), "allocs/doc")
}

func TestInputValidateReaderKeys(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*pipeline.Input)
		wantErr string // "" for valid
	}{
		{"defaults", func(*pipeline.Input) {}, ""},
		{"tab delimiter", func(in *pipeline.Input) { in.Delimiter = "\t" }, ""},
		{"non-ASCII delimiter", func(in *pipeline.Input) { in.Delimiter = "¦" }, ""},
		{"two characters", func(in *pipeline.Input) { in.Delimiter = ",;" }, "delimiter: must be one character other than a quote, CR or LF"},
		{"quote", func(in *pipeline.Input) { in.Delimiter = `"` }, "delimiter: must be one character"},
		{"newline", func(in *pipeline.Input) { in.Delimiter = "\n" }, "delimiter: must be one character"},
		{"quoting none", func(in *pipeline.Input) { in.Quoting = "none" }, ""},
		{"bad quoting", func(in *pipeline.Input) { in.Quoting = "single" }, `quoting: must be one of csv, none; got "single"`},
		{"html raw", func(in *pipeline.Input) { in.HTML = "raw" }, ""},
		{"bad html", func(in *pipeline.Input) { in.HTML = "markdown" }, `html: must be one of extract, text, raw; got "markdown"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := pipeline.DefaultInput()
			in.Path = "x.csv"
			tt.mod(&in)
			var msgs []string
			for _, fe := range in.Validate() {
				msgs = append(msgs, fe.Field+": "+fe.Msg)
			}
			got := strings.Join(msgs, "; ")
			if tt.wantErr == "" && got != "" || tt.wantErr != "" && !strings.Contains(got, tt.wantErr) {
				t.Errorf("Validate: %q, want %q", got, tt.wantErr)
			}
		})
	}
}
