package formats

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sieve-data/sieve/pipeline"
)

func init() {
	pipeline.RegisterReader("csv", func(path string, in *pipeline.Input) (pipeline.Source, error) {
		return NewCSVReader(path, in, ',')
	})
	pipeline.RegisterReader("tsv", func(path string, in *pipeline.Input) (pipeline.Source, error) {
		return NewCSVReader(path, in, '\t')
	})
}

// CSVReader reads comma- or tab-separated values, one document per record.
//
//   - Columns are named by the first record (the header row), or by in.Columns for a file
//     without one. A header column with an empty name is called "column_N" (N counts from 1),
//     as pandas writes its index. A name given twice is an error.
//   - The text comes from the column named in.TextField, the id from in.IDField (names are
//     matched whole: a dot is part of the name). An empty id cell (or one that is not valid
//     UTF-8), or no id column, gives the id "<file base>:<line>". Every other column goes into doc.Meta as a string (an empty
//     cell is ""; CSV has no null).
//   - in.Delimiter, when set, replaces the default separator: ',' for format csv, a tab for
//     tsv. in.Quoting "csv" (the default) follows RFC 4180 as encoding/csv reads it: a field
//     may be quoted with '"', a quote inside it doubled, and may then span lines; "none"
//     reads one record per line and splits it at every delimiter, quotes being plain
//     characters (the "linear" TSV of most corpora, where fields hold no tab or newline).
//   - Empty lines are not records. A UTF-8 byte order mark at the start is ignored, and so is
//     a "\r" before each "\n". Origin.Line is the line where the record starts (header
//     included, so it matches an editor's), Origin.Offset its byte offset in the decompressed
//     stream.
//
// A file whose columns do not include the text column cannot give any document: NewCSVReader
// returns an error naming the file and the columns it has, whatever in.OnError says. So does
// a header that cannot be parsed.
//
// A record that cannot be used becomes, with on_error: reject, a document pre-rejected by
// stage "read": read.invalid_csv (bad quoting, or a field count other than the header's: the
// detail names the line and column), read.invalid_utf8, read.empty_text. With on_error: fail,
// Next returns a *ReadError naming file, line and offset instead. A record longer than
// in.MaxRecordBytes is rejected as read.record_too_large. With quoting csv, one longer than
// that plus 64 KiB (an unterminated quote, most likely) is not held in memory: it gives one
// read.record_too_large reject and ends the file, since the end of a CSV record cannot be
// found without parsing its quotes (the detail says the rest is not read). A truncated
// compressed file gives one read.truncated reject, as for JSONL.
type CSVReader struct {
	f    *File
	name string
	base string
	fail bool
	max  int

	// quoting csv
	cr  *csv.Reader
	lim *recordLimiter
	// quoting none
	lr *lineReader
	l  line

	sep      string   // the delimiter
	cols     []string // column names
	textCol  int
	idCol    int   // -1 when there is no id column
	nMeta    int   // columns that go into Meta at most
	bodyOff  int64 // offset of the byte the csv.Reader starts at (after a BOM, or a unit's start)
	prevOff  int64 // csv.Reader's input offset after the previous record
	lastLine int64 // line where the csv.Reader's previous record ended (about), counted from bodyOff
	done     bool
	nCheck   int

	// A task-mode unit (see openCSVRange): lines before the unit, added to the csv.Reader's
	// line numbers; with quoting none, lines up to skipTo are the header or blank ones
	// before it.
	lineBase int64
	skipTo   int64
}

var (
	_ pipeline.Source     = (*CSVReader)(nil)
	_ pipeline.Progresser = (*CSVReader)(nil)
)

// NewCSVReader opens path and reads its header. delim is the separator used when
// in.Delimiter is empty. Unset fields of in take pipeline.DefaultInput's values.
func NewCSVReader(path string, in *pipeline.Input, delim rune) (*CSVReader, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	r, err := newCSVReader(f, in, delim, readBufSize)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// csvOptions checks the csv keys of in and returns the delimiter and whether fields are
// quoted.
func csvOptions(in *pipeline.Input, delim rune) (rune, bool, error) {
	if in != nil && in.Delimiter != "" {
		d, n := utf8.DecodeRuneInString(in.Delimiter)
		if n != len(in.Delimiter) || !validDelim(d) {
			return 0, false, fmt.Errorf("delimiter %q: must be one character other than a quote, CR or LF", in.Delimiter)
		}
		delim = d
	}
	quoted := true
	if in != nil {
		switch in.Quoting {
		case "", "csv":
		case "none":
			quoted = false
		default:
			return 0, false, fmt.Errorf("quoting %q: must be one of csv, none", in.Quoting)
		}
	}
	return delim, quoted, nil
}

func validDelim(d rune) bool {
	return d != '"' && d != '\r' && d != '\n' && d != utf8.RuneError && utf8.ValidRune(d)
}

// newCSVReader reads the header of f (closed by Close, but not on error).
func newCSVReader(f *File, in *pipeline.Input, delim rune, bufSize int) (*CSVReader, error) {
	return newCSVReaderAt(f, in, delim, bufSize, true)
}

// newCSVReaderAt is newCSVReader; atStart false reads f from inside a file (a task-mode
// unit): a byte order mark is not looked for.
func newCSVReaderAt(f *File, in *pipeline.Input, delim rune, bufSize int, atStart bool) (*CSVReader, error) {
	cfg := withDefaults(in)
	delim, quoted, err := csvOptions(&cfg, delim)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	r := &CSVReader{f: f, name: f.Name(), base: filepath.Base(f.Name()), fail: cfg.OnError == "fail",
		max: cfg.MaxRecordBytes, idCol: -1, sep: string(delim)}
	if quoted {
		br := bufio.NewReaderSize(f, bufSize)
		if b, _ := br.Peek(3); atStart && bytes.Equal(b, utf8BOM) {
			br.Discard(3)
			r.bodyOff = 3
		}
		r.lim = newRecordLimiter(br, int64(cfg.MaxRecordBytes))
		r.cr = csv.NewReader(r.lim)
		r.cr.Comma = delim
		r.cr.ReuseRecord = true
	} else {
		r.lr = newLineReader(f, cfg.MaxRecordBytes, bufSize)
	}
	if len(cfg.Columns) > 0 {
		r.cols = slices.Clone(cfg.Columns)
	} else if err := r.readHeader(); err != nil {
		return nil, err
	}
	if r.cols == nil {
		return r, nil // empty file
	}
	if r.cr != nil {
		r.cr.FieldsPerRecord = len(r.cols)
	}
	seen := make(map[string]bool, len(r.cols))
	for i, c := range r.cols {
		if c == "" {
			c = "column_" + strconv.Itoa(i+1)
			r.cols[i] = c
		}
		if seen[c] {
			return nil, fmt.Errorf("%s: column %q appears twice in the header", r.name, c)
		}
		seen[c] = true
	}
	r.textCol = -1 // with an adapter (formats/adapter.go) no column is the text
	if cfg.Adapter == "" {
		r.textCol = slices.Index(r.cols, cfg.TextField)
	}
	if r.textCol < 0 && cfg.Adapter == "" {
		return nil, fmt.Errorf("%s: no column %q for the text (text_field); the columns are %s",
			r.name, cfg.TextField, quoteList(r.cols))
	}
	if cfg.IDField != "" {
		r.idCol = slices.Index(r.cols, cfg.IDField)
	}
	r.nMeta = len(r.cols)
	if r.textCol >= 0 {
		r.nMeta--
	}
	if r.idCol >= 0 && r.idCol != r.textCol {
		r.nMeta--
	}
	return r, nil
}

// readHeader reads the first record as column names; r.cols stays nil for an empty file.
func (r *CSVReader) readHeader() error {
	if r.cr == nil {
		for {
			err := r.lr.next(&r.l)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if r.l.tooLong {
				return &ReadError{File: r.name, Line: r.l.no, Offset: r.l.off, Err: fmt.Errorf("header line of %d bytes exceeds max_record_bytes %d", r.l.size, r.max)}
			}
			b := trimCR(r.l.b)
			if len(b) == 0 {
				continue
			}
			if !utf8.Valid(b) {
				return &ReadError{File: r.name, Line: r.l.no, Offset: r.l.off, Err: errors.New("header is not valid UTF-8")}
			}
			r.cols = strings.Split(string(b), r.sep)
			return nil
		}
	}
	r.lim.start(0)
	rec, err := r.cr.Read()
	r.prevOff = r.cr.InputOffset()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return &ReadError{File: r.name, Line: int64(pe.StartLine), Offset: r.bodyOff, Err: fmt.Errorf("header: %w", err)}
		}
		if errors.Is(err, errRecordTooLarge) {
			return &ReadError{File: r.name, Line: 1, Offset: r.bodyOff, Err: fmt.Errorf("header longer than max_record_bytes %d", r.max)}
		}
		return err
	}
	for _, c := range rec {
		if !utf8.ValidString(c) {
			return &ReadError{File: r.name, Line: 1, Offset: r.bodyOff, Err: errors.New("header is not valid UTF-8")}
		}
	}
	r.cols = slices.Clone(rec)
	last, _ := r.cr.FieldPos(len(rec) - 1)
	r.lastLine = int64(last)
	return nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// Columns returns the column names: the header's, or in.Columns.
func (r *CSVReader) Columns() []string { return slices.Clone(r.cols) }

func (r *CSVReader) file() *File { return r.f }

// Progress reports compressed bytes read of the file's size.
func (r *CSVReader) Progress() (done, total int64) { return r.f.Consumed(), r.f.Size() }

// Close closes the file.
func (r *CSVReader) Close() error { return r.f.Close() }

// Next fills doc (reset by the caller) with the next record.
func (r *CSVReader) Next(ctx context.Context, doc *pipeline.Document) error {
	if r.done || r.cols == nil {
		return io.EOF
	}
	if r.nCheck++; r.nCheck&255 == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if r.cr == nil {
		return r.nextLine(doc)
	}
	r.lim.start(r.prevOff)
	rec, err := r.cr.Read()
	r.prevOff = r.cr.InputOffset()
	if err == io.EOF {
		r.done = true
		return io.EOF
	}
	doc.Origin = pipeline.Position{File: r.name, Offset: r.bodyOff + r.prevOff}
	if err != nil {
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			doc.Origin.Line = r.lineBase + int64(pe.StartLine)
			doc.Origin.Offset = r.bodyOff + r.lim.lineStart(int64(pe.StartLine))
			r.lastLine = int64(pe.Line)
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				return r.reject(doc, ReasonInvalidCSV, fmt.Sprintf("line %d: record has %d fields, the header has %d", doc.Origin.Line, len(rec), len(r.cols)))
			}
			return r.reject(doc, ReasonInvalidCSV, fmt.Sprintf("line %d, column %d: %v", r.lineBase+int64(pe.Line), pe.Column, pe.Err))
		case errors.Is(err, errRecordTooLarge):
			r.done = true
			doc.Origin.Line = r.lineBase + r.lastLine + 1
			doc.Origin.Offset = r.bodyOff + r.lim.lineStart(r.lastLine+1)
			return r.reject(doc, ReasonRecordTooLarge, fmt.Sprintf("record longer than max_record_bytes %d (an unterminated quote?); the rest of the file is not read", r.max))
		default:
			r.done = true
			var re *ReadError
			if errors.As(err, &re) {
				re.Line = r.lineBase + r.lastLine + 1
			}
			return truncated(err, doc, r.base, r.fail)
		}
	}
	line, _ := r.cr.FieldPos(0)
	doc.Origin.Line = r.lineBase + int64(line)
	doc.Origin.Offset = r.bodyOff + r.lim.lineStart(int64(line))
	last, _ := r.cr.FieldPos(len(rec) - 1)
	r.lastLine = int64(last)
	return r.fill(doc, rec)
}

func (r *CSVReader) nextLine(doc *pipeline.Document) error {
	l := &r.l
	var b []byte
	for {
		err := r.lr.next(l)
		if err == io.EOF {
			r.done = true
			return io.EOF
		}
		if err != nil {
			r.done = true
			return truncated(err, doc, r.base, r.fail)
		}
		if l.no <= r.skipTo {
			continue
		}
		if l.tooLong {
			break
		}
		if b = trimCR(l.b); len(b) > 0 {
			break
		}
	}
	doc.Origin = pipeline.Position{File: r.name, Line: l.no, Offset: l.off}
	if l.tooLong {
		return r.reject(doc, ReasonRecordTooLarge, fmt.Sprintf("line of %d bytes exceeds max_record_bytes %d", l.size, r.max))
	}
	if n := strings.Count(string(b), r.sep) + 1; n != len(r.cols) {
		return r.reject(doc, ReasonInvalidCSV, fmt.Sprintf("line %d: record has %d fields, the header has %d", l.no, n, len(r.cols)))
	}
	s := string(b)
	rec := make([]string, 0, len(r.cols))
	for range len(r.cols) - 1 {
		field, rest, _ := strings.Cut(s, r.sep)
		rec = append(rec, field)
		s = rest
	}
	rec = append(rec, s)
	return r.fill(doc, rec)
}

// fill makes doc from a record with one field per column.
func (r *CSVReader) fill(doc *pipeline.Document, rec []string) error {
	if r.idCol >= 0 && rec[r.idCol] != "" && utf8.ValidString(rec[r.idCol]) {
		doc.ID = rec[r.idCol]
	} else {
		doc.ID = fallbackID(r.base, doc.Origin.Line)
	}
	size := 0
	for _, v := range rec {
		size += len(v)
	}
	if size > r.max {
		return r.reject(doc, ReasonRecordTooLarge, fmt.Sprintf("record of %d bytes exceeds max_record_bytes %d", size, r.max))
	}
	for i, v := range rec {
		if !utf8.ValidString(v) {
			doc.Text = strings.ToValidUTF8(strings.Join(rec, r.sep), "\uFFFD")
			return r.reject(doc, ReasonInvalidUTF8, fmt.Sprintf("column %q: invalid UTF-8 at byte %d of the field", r.cols[i], invalidUTF8At([]byte(v))))
		}
	}
	for i, v := range rec {
		if i == r.textCol || i == r.idCol && v != "" {
			continue
		}
		if doc.Meta == nil {
			doc.Meta = make(map[string]any, r.nMeta+1)
		}
		doc.Meta[r.cols[i]] = v
	}
	if r.textCol < 0 {
		return nil
	}
	text := rec[r.textCol]
	if isSpace(text) {
		doc.Text = text
		if text == "" {
			return r.reject(doc, ReasonEmptyText, "text is empty")
		}
		return r.reject(doc, ReasonEmptyText, "text is only white space")
	}
	doc.Text = text
	return nil
}

// reject pre-rejects doc, or returns the fatal error with on_error: fail.
func (r *CSVReader) reject(doc *pipeline.Document, reason, detail string) error {
	if r.fail {
		return &ReadError{File: r.name, Line: doc.Origin.Line, Offset: doc.Origin.Offset, Reason: reason, Err: errors.New(detail)}
	}
	if doc.ID == "" {
		doc.ID = fallbackID(r.base, doc.Origin.Line)
	}
	doc.Reject(Stage, reason, detail)
	return nil
}

// errRecordTooLarge is returned by a recordLimiter to the csv.Reader above it.
var errRecordTooLarge = errors.New("record too large")

// recordLimiter sits under a csv.Reader. It bounds the bytes the csv.Reader may read for one
// record: once it has handed out more than max bytes (plus the csv.Reader's read-ahead) past
// the end of the previous record, it fails with errRecordTooLarge, so that an unterminated
// quote cannot make the csv.Reader hold the rest of a huge file. It also notes where each
// line it hands out starts, since the csv.Reader tells a record's line but not its offset
// (it skips empty lines before a record).
type recordLimiter struct {
	r     io.Reader
	max   int64
	off   int64   // bytes handed out, counted from the stream's start
	limit int64   // off may not go past this
	line0 int64   // line number of starts[0]
	lines []int64 // offsets where lines line0, line0+1, ... start (the last one may not be read yet)
}

// csvReadAhead is more than the csv.Reader's own buffer (4 KiB).
const csvReadAhead = 64 << 10

func newRecordLimiter(r io.Reader, max int64) *recordLimiter {
	return &recordLimiter{r: r, max: max, line0: 1, lines: []int64{0}}
}

// start begins a record after stream offset off.
func (l *recordLimiter) start(off int64) { l.limit = off + l.max + csvReadAhead }

// lineStart returns the offset where line n starts, and forgets the lines before it. n must
// not be before a line forgotten already.
func (l *recordLimiter) lineStart(n int64) int64 {
	i := n - l.line0
	if i < 0 || i >= int64(len(l.lines)) {
		return l.lines[len(l.lines)-1] // not reached: the csv.Reader read line n from here
	}
	off := l.lines[i]
	if i > 0 {
		k := copy(l.lines, l.lines[i:])
		l.lines = l.lines[:k]
		l.line0 = n
	}
	return off
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.off >= l.limit {
		return 0, errRecordTooLarge
	}
	if room := l.limit - l.off; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	for b, base := p[:n], l.off; ; {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		base += int64(i) + 1
		l.lines = append(l.lines, base)
		b = b[i+1:]
	}
	l.off += int64(n)
	return n, err
}
