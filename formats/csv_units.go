package formats

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"

	"github.com/sieve-data/sieve/pipeline"
)

// csvDelim is the default delimiter of format csv or tsv.
func csvDelim(format string) rune {
	if format == "tsv" {
		return '\t'
	}
	return ','
}

// splitCSV cuts an uncompressed CSV or TSV file read with quoting csv into at most parts
// ranges, each starting right after a record. A newline inside a quoted field is part of
// the field, and only a parse from the start of the file tells which newlines are inside
// quotes, so the file is read once with the csv.Reader of CSVReader and its options: a
// range starts where the csv.Reader's input offset is after a well-formed record, with the
// lines up to there counted, so that line numbers, offsets and ids stay those of the whole
// file. A malformed record (a reject) is never followed by a cut.
//
// It returns nil, and the file stays whole, when reading it in ranges could differ from
// reading it whole: a header that cannot be read, a record longer than max_record_bytes
// (CSVReader's guard against an unterminated quote then ends the file, at a point that
// depends on where its reads fall), an I/O error (the reader reports it), or no cut.
func splitCSV(ctx context.Context, f pipeline.InputFileInfo, in *pipeline.Input, parts int64) ([]pipeline.InputUnit, error) {
	file, err := Open(f.Path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	if file.Codec() != CodecNone {
		return nil, nil
	}
	r, err := newCSVReader(file, in, csvDelim(f.Format), readBufSize)
	if err != nil || r.cols == nil || r.cr == nil {
		return nil, nil
	}
	var (
		units            []pipeline.InputUnit
		start, startLine int64
		k                int64 = 1
		step                   = f.Size / parts
	)
	for n := 1; ; n++ {
		if n&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		from := r.prevOff
		r.lim.start(from)
		rec, err := r.cr.Read()
		r.prevOff = r.cr.InputOffset()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) || r.prevOff-from > int64(r.max) {
			return nil, nil
		}
		end := r.bodyOff + r.prevOff
		if err != nil || k >= parts || end < k*step || end >= f.Size {
			continue
		}
		// The record ends on the line its last field starts on, plus the newlines inside
		// that field (quoted; encoding/csv turns a quoted "\r\n" into "\n").
		line, _ := r.cr.FieldPos(len(rec) - 1)
		units = append(units, pipeline.InputUnit{Start: start, End: end, Line: startLine})
		start, startLine = end, int64(line)+int64(strings.Count(rec[len(rec)-1], "\n"))
		for k < parts && k*step <= end {
			k++
		}
	}
	if len(units) == 0 {
		return nil, nil
	}
	return append(units, pipeline.InputUnit{Start: start, End: f.Size, Line: startLine}), nil
}

// openCSVRange makes a CSVReader of f, the bytes of unit u of a CSV or TSV file, whose line
// numbers, offsets and ids are those of the whole file. The file's first unit holds the
// header and is read as a file; a later one takes its columns from the file's header (or
// in.Columns), read apart.
func openCSVRange(f *File, format string, in *pipeline.Input, u pipeline.InputUnit) (*CSVReader, error) {
	delim := csvDelim(format)
	if u.Start == 0 {
		return newCSVReader(f, in, delim, readBufSize)
	}
	cfg := withDefaults(in)
	var headerLine int64
	if len(cfg.Columns) == 0 {
		h, err := NewCSVReader(f.Name(), in, delim)
		if err != nil {
			return nil, err
		}
		cfg.Columns = h.Columns()
		if h.lr != nil {
			headerLine = h.l.no
		}
		h.Close()
		if cfg.Columns == nil {
			// No header: only blank lines (quoting none), which the whole file's reader
			// skips without a record.
			return &CSVReader{f: f, name: f.Name(), done: true}, nil
		}
	}
	r, err := newCSVReaderAt(f, &cfg, delim, readBufSize, false)
	if err != nil {
		return nil, err
	}
	r.bodyOff, r.lineBase = u.Start, u.Line
	if r.lr != nil {
		r.lr.lineNo, r.lr.off = u.Line, u.Start
		r.skipTo = headerLine
	}
	return r, nil
}
