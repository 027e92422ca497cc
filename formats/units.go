package formats

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sieve-data/sieve/pipeline"
)

// ListInputs expands the configured inputs (PlanInputs) and records each file's size and
// modification time, without reading it: what a task-mode run plans from and compares with
// on a rerun.
func ListInputs(ins []pipeline.Input) ([]pipeline.InputFileInfo, error) {
	files, err := PlanInputs(ins, "")
	if err != nil {
		return nil, err
	}
	out := make([]pipeline.InputFileInfo, len(files))
	for i, f := range files {
		fi, err := os.Stat(f.Path)
		if err != nil {
			return nil, fmt.Errorf("inputs[%d]: %w", f.Index, err)
		}
		out[i] = pipeline.InputFileInfo{Path: f.Path, Input: f.Index, Format: f.Format, Size: f.Size, MTime: fi.ModTime().UnixNano()}
	}
	return out, nil
}

// splittable reports whether a file can be read in byte ranges: an uncompressed JSONL,
// CSV or TSV file, or text read line by line.
func splittable(f pipeline.InputFileInfo, in *pipeline.Input) (bool, error) {
	switch {
	case f.Format == "jsonl", f.Format == "csv", f.Format == "tsv":
	case f.Format == "text" && withDefaults(in).TextMode == "line":
	default:
		return false, nil
	}
	file, err := Open(f.Path)
	if err != nil {
		return false, err
	}
	defer file.Close()
	return file.Codec() == CodecNone, nil
}

// SplitInputs cuts the files into the units a task-mode run assigns to its tasks. A file
// larger than target bytes (target > 0) is cut into about size/target units where its
// format allows:
//
//   - an uncompressed JSONL file, or text read line by line (see splittable), into byte
//     ranges each starting at the beginning of a line, with the number of lines before it
//     counted so that line numbers and ids stay those of the whole file; this reads the
//     file once; so is an uncompressed CSV or TSV file with quoting none;
//   - an uncompressed CSV or TSV file with quoting csv into byte ranges each starting after
//     a record, found by parsing the whole file as CSVReader does (see splitCSV);
//   - a Parquet file into runs of whole row groups, an uncompressed Arrow IPC file (the file
//     format, with its footer) into runs of whole record batches, with the rows before each
//     run (see splitBlocks); this reads only the footer (and, for Arrow, the metadata of
//     each record batch).
//
// Every other file is one unit, and so is a file with a single row group or batch.
func SplitInputs(ctx context.Context, files []pipeline.InputFileInfo, ins []pipeline.Input, target int64) ([]pipeline.InputUnit, error) {
	var out []pipeline.InputUnit
	for i, f := range files {
		whole := pipeline.InputUnit{File: i, End: -1}
		if target <= 0 || f.Size <= target {
			out = append(out, whole)
			continue
		}
		if f.Format == "parquet" || f.Format == "arrow" {
			units, err := splitBlocks(ctx, f, (f.Size+target-1)/target)
			if err != nil {
				return nil, err
			}
			if len(units) < 2 {
				out = append(out, whole)
			}
			for _, u := range units {
				u.File = i
				out = append(out, u)
			}
			continue
		}
		ok, err := splittable(f, &ins[f.Input])
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, whole)
			continue
		}
		parts := (f.Size + target - 1) / target
		var units []pipeline.InputUnit
		if (f.Format == "csv" || f.Format == "tsv") && withDefaults(&ins[f.Input]).Quoting != "none" {
			units, err = splitCSV(ctx, f, &ins[f.Input], parts)
		} else {
			units, err = splitFile(ctx, f.Path, f.Size, parts)
		}
		if err != nil {
			return nil, err
		}
		if len(units) < 2 { // no cut: a range of the whole file would be read without its checksum
			out = append(out, whole)
			continue
		}
		for _, u := range units {
			u.File = i
			out = append(out, u)
		}
	}
	return out, nil
}

// splitFile cuts a file of size bytes into at most parts ranges at line starts.
func splitFile(ctx context.Context, path string, size, parts int64) ([]pipeline.InputUnit, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var (
		units      []pipeline.InputUnit
		pos, lines int64 // position of br in the file; newlines before it
		start      int64
		startLine  int64
	)
	for k := int64(1); k < parts; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := k * size / parts
		if p <= pos {
			continue // the last cut already went past this point (a long line)
		}
		// Count the lines up to byte p-1, then read to the end of the line holding it: the
		// next line starts the new range.
		for pos < p-1 {
			b, err := br.Peek(int(min(p-1-pos, 1<<20)))
			if len(b) == 0 && err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			lines += int64(bytes.Count(b, []byte{'\n'}))
			pos += int64(len(b))
			br.Discard(len(b))
		}
		found := false
		for !found {
			frag, err := br.ReadSlice('\n')
			pos += int64(len(frag))
			if err == nil {
				found = true
				lines++
				break
			}
			if err == io.EOF {
				break
			}
			if err != bufio.ErrBufferFull {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
		if !found || pos >= size {
			break
		}
		units = append(units, pipeline.InputUnit{Start: start, End: pos, Line: startLine})
		start, startLine = pos, lines
	}
	units = append(units, pipeline.InputUnit{Start: start, End: size, Line: startLine})
	return units, nil
}

// UnitSource is a pipeline.Source over input units (see SplitInputs), read one after the
// other; at most one file is open at a time. It records one pipeline.InputFile per unit.
type UnitSource struct {
	files []pipeline.InputFileInfo
	units []pipeline.InputUnit
	ins   []pipeline.Input
	next  int

	mu       sync.Mutex // guards cur, curFile and sums against Progress/InputFiles
	cur      pipeline.Source
	curFile  *File
	curSum   checksummer // a reader hashing its file itself; nil when curFile is set
	curUnit  int
	records  int64
	sums     []pipeline.InputFile
	doneSize atomic.Int64
	total    int64
}

var (
	_ pipeline.Source        = (*UnitSource)(nil)
	_ pipeline.Progresser    = (*UnitSource)(nil)
	_ pipeline.InputRecorder = (*UnitSource)(nil)
)

// OpenUnits returns a source reading units of files in order; ins are the config's input
// entries the files refer to. Files are opened lazily by Next.
func OpenUnits(files []pipeline.InputFileInfo, units []pipeline.InputUnit, ins []pipeline.Input) *UnitSource {
	s := &UnitSource{files: files, units: units, ins: ins}
	for _, u := range units {
		s.total += u.Bytes(files)
	}
	return s
}

// Next fills doc with the next record, moving on to the next unit at the end of one.
func (s *UnitSource) Next(ctx context.Context, doc *pipeline.Document) error {
	for {
		if s.cur == nil {
			if s.next >= len(s.units) {
				return io.EOF
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := s.open(s.next); err != nil {
				return err
			}
			s.next++
		}
		err := s.cur.Next(ctx, doc)
		if err == nil {
			s.records++
			return nil
		}
		if err != io.EOF {
			return err
		}
		if err := s.finish(); err != nil {
			return err
		}
	}
}

func (s *UnitSource) open(i int) error {
	u := s.units[i]
	if u.File < 0 || u.File >= len(s.files) {
		return fmt.Errorf("input unit %d names file %d of %d", i, u.File, len(s.files))
	}
	fi := s.files[u.File]
	if fi.Input < 0 || fi.Input >= len(s.ins) {
		return fmt.Errorf("%s: input entry %d of %d", fi.Path, fi.Input, len(s.ins))
	}
	in := &s.ins[fi.Input]
	var (
		src pipeline.Source
		err error
	)
	if u.Whole() {
		factory, ok := pipeline.LookupReader(fi.Format)
		if !ok {
			return fmt.Errorf("%s: no reader for format %q", fi.Path, fi.Format)
		}
		src, err = factory(fi.Path, in)
	} else if err = checkPlanned(fi); err == nil {
		src, err = openRange(fi.Path, fi.Format, in, u)
	}
	if err != nil {
		return err
	}
	var (
		curFile *File
		curSum  checksummer
	)
	if fsrc, ok := src.(fileSource); ok {
		curFile = fsrc.file()
	}
	if cs, ok := src.(checksummer); ok && curFile == nil {
		curSum = cs
	}
	if src, err = wrapAdapter(src, in); err != nil {
		return fmt.Errorf("%s: %w", fi.Path, err)
	}
	s.mu.Lock()
	s.cur, s.curUnit, s.records, s.curFile, s.curSum = src, i, 0, curFile, curSum
	s.mu.Unlock()
	return nil
}

// checkPlanned fails when a file has another size or modification time than when the run
// was planned: the cuts of its units, taken from the plan, would fall elsewhere in it.
func checkPlanned(fi pipeline.InputFileInfo) error {
	st, err := os.Stat(fi.Path)
	if err != nil {
		return err
	}
	if st.Size() != fi.Size || st.ModTime().UnixNano() != fi.MTime {
		return fmt.Errorf("%s: %d bytes modified %s, but the run was planned with %d bytes modified %s (the file changed since)",
			fi.Path, st.Size(), st.ModTime().UTC().Format(time.RFC3339Nano), fi.Size, time.Unix(0, fi.MTime).UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// checksummer is a reader that does not read its file through File (Parquet, which needs
// random access) and computes the file's SHA-256 itself: checksum returns it once the
// reader is done, reading what it did not read; "" when it read part of the file.
type checksummer interface {
	checksum() (string, error)
}

// openRange opens the byte range of an uncompressed line-based file, or the blocks of a
// columnar file, as a reader whose line (row) numbers and offsets are those of the whole
// file.
func openRange(path, format string, in *pipeline.Input, u pipeline.InputUnit) (pipeline.Source, error) {
	if u.Blocks > 0 {
		return openBlocks(path, format, in, u)
	}
	osf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, err
	}
	if fi.Size() < u.End {
		osf.Close()
		return nil, fmt.Errorf("%s: %d bytes, but the run was planned with %d (the file changed)", path, fi.Size(), u.End)
	}
	src := &countingReader{r: io.NewSectionReader(osf, u.Start, u.End-u.Start), h: nopHash{}}
	f := &File{name: path, codec: CodecNone, size: u.End - u.Start, c: osf, src: src, r: src, out: u.Start}
	switch format {
	case "jsonl":
		r := newJSONLReader(f, in, readBufSize)
		r.lr.lineNo, r.lr.off = u.Line, u.Start
		return r, nil
	case "text":
		if err := checkTextMode(in); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r := newTextReader(f, in, readBufSize)
		r.lr.lineNo, r.lr.off = u.Line, u.Start
		return r, nil
	case "csv", "tsv":
		r, err := openCSVRange(f, format, in, u)
		if err != nil {
			f.Close()
			return nil, err
		}
		return r, nil
	}
	f.Close()
	return nil, fmt.Errorf("%s: format %s cannot be read in byte ranges", path, format)
}

// finish closes the current unit and records it.
func (s *UnitSource) finish() error {
	u := s.units[s.curUnit]
	fi := s.files[u.File]
	sum := pipeline.InputFile{Path: fi.Path, Format: fi.Format, Compression: string(CodecNone), Size: u.Bytes(s.files), Records: s.records}
	var err error
	if s.curFile != nil {
		if u.Whole() {
			err = s.curFile.Finish()
			sum.SHA256 = s.curFile.Sum()
		}
		sum.Compression = string(s.curFile.Codec())
	} else if s.curSum != nil && u.Whole() {
		sum.SHA256, err = s.curSum.checksum()
	}
	if cerr := s.cur.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", fi.Path, cerr)
	}
	s.mu.Lock()
	s.cur, s.curFile, s.curSum = nil, nil, nil
	s.sums = append(s.sums, sum)
	s.doneSize.Add(u.Bytes(s.files))
	s.mu.Unlock()
	return err
}

// Progress returns bytes read from disk over all units and their total. Safe to call from
// another goroutine.
func (s *UnitSource) Progress() (done, total int64) {
	done = s.doneSize.Load()
	s.mu.Lock()
	if s.curFile != nil {
		done += s.curFile.Consumed()
	} else if p, ok := s.cur.(pipeline.Progresser); ok {
		d, _ := p.Progress()
		done += d
	}
	s.mu.Unlock()
	return done, s.total
}

// InputFiles lists the units read to their end so far (pipeline.InputRecorder); SHA256 is
// set for whole files only.
func (s *UnitSource) InputFiles() []pipeline.InputFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]pipeline.InputFile(nil), s.sums...)
}

// Close closes the current unit, if any. It is safe to call more than once.
func (s *UnitSource) Close() error {
	s.mu.Lock()
	cur := s.cur
	s.cur, s.curFile, s.curSum = nil, nil, nil
	s.mu.Unlock()
	s.next = len(s.units)
	if cur != nil {
		return cur.Close()
	}
	return nil
}

// nopHash stands in for SHA-256 where a checksum of part of a file means nothing.
type nopHash struct{}

func (nopHash) Write(p []byte) (int, error) { return len(p), nil }
func (nopHash) Sum(b []byte) []byte         { return b }
func (nopHash) Reset()                      {}
func (nopHash) Size() int                   { return 0 }
func (nopHash) BlockSize() int              { return 1 }
