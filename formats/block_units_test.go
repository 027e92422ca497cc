package formats

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sieve-data/sieve/pipeline"
)

// seqBlocks lays out blocks of the given sizes (10 rows each) after a 4-byte header and
// returns them with the size of the file, which ends with a 100-byte footer.
func seqBlocks(sizes ...int64) ([]fileBlock, int64) {
	off := int64(4)
	blocks := make([]fileBlock, len(sizes))
	for i, s := range sizes {
		blocks[i] = fileBlock{off: off, rows: 10}
		off += s
	}
	return blocks, off + 100
}

func TestCutBlocks(t *testing.T) {
	type span struct{ block, blocks int }
	equal, equalSize := seqBlocks(100, 100, 100, 100, 100, 100, 100, 100)
	three, threeSize := seqBlocks(100, 100, 100)
	huge, hugeSize := seqBlocks(10, 1000, 10, 10)
	one, oneSize := seqBlocks(1000)
	tests := []struct {
		name   string
		blocks []fileBlock
		size   int64
		parts  int64
		want   []span // nil: the file stays whole
	}{
		// size 904, a cut near every 226 bytes: at offsets 204, 404 and 704 (the nearest
		// row-group boundaries to 226, 452 and 678).
		{"equal row groups", equal, equalSize, 4, []span{{0, 2}, {2, 2}, {4, 3}, {7, 1}}},
		{"one unit per row group at most", three, threeSize, 10, []span{{0, 1}, {1, 1}, {2, 1}}},
		{"two parts", three, threeSize, 2, []span{{0, 2}, {2, 1}}},
		{"a huge row group is a unit of its own", huge, hugeSize, 4, []span{{0, 1}, {1, 1}, {2, 2}}},
		{"one row group", one, oneSize, 4, nil},
		{"one part", equal, equalSize, 1, nil},
		{"no row groups", nil, 100, 4, nil},
		{"out of order", []fileBlock{{off: 4, rows: 1}, {off: 500, rows: 1}, {off: 200, rows: 1}}, 1000, 3, nil},
		{"starts at byte 0", []fileBlock{{off: 0, rows: 1}, {off: 500, rows: 1}}, 1000, 2, nil},
		{"past the end", []fileBlock{{off: 4, rows: 1}, {off: 1000, rows: 1}}, 1000, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			units := cutBlocks(tt.blocks, tt.size, tt.parts)
			var got []span
			for _, u := range units {
				got = append(got, span{u.Block, u.Blocks})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("units %v, want %v", got, tt.want)
			}
			checkBlockUnits(t, units, tt.blocks, tt.size)
		})
	}
}

// checkBlockUnits checks that units cover the file's bytes and blocks in order, each
// knowing the rows before it.
func checkBlockUnits(t *testing.T, units []pipeline.InputUnit, blocks []fileBlock, size int64) {
	t.Helper()
	if len(units) == 0 {
		return
	}
	var end int64
	next, rows := 0, int64(0)
	for i, u := range units {
		if u.Start != end || u.End <= u.Start || u.Block != next || u.Blocks < 1 || u.Line != rows || u.Whole() {
			t.Fatalf("unit %d %+v after byte %d, block %d, %d rows", i, u, end, next, rows)
		}
		if i > 0 && u.Start != blocks[u.Block].off {
			t.Errorf("unit %d starts at %d, its first block at %d", i, u.Start, blocks[u.Block].off)
		}
		for _, b := range blocks[u.Block : u.Block+u.Blocks] {
			rows += b.rows
		}
		end, next = u.End, u.Block+u.Blocks
	}
	if end != size || next != len(blocks) {
		t.Errorf("units end at byte %d of %d, block %d of %d", end, size, next, len(blocks))
	}
}

// columnarFiles writes the files of the split tests: Parquet in row groups of 5 rows and
// Arrow IPC in batches of 5, 23 rows each.
func columnarFiles(t *testing.T, dir string) (parquetPath, arrowPath string) {
	t.Helper()
	rows := tableRows(23)
	return writeFile(t, dir, "t.parquet", writeTableParquet(t, rows, 5)),
		writeFile(t, dir, "t.arrow", writeArrowIPC(t, rows, 5, true))
}

// planUnits lists path as an input and splits it with target.
func planUnits(t testing.TB, path string, target int64) ([]pipeline.InputFileInfo, []pipeline.Input, []pipeline.InputUnit) {
	t.Helper()
	in := pipeline.DefaultInput()
	in.Path = path
	ins := []pipeline.Input{in}
	files, err := ListInputs(ins)
	if err != nil {
		t.Fatal(err)
	}
	units, err := SplitInputs(t.Context(), files, ins, target)
	if err != nil {
		t.Fatal(err)
	}
	return files, ins, units
}

func TestSplitInputsColumnar(t *testing.T) {
	dir := t.TempDir()
	rows := tableRows(23)
	pq, arrowFile := columnarFiles(t, dir)
	pqData, _ := os.ReadFile(pq)
	corrupt := append([]byte(nil), pqData...)
	copy(corrupt[len(corrupt)-12:], "garbage!")
	tests := []struct {
		name   string
		path   string
		target int64 // 0: half the file
		want   int   // units; 1 is the whole file
	}{
		{"parquet, a unit per row group", pq, 1, 5},
		{"parquet in two", pq, 0, 2},
		{"parquet smaller than the target", pq, 1 << 30, 1},
		{"parquet with one row group", writeFile(t, dir, "one.parquet", writeTableParquet(t, rows, 100)), 1, 1},
		{"parquet without rows", writeFile(t, dir, "none.parquet", writeTableParquet(t, nil, 5)), 1, 1},
		{"empty file", writeFile(t, dir, "empty.parquet", nil), 1, 1},
		{"corrupt parquet footer", writeFile(t, dir, "bad.parquet", corrupt), 1, 1},
		{"gzipped parquet", writeFile(t, dir, "z.parquet", gzipBytes(t, pqData)), 1, 1},
		{"arrow, a unit per batch", arrowFile, 1, 5},
		{"arrow in two", arrowFile, 0, 2},
		{"arrow with one batch", writeFile(t, dir, "one.arrow", writeArrowIPC(t, rows, 100, true)), 1, 1},
		{"arrow stream format", writeFile(t, dir, "s.arrows", writeArrowIPC(t, rows, 5, false)), 1, 1},
		{"zstd arrow file", writeFile(t, dir, "z.arrow", zstdBytes(t, writeArrowIPC(t, rows, 5, true))), 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fi, err := os.Stat(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			target := tt.target
			if target == 0 {
				target = fi.Size()/2 + 1
			}
			files, _, units := planUnits(t, tt.path, target)
			if len(units) != tt.want {
				t.Fatalf("%d units %+v, want %d", len(units), units, tt.want)
			}
			if tt.want == 1 {
				if !units[0].Whole() {
					t.Errorf("one unit, not the whole file: %+v", units[0])
				}
				return
			}
			var blocks []fileBlock
			if files[0].Format == "parquet" {
				blocks, err = parquetBlocks(tt.path)
			} else {
				blocks, err = arrowBlocks(tt.path, fi.Size())
			}
			if err != nil || len(blocks) != 5 {
				t.Fatalf("%d blocks: %v", len(blocks), err)
			}
			for i, b := range blocks {
				if want := int64(min(5, 23-5*i)); b.rows != want {
					t.Errorf("block %d: %d rows, want %d", i, b.rows, want)
				}
			}
			checkBlockUnits(t, units, blocks, fi.Size())
			// The units survive the plan file.
			b, _ := json.Marshal(units)
			var back []pipeline.InputUnit
			if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, units) {
				t.Errorf("units read back from JSON %+v, want %+v (%v)", back, units, err)
			}
		})
	}
}

// Reading a file in units of row groups or record batches gives the documents of reading it
// whole: same ids, texts, metadata, rejects, row numbers and offsets. Whole files carry
// their checksum; each unit its records.
func TestBlockUnitsReadAsWholeFile(t *testing.T) {
	pq, arrowFile := columnarFiles(t, t.TempDir())
	for _, path := range []string{pq, arrowFile} {
		data, _ := os.ReadFile(path)
		files, ins, whole := planUnits(t, path, 0)
		src := OpenUnits(files, whole, ins)
		want, err := readDocs(t, src)
		if err != nil || len(want) != 23 {
			t.Fatalf("%s whole: %d docs, %v", path, len(want), err)
		}
		if sums := src.InputFiles(); len(sums) != 1 || sums[0].SHA256 != sha256Hex(data) || sums[0].Records != 23 {
			t.Errorf("%s whole: summary %+v, want sha256 %s", path, sums, sha256Hex(data))
		}
		for _, target := range []int64{1, int64(len(data)) / 3, int64(len(data)) / 2} {
			_, _, units := planUnits(t, path, target)
			if len(units) < 2 {
				t.Fatalf("%s: target %d gave %d units", path, target, len(units))
			}
			src := OpenUnits(files, units, ins)
			got, err := readDocs(t, src)
			if err != nil {
				t.Fatalf("%s in %d units: %v", path, len(units), err)
			}
			if !reflect.DeepEqual(got, want) {
				for i := range min(len(got), len(want)) {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Fatalf("%s in %d units: doc %d\n%+v\nwant\n%+v", path, len(units), i, got[i], want[i])
					}
				}
				t.Fatalf("%s in %d units: %d docs, want %d", path, len(units), len(got), len(want))
			}
			var records, size int64
			for _, s := range src.InputFiles() {
				records += s.Records
				size += s.Size
				if s.SHA256 != "" {
					t.Errorf("%s: a unit has the checksum %s", path, s.SHA256)
				}
			}
			if records != 23 || size != int64(len(data)) {
				t.Errorf("%s in %d units: %d records, %d bytes", path, len(units), records, size)
			}
			if done, total := src.Progress(); done != total || total != int64(len(data)) {
				t.Errorf("%s in %d units: progress %d of %d", path, len(units), done, total)
			}
		}
	}
}

// A unit's readers release every Arrow buffer they allocate.
func TestBlockUnitsMemory(t *testing.T) {
	pq, arrowFile := columnarFiles(t, t.TempDir())
	for _, path := range []string{pq, arrowFile} {
		_, _, units := planUnits(t, path, 1)
		for _, u := range units {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			var (
				src pipeline.Source
				err error
			)
			if strings.HasSuffix(path, ".parquet") {
				src, err = openParquetBlocks(path, csvInput(nil), u, mem)
			} else {
				src, err = openArrowBlocks(path, csvInput(nil), u, mem)
			}
			if err != nil {
				t.Fatal(err)
			}
			docs, err := readDocs(t, src)
			if err != nil || len(docs) != int(min(5, 23-u.Line)) || docs[0].Origin.Line != u.Line+1 {
				t.Errorf("%s unit %+v: %d docs, %v", path, u, len(docs), err)
			}
			mem.AssertSize(t, 0)
		}
	}
}

// A file rewritten since the run was planned is an error naming it, not other rows.
func TestBlockUnitsFileChanged(t *testing.T) {
	pq, arrowFile := columnarFiles(t, t.TempDir())
	rows := tableRows(23)
	for _, tt := range []struct {
		name    string
		path    string
		rewrite []byte
	}{
		{"smaller row groups", pq, writeTableParquet(t, rows, 4)},
		{"rows removed", pq, writeTableParquet(t, rows[:20], 5)},
		{"smaller batches", arrowFile, writeArrowIPC(t, rows, 4, true)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			orig, _ := os.ReadFile(tt.path)
			defer os.WriteFile(tt.path, orig, 0o644)
			files, ins, units := planUnits(t, tt.path, 1)
			if err := os.WriteFile(tt.path, tt.rewrite, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := readDocs(t, OpenUnits(files, units, ins))
			if err == nil || !strings.Contains(err.Error(), "changed") || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("%s rewritten: %v", tt.path, err)
			}
		})
	}
}

func FuzzSplitColumnar(f *testing.F) {
	f.Add(writeTableParquet(f, tableRows(7), 2), false)
	f.Add(writeArrowIPC(f, tableRows(7), 2, true), true)
	f.Fuzz(func(t *testing.T, data []byte, arrowFile bool) {
		name, format := "f.parquet", "parquet"
		if arrowFile {
			name, format = "f.arrow", "arrow"
		}
		path := writeFile(t, t.TempDir(), name, data)
		fi := pipeline.InputFileInfo{Path: path, Format: format, Size: int64(len(data))}
		units, err := splitBlocks(t.Context(), fi, 4)
		if err != nil {
			t.Fatal(err)
		}
		if len(units) > 0 {
			blocks, _ := parquetBlocks(path)
			if arrowFile {
				blocks, _ = arrowBlocks(path, fi.Size)
			}
			checkBlockUnits(t, units, blocks, fi.Size)
		}
		for _, u := range units {
			src, err := openBlocks(path, format, csvInput(nil), u)
			if err != nil {
				continue
			}
			readDocs(t, src)
		}
	})
}

// benchArrowFile writes n rows of about 1 KB of text in record batches of batch rows and
// returns the file and its size.
func benchArrowFile(b *testing.B, n, batch int) (string, int64) {
	rows := tableRows(n)
	for i := range rows {
		text := strings.Repeat(fmt.Sprintf("Ẹ káàárọ̀ Habari ya asubuhi %d ", i), 30)
		rows[i].Text, rows[i].Doc, rows[i].Score = &text, true, 1
	}
	data := writeArrowIPC(b, rows, batch, true)
	return writeFile(b, b.TempDir(), "bench.arrow", data), int64(len(data))
}

// BenchmarkBlockUnits reads a Parquet file of 10 row groups and an Arrow IPC file of 10
// record batches through OpenUnits, whole and as 5 units of whole blocks read one after the
// other: the task-mode reading paths (a whole Parquet file is hashed too; units are not).
func BenchmarkBlockUnits(b *testing.B) {
	pq, pqSize, pqRows := benchParquetFile(b, 20000, 2000)
	arrowPath, arrowSize := benchArrowFile(b, 20000, 2000)
	for _, f := range []struct {
		name string
		path string
		size int64
		rows int
	}{{"parquet", pq, pqSize, pqRows}, {"arrow", arrowPath, arrowSize, 20000}} {
		fi, _ := os.Stat(f.path)
		for _, target := range []int64{0, fi.Size()/5 + 1} {
			name := f.name + "/whole"
			if target > 0 {
				name = f.name + "/5_units"
			}
			b.Run(name, func(b *testing.B) {
				files, ins, units := planUnits(b, f.path, target)
				if target > 0 && len(units) != 5 {
					b.Fatalf("%d units", len(units))
				}
				benchReader(b, f.size, f.rows, func() (pipeline.Source, error) { return OpenUnits(files, units, ins), nil })
			})
		}
	}
}

// BenchmarkSplitInputsColumnar plans a Parquet file of 100 row groups and an Arrow IPC file
// of 100 record batches into units: reading the footer (and, for Arrow, each batch's
// metadata), the cost of planning that every task of a run pays unless the plan is stored
// first (sieve plan --write, slurm, k8s).
func BenchmarkSplitInputsColumnar(b *testing.B) {
	pq, _, _ := benchParquetFile(b, 20000, 200)
	arrowPath, _ := benchArrowFile(b, 20000, 200)
	for _, f := range []struct{ name, path string }{{"parquet", pq}, {"arrow", arrowPath}} {
		b.Run(f.name, func(b *testing.B) {
			files, ins, _ := planUnits(b, f.path, 0)
			b.ReportAllocs()
			for b.Loop() {
				units, err := SplitInputs(b.Context(), files, ins, files[0].Size/10)
				if err != nil || len(units) < 9 {
					b.Fatalf("%d units: %v", len(units), err)
				}
			}
		})
	}
}
