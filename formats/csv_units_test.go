package formats

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sieve-data/sieve/pipeline"
)

// readWholeAndUnits reads path whole and in the units SplitInputs makes with target; it
// returns both documents lists, the units and the whole read's error.
func readWholeAndUnits(t testing.TB, path string, in pipeline.Input, target int64) (whole, split []pipeline.Document, units []pipeline.InputUnit, errWhole, errSplit error) {
	t.Helper()
	in.Path = path
	ins := []pipeline.Input{in}
	files, err := ListInputs(ins)
	if err != nil {
		t.Fatal(err)
	}
	units, err = SplitInputs(t.Context(), files, ins, target)
	if err != nil {
		t.Fatal(err)
	}
	whole, errWhole = readDocs(t, OpenUnits(files, []pipeline.InputUnit{{File: 0, End: -1}}, ins))
	split, errSplit = readDocs(t, OpenUnits(files, units, ins))
	return whole, split, units, errWhole, errSplit
}

// checkLineUnits checks that units cover data in order, each with the lines before it.
func checkLineUnits(t *testing.T, units []pipeline.InputUnit, data []byte) {
	t.Helper()
	if len(units) == 1 && units[0].Whole() {
		return
	}
	var end int64
	for i, u := range units {
		if u.Start != end || u.End <= u.Start || u.Blocks != 0 || u.Line != int64(bytes.Count(data[:u.Start], []byte("\n"))) {
			t.Fatalf("unit %d %+v after byte %d (%d lines before it)", i, u, end, bytes.Count(data[:u.Start], []byte("\n")))
		}
		end = u.End
	}
	if end != int64(len(data)) {
		t.Errorf("units end at %d of %d bytes", end, len(data))
	}
}

// CSV and TSV files are cut only after whole records, quoted newlines included, and read
// in units give the documents (ids, lines, offsets, rejects) of reading them whole.
func TestSplitInputsCSV(t *testing.T) {
	quoted := "id,text,n\n" +
		"a1,\"Habari ya asubuhi,\nrafiki yangu\",1\n" +
		"a2,\"Ẹ káàárọ̀ \"\"ọ̀rẹ́\"\"\n\nṣé dáadáa ni?\",2\n" +
		"a3,Bore da,3\n" +
		"a4,\"Kaixo\r\nmundua\",4\n" +
		",Góðan daginn,5\n" +
		"a6,\"Sawubona\",6\n"
	none := func(in *pipeline.Input) { in.Quoting = "none" }
	tests := []struct {
		name   string
		file   string
		data   string
		mod    func(*pipeline.Input)
		target int64
		want   int // units; 1: the file stays whole
	}{
		{"quoted newlines, a unit per record", "q.csv", quoted, nil, 1, 6},
		{"quoted newlines in two", "q2.csv", quoted, nil, int64(len(quoted))/2 + 1, 2},
		{"CRLF records", "crlf.csv", strings.ReplaceAll(quoted, "\n", "\r\n"), nil, 1, 6},
		{"byte order mark and blank lines", "bom.csv", "\ufeffid,text\n\nb1,Habari\n\n\nb2,\"Bore\nda\"\n\nb3,Kaixo\n", nil, 1, 3},
		{"malformed records are rejects, not cuts", "bad.csv", "id,text\nc1,Habari\nc2,\"bare \" quote\",x\nc3,two,many,fields\nc4,Bore da\nc5,Kaixo\n", nil, 1, 3},
		{"columns given", "cols.csv", "d1,\"Habari\nya\"\nd2,Bore da\nd3,Kaixo\n", func(in *pipeline.Input) { in.Columns = []string{"id", "text"} }, 1, 3},
		{"tsv", "t.tsv", "text\tid\n\"Sawubona\nmngani\"\te1\nGóðan daginn\te2\nKaixo\te3\n", nil, 1, 3},
		{"quoting none: a unit per line", "none.tsv", "\n\ntext\tid\nHabari \"rafiki\tf1\n\nBore da\tf2\nKaixo\tf3\n", none, 1, 7},
		{"quoting none in two", "none2.tsv", "text\tid\nHabari\tg1\nBore da\tg2\nKaixo\tg3\nSawubona\tg4\n", none, 26, 2},
		{"a record longer than max_record_bytes", "long.csv", "id,text\nh1,Habari\nh2,\"" + strings.Repeat("ya asubuhi ", 10) + "\"\nh3,Kaixo\n", func(in *pipeline.Input) { in.MaxRecordBytes = 60 }, 1, 1},
		{"an unterminated quote", "open.csv", "id,text\ni1,Habari\ni2,\"Bore da\ni3,Kaixo\n", func(in *pipeline.Input) { in.MaxRecordBytes = 10 }, 1, 1},
		{"header only", "header.csv", "id,text\n", nil, 1, 1},
		{"smaller than the target", "small.csv", quoted, nil, 1 << 20, 1},
		{"empty", "empty.csv", "", nil, 1, 1},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, tt.file, []byte(tt.data))
			in := pipeline.DefaultInput()
			if tt.mod != nil {
				tt.mod(&in)
			}
			whole, split, units, errWhole, errSplit := readWholeAndUnits(t, path, in, tt.target)
			if errWhole != nil || errSplit != nil {
				t.Fatalf("whole: %v; units: %v", errWhole, errSplit)
			}
			if len(units) != tt.want {
				t.Fatalf("%d units %+v, want %d", len(units), units, tt.want)
			}
			checkLineUnits(t, units, []byte(tt.data))
			if !reflect.DeepEqual(split, whole) {
				for i := range min(len(split), len(whole)) {
					if !reflect.DeepEqual(split[i], whole[i]) {
						t.Fatalf("doc %d in units:\n%+v\nwhole:\n%+v", i, split[i], whole[i])
					}
				}
				t.Fatalf("%d documents in units, %d whole", len(split), len(whole))
			}
		})
	}
	// A compressed file stays whole.
	path := writeFile(t, dir, "z.csv", gzipBytes(t, []byte(quoted)))
	if _, _, units, _, _ := readWholeAndUnits(t, path, pipeline.DefaultInput(), 1); len(units) != 1 || !units[0].Whole() {
		t.Errorf("gzip CSV: units %+v", units)
	}
}

// FuzzSplitCSV: whatever the bytes, a CSV or TSV file read in the units SplitInputs makes
// gives the documents of reading it whole.
func FuzzSplitCSV(f *testing.F) {
	f.Add([]byte("id,text\na,\"x\ny\"\nb,z\n"), false, false, uint8(1))
	f.Add([]byte("text\tid\n\"q\tw\n\"\t1\n\nplain\t2\n"), true, false, uint8(3))
	f.Add([]byte("\ufeffid,text\r\nc,\"a\"\"b\"\r\nd,\"e\r\nf\"\r\ng,h,i\r\n"), false, false, uint8(2))
	f.Add([]byte("text\na\nb\"\n\"c\nd\n"), false, true, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, tsv, quotingNone bool, target uint8) {
		name := "f.csv"
		if tsv {
			name = "f.tsv"
		}
		path := writeFile(t, t.TempDir(), name, data)
		in := pipeline.DefaultInput()
		in.MaxRecordBytes = 64
		if quotingNone {
			in.Quoting = "none"
		}
		whole, split, units, errWhole, errSplit := readWholeAndUnits(t, path, in, 1+int64(target)%32)
		checkLineUnits(t, units, data)
		if errWhole != nil {
			return
		}
		if errSplit != nil {
			t.Fatalf("units %+v: %v (whole: no error)", units, errSplit)
		}
		if !reflect.DeepEqual(split, whole) {
			t.Fatalf("units %+v: %s", units, docsDiff(split, whole))
		}
	})
}

func docsDiff(got, want []pipeline.Document) string {
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("doc %d\n%+v\nwant\n%+v", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("%d documents, want %d", len(got), len(want))
}

// BenchmarkCSVUnits plans a 32 MB CSV file (quoted records with line breaks) and a TSV file
// (quoting none) into 5 units, and reads them through OpenUnits as 5 units one after the
// other, to compare with BenchmarkCSVReader (the whole file). Planning parses the quoted
// file whole; the TSV file only has its newlines counted.
func BenchmarkCSVUnits(b *testing.B) {
	for _, quoting := range []string{"csv", "none"} {
		_, size, docs, in := benchCSVFile(b, quoting)
		ins := []pipeline.Input{*in}
		files, err := ListInputs(ins)
		if err != nil {
			b.Fatal(err)
		}
		plan := func() []pipeline.InputUnit {
			units, err := SplitInputs(b.Context(), files, ins, size/5+1)
			if err != nil || len(units) != 5 {
				b.Fatalf("%d units: %v", len(units), err)
			}
			return units
		}
		b.Run(quoting+"/plan", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				plan()
			}
		})
		b.Run(quoting+"/5_units", func(b *testing.B) {
			units := plan()
			benchReader(b, size, docs, func() (pipeline.Source, error) { return OpenUnits(files, units, ins), nil })
		})
	}
}

// A file rewritten in place since the run was planned (same size, records moved) is an
// error naming it when a unit of it is read, not records cut at the old offsets.
func TestRangeUnitsFileChanged(t *testing.T) {
	dir := t.TempDir()
	a, b := "a1,\"Habari ya asubuhi,\nrafiki yangu\"\n", "a2,Bore da\n"
	for name, tt := range map[string]struct{ before, after string }{
		"q.csv":   {"id,text\n" + a + b + a + b, "id,text\n" + b + a + b + a},
		"x.jsonl": {`{"text": "Bore da"}` + "\n" + `{"text": "Habari ya asubuhi"}` + "\n", `{"text": "Habari ya asubuhi"}` + "\n" + `{"text": "Bore da"}` + "\n"},
	} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, dir, name, []byte(tt.before))
			files, ins, units := planUnits(t, path, 1)
			if len(units) < 2 {
				t.Fatalf("units %+v", units)
			}
			writeFile(t, dir, name, []byte(tt.after))
			later := time.Unix(0, files[0].MTime).Add(time.Second)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Fatal(err)
			}
			docs, err := readDocs(t, OpenUnits(files, units, ins))
			if err == nil || !strings.Contains(err.Error(), "changed") || !strings.Contains(err.Error(), path) {
				t.Errorf("read %d documents of the rewritten file, error %v", len(docs), err)
			}
		})
	}
}
