package formats

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sieve-data/sieve/pipeline"
)

func TestFormatFor(t *testing.T) {
	tests := []struct {
		path, format string
		want         string
		wantErr      string
	}{
		{"a.jsonl", "auto", "jsonl", ""},
		{"a.JSON", "", "jsonl", ""},
		{"dir.v2/a.ndjson.zst", "auto", "jsonl", ""},
		{"a.jsonl.gz", "auto", "jsonl", ""},
		{"a.txt.zstd", "auto", "text", ""},
		{"a.txt", "auto", "text", ""},
		{"a.xml", "auto", "", "a.xml: cannot tell the format from the file name"},
		{"a.csv", "auto", "csv", ""},
		{"a.TSV.gz", "auto", "tsv", ""},
		{"a.tab", "auto", "tsv", ""},
		{"a.parquet", "auto", "parquet", ""},
		{"a.feather", "auto", "arrow", ""},
		{"a.arrow.zst", "auto", "arrow", ""},
		{"a.arrows", "auto", "arrow", ""},
		{"a.ipc", "auto", "arrow", ""},
		{"CC-MAIN-20240101-00000.warc.gz", "auto", "warc", ""},
		{"CC-MAIN-20240101-00000.warc.wet.gz", "auto", "warc", ""},
		{"CC-MAIN-20240101-00000.warc.wat.gz", "auto", "", "cannot tell the format"},
		{"a.gz", "auto", "", "a.gz: cannot tell the format"},
		{"README", "auto", "", "set format to one of "},
		{"a.csv", "text", "text", ""},
		{"a.jsonl", "yaml", "", `format "yaml": must be one of auto, `},
	}
	for _, tt := range tests {
		got, err := FormatFor(tt.path, tt.format)
		if got != tt.want || (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("FormatFor(%q, %q) = %q, %v; want %q, %q", tt.path, tt.format, got, err, tt.want, tt.wantErr)
		}
	}
	// The error lists the formats registered in this package.
	if _, err := FormatFor("a.xml", "auto"); !strings.Contains(err.Error(), strings.Join(pipeline.ReaderNames(), ", ")) || !strings.Contains(err.Error(), "jsonl, text") && !strings.Contains(err.Error(), "jsonl, parquet, text") {
		t.Errorf("error does not list the formats: %v", err)
	}
}

// tree writes files under a new directory and returns it.
func tree(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		writeFile(t, dir, f, []byte("{\"text\":\""+f+"\"}\n"))
	}
	return dir
}

func TestExpandInputs(t *testing.T) {
	dir := tree(t,
		"a.jsonl", "b.jsonl.gz", "notes.txt", "sub/c.jsonl", "sub/deeper/d.jsonl", "sub/deeper/e.txt",
		".hidden.jsonl", ".git/x.jsonl", "data.xml", "sub/.cache/y.jsonl", "other/f.ndjson", "other/g.jsonl",
	)
	rel := func(ps []string) []string {
		var out []string
		for _, p := range ps {
			r, err := filepath.Rel(dir, p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, filepath.ToSlash(r))
		}
		return out
	}
	tests := []struct {
		name    string
		path    string
		format  string
		want    []string
		wantErr string
	}{
		{"file", "a.jsonl", "", []string{"a.jsonl"}, ""},
		{"hidden file named explicitly", ".hidden.jsonl", "", []string{".hidden.jsonl"}, ""},
		{"directory, recursive, hidden skipped", "sub", "", []string{"sub/c.jsonl", "sub/deeper/d.jsonl", "sub/deeper/e.txt"}, ""},
		{"directory with trailing slash", "other/", "", []string{"other/f.ndjson", "other/g.jsonl"}, ""},
		{"glob", "*.jsonl*", "", []string{"a.jsonl", "b.jsonl.gz"}, ""},
		{"glob with explicit dot", ".*.jsonl", "", []string{".hidden.jsonl"}, ""},
		{"glob matching directories reads them", "s*", "", []string{"sub/c.jsonl", "sub/deeper/d.jsonl", "sub/deeper/e.txt"}, ""},
		{"double star", "**/*.jsonl", "", []string{"a.jsonl", "other/g.jsonl", "sub/c.jsonl", "sub/deeper/d.jsonl"}, ""},
		{"double star in the middle", "sub/**/d.jsonl", "", []string{"sub/deeper/d.jsonl"}, ""},
		{"double star below a wildcard", "o*/**", "", []string{"other/f.ndjson", "other/g.jsonl"}, ""},
		{"glob and explicit format", "*.txt", "text", []string{"notes.txt"}, ""},
		{"missing file", "nope.jsonl", "", nil, "nope.jsonl: no such file or directory"},
		{"glob matching nothing", "*.parquet", "", nil, "*.parquet: no file matches the pattern"},
		{"double star matching nothing", "**/*.parquet", "", nil, "**/*.parquet: no file matches the pattern"},
		{"double star under a missing directory", "missing/**/*.jsonl", "", nil, "no file matches the pattern"},
		{"bad pattern", "[.jsonl", "", nil, "bad pattern"},
		{"unknown extension with auto", "**/*", "", nil, "cannot tell the format from the file name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := pipeline.DefaultInput()
			in.Path = tt.path
			if tt.format != "" {
				in.Format = tt.format
			}
			got, err := ExpandInputs(&in, dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rel(got), tt.want) {
				t.Errorf("got %q, want %q", rel(got), tt.want)
			}
		})
	}

	// An absolute path ignores baseDir; an empty directory is an error.
	in := pipeline.Input{Path: filepath.Join(dir, "a.jsonl"), Format: "auto"}
	if got, err := ExpandInputs(&in, "/elsewhere"); err != nil || len(got) != 1 {
		t.Errorf("absolute path: %q, %v", got, err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	in = pipeline.Input{Path: empty, Format: "auto"}
	if _, err := ExpandInputs(&in, ""); err == nil || !strings.Contains(err.Error(), "directory holds no input file") {
		t.Errorf("empty directory: err = %v", err)
	}
}

func TestPlanInputsReportsEveryProblem(t *testing.T) {
	dir := tree(t, "a.jsonl", "b.txt", "c.xml")
	ins := []pipeline.Input{
		{Path: "a.jsonl", Format: "auto"},
		{Path: "missing/*.jsonl", Format: "auto"},
		{Path: "*.xml", Format: "auto"},
		{Path: "*.jsonl", Format: "auto"},
		{Path: "b.txt", Format: "yaml"},
	}
	_, err := PlanInputs(ins, dir)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"inputs[1]: " + filepath.Join(dir, "missing/*.jsonl") + ": no file matches the pattern",
		"inputs[2]: " + filepath.Join(dir, "c.xml") + ": cannot tell the format",
		"inputs[3]: " + filepath.Join(dir, "a.jsonl") + " is also matched by inputs[0]",
		`inputs[4]: format "yaml": must be one of auto, `,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\ndoes not contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "inputs[0]:") {
		t.Errorf("inputs[0] is fine: %v", err)
	}
}

func TestInputsChainsFilesInOrder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "1.jsonl", []byte("{\"text\":\"Bore da\",\"id\":\"cy\"}\n{\"text\":\"\"}\n"))
	writeFile(t, dir, "2.jsonl.gz", gzipBytes(t, []byte("{\"text\":\"Egun on\"}\n")))
	big := corpus(20000) // several zstd blocks: the first ones survive the cut
	trunc := zstdBytes(t, big)
	writeFile(t, dir, "3.jsonl.zst", trunc[:len(trunc)/2])
	writeFile(t, dir, "4.txt", []byte("Halló heimur\n\nMhoro nyika\n"))
	writeFile(t, dir, "5.txt", []byte("Sannu duniya\n"))
	ins := []pipeline.Input{
		{Path: "*.jsonl*", Format: "auto", TextField: "text", IDField: "id", OnError: "reject", MaxRecordBytes: 1 << 20},
		{Path: "4.txt", Format: "auto", TextMode: "paragraph", OnError: "reject", MaxRecordBytes: 1 << 20},
		{Path: "5.txt", Format: "text", TextMode: "file", OnError: "reject", MaxRecordBytes: 1 << 20},
	}
	files, err := PlanInputs(ins, dir)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, f := range files {
		total += f.Size
	}
	src := OpenInputs(files)
	if done, tot := src.Progress(); done != 0 || tot != total {
		t.Errorf("Progress before = %d/%d, want 0/%d", done, tot, total)
	}
	// A progress display polls from another goroutine while the run reads (go test -race).
	stop, polled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(polled)
		for {
			select {
			case <-stop:
				return
			default:
				if done, tot := src.Progress(); done < 0 || done > tot {
					t.Errorf("Progress = %d/%d", done, tot)
				}
				_ = src.Files()
			}
		}
	}()
	docs, err := readDocs(t, src)
	close(stop)
	<-polled
	if err != nil {
		t.Fatal(err)
	}
	type brief struct{ id, text, reason string }
	var got []brief
	for _, d := range docs {
		if filepath.Base(d.Origin.File) == "3.jsonl.zst" && !d.IsRejected() {
			continue // the good part of the truncated file
		}
		got = append(got, brief{d.ID, d.Text, d.Rejected.Reason})
	}
	last3 := docs[len(docs)-4] // the truncated reject ends file 3
	want := []brief{
		{"cy", "Bore da", ""},
		{"1.jsonl:2", "", ReasonEmptyText},
		{"2.jsonl.gz:1", "Egun on", ""},
		{last3.ID, "", ReasonTruncated},
		{"4.txt:1", "Halló heimur", ""},
		{"4.txt:3", "Mhoro nyika", ""},
		{"5.txt", "Sannu duniya\n", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if done, tot := src.Progress(); done != total || tot != total {
		t.Errorf("Progress after = %d/%d, want %d/%d", done, tot, total, total)
	}
	sums := src.Files()
	if len(sums) != 5 {
		t.Fatalf("Files() = %d entries, want 5", len(sums))
	}
	for i, s := range sums {
		data, err := os.ReadFile(files[i].Path)
		if err != nil {
			t.Fatal(err)
		}
		if s.Path != files[i].Path || s.SHA256 != fmt.Sprintf("%x", sha256.Sum256(data)) || s.Size != int64(len(data)) {
			t.Errorf("summary %d = %+v", i, s)
		}
	}
	wantCodecs := []Codec{CodecNone, CodecGzip, CodecZstd, CodecNone, CodecNone}
	good3 := len(docs) - 7
	if good3 < 1 {
		t.Errorf("no document before the break in the truncated file")
	}
	wantRecords := []int64{2, 1, int64(good3 + 1), 2, 1}
	for i, s := range sums {
		if s.Codec != wantCodecs[i] || s.Records != wantRecords[i] {
			t.Errorf("summary %d: codec %s records %d; want %s %d", i, s.Codec, s.Records, wantCodecs[i], wantRecords[i])
		}
	}
	for i, f := range src.InputFiles() {
		s := sums[i]
		if want := (pipeline.InputFile{Path: s.Path, Format: s.Format, Compression: string(s.Codec), Size: s.Size, SHA256: s.SHA256, Records: s.Records}); f != want {
			t.Errorf("InputFiles()[%d] = %+v, want %+v", i, f, want)
		}
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestInputsStopsOnFatalErrorAndCancel(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.jsonl", []byte("{\"text\":\"ok\"}\nnot json\n"))
	files, err := PlanInputs([]pipeline.Input{{Path: "a.jsonl", Format: "auto", OnError: "fail"}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := readDocs(t, OpenInputs(files))
	var re *ReadError
	if len(docs) != 1 || !errors.As(err, &re) || re.Line != 2 || re.Reason != ReasonInvalidJSON {
		t.Errorf("on_error fail: %d docs, %v", len(docs), err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var doc pipeline.Document
	if err := OpenInputs(files).Next(ctx, &doc); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}

	// A file removed after planning fails when its turn comes, naming it.
	os.Remove(files[0].Path)
	if err := OpenInputs(files).Next(context.Background(), &doc); err == nil || !strings.Contains(err.Error(), files[0].Path) {
		t.Errorf("removed file: err = %v", err)
	}
	if err := OpenInputs(nil).Next(context.Background(), &doc); err != io.EOF {
		t.Errorf("no files: err = %v, want io.EOF", err)
	}
}

// TestSampleInputs reads the hand-written samples under testdata/formats: every record is
// a document or a reject with the reason the sample's comment says.
func TestSampleInputs(t *testing.T) {
	ins := []pipeline.Input{pipeline.DefaultInput(), pipeline.DefaultInput()}
	ins[0].Path = "../testdata/formats/*.jsonl"
	ins[1].Path, ins[1].TextMode = "../testdata/formats/*.txt", "paragraph"
	files, err := PlanInputs(ins, "")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := readDocs(t, OpenInputs(files))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, d := range docs {
		got[d.Rejected.Reason]++
	}
	want := map[string]int{"": 14, ReasonInvalidJSON: 1, ReasonMissingText: 2, ReasonEmptyText: 2, ReasonInvalidUTF8: 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("documents by reason = %v, want %v", got, want)
	}
}
