package formats

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sieve-data/sieve/pipeline"
)

func init() {
	pipeline.RegisterReader("text", func(path string, in *pipeline.Input) (pipeline.Source, error) {
		return NewTextReader(path, in)
	})
}

// TextReader reads plain UTF-8 text, split according to in.TextMode:
//
//   - "line": one document per line. Lines holding only white space are not records.
//   - "paragraph": one document per run of lines between lines holding only white space; the
//     text is the run's lines joined with "\n".
//   - "file": the whole file is one document (its text unchanged); a file holding only white
//     space gives none.
//
// A trailing "\r" is removed from each line in line and paragraph modes, and a UTF-8 byte
// order mark at the start of the file is ignored. The id is "<file base>:<line>" with the line
// where the record starts, or the file's base name in file mode.
//
// Bad records are handled as by JSONLReader: read.invalid_utf8, read.record_too_large (a
// record longer than in.MaxRecordBytes is skipped without being held in memory) and
// read.truncated become pre-rejected documents with on_error: reject, or a *ReadError with
// on_error: fail.
type TextReader struct {
	f    *File
	lr   *lineReader
	l    line
	name string
	base string
	fail bool
	mode string
	max  int
	done bool

	para     []byte // the paragraph being gathered
	paraOpen bool
	paraBig  bool  // paragraph exceeds max; para is not kept
	paraSize int64 // its size, also when paraBig
	paraLine int64
	paraOff  int64
	nCheck   int
}

var (
	_ pipeline.Source     = (*TextReader)(nil)
	_ pipeline.Progresser = (*TextReader)(nil)
)

// NewTextReader opens path. Unset fields of in take pipeline.DefaultInput's values.
func NewTextReader(path string, in *pipeline.Input) (*TextReader, error) {
	if err := checkTextMode(in); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	return newTextReader(f, in, readBufSize), nil
}

func checkTextMode(in *pipeline.Input) error {
	switch mode := withDefaults(in).TextMode; mode {
	case "file", "line", "paragraph":
		return nil
	default:
		return fmt.Errorf("text_mode %q: must be one of file, line, paragraph", mode)
	}
}

// newTextReader reads f (closed by Close) with a read buffer of bufSize bytes; in's text mode
// has been checked.
func newTextReader(f *File, in *pipeline.Input, bufSize int) *TextReader {
	cfg := withDefaults(in)
	return &TextReader{
		f:    f,
		lr:   newLineReader(f, cfg.MaxRecordBytes, bufSize),
		name: f.Name(),
		base: filepath.Base(f.Name()),
		fail: cfg.OnError == "fail",
		mode: cfg.TextMode,
		max:  cfg.MaxRecordBytes,
	}
}

func (r *TextReader) file() *File { return r.f }

// Progress reports compressed bytes read of the file's size.
func (r *TextReader) Progress() (done, total int64) { return r.f.Consumed(), r.f.Size() }

// Close closes the file.
func (r *TextReader) Close() error { return r.f.Close() }

// Next fills doc (reset by the caller) with the next record.
func (r *TextReader) Next(ctx context.Context, doc *pipeline.Document) error {
	if r.done {
		return io.EOF
	}
	if r.nCheck++; r.nCheck&255 == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	switch r.mode {
	case "file":
		return r.nextFile(doc)
	case "paragraph":
		return r.nextParagraph(doc)
	}
	return r.nextLine(doc)
}

func (r *TextReader) nextLine(doc *pipeline.Document) error {
	l := &r.l
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
		if l.tooLong {
			break
		}
		l.b = trimCR(l.b)
		if !isSpaceBytes(l.b) {
			break
		}
	}
	doc.Origin = pipeline.Position{File: r.name, Line: l.no, Offset: l.off}
	doc.ID = fallbackID(r.base, l.no)
	if l.tooLong {
		return r.reject(doc, ReasonRecordTooLarge, "", fmt.Sprintf("line of %d bytes exceeds max_record_bytes %d", l.size, r.max))
	}
	return r.emit(doc, l.b)
}

func (r *TextReader) nextParagraph(doc *pipeline.Document) error {
	l := &r.l
	for {
		err := r.lr.next(l)
		if err == io.EOF {
			r.done = true
			if r.paraOpen {
				return r.emitParagraph(doc)
			}
			return io.EOF
		}
		if err != nil {
			r.done = true
			var re *ReadError
			if r.paraOpen && errors.As(err, &re) {
				re.Line = r.paraLine // the record that could not be completed starts here
			}
			return truncated(err, doc, r.base, r.fail)
		}
		if !l.tooLong {
			l.b = trimCR(l.b)
			if isSpaceBytes(l.b) {
				if r.paraOpen {
					return r.emitParagraph(doc)
				}
				continue
			}
		}
		if !r.paraOpen {
			r.paraOpen, r.paraBig, r.paraSize = true, false, -1
			r.paraLine, r.paraOff = l.no, l.off
			r.para = r.para[:0]
		}
		size := l.size
		if !l.tooLong {
			size = int64(len(l.b)) // without the "\r"
		}
		r.paraSize += 1 + size // "\n" before every line but the first
		if r.paraBig {
			continue
		}
		if l.tooLong || r.paraSize > int64(r.max) {
			r.paraBig = true
			r.para = r.para[:0]
			continue
		}
		if len(r.para) > 0 {
			r.para = append(r.para, '\n')
		}
		r.para = append(r.para, l.b...)
	}
}

func (r *TextReader) emitParagraph(doc *pipeline.Document) error {
	r.paraOpen = false
	doc.Origin = pipeline.Position{File: r.name, Line: r.paraLine, Offset: r.paraOff}
	doc.ID = fallbackID(r.base, r.paraLine)
	if cap(r.para) > 4<<20 {
		defer func() { r.para = nil }()
	}
	if r.paraBig {
		return r.reject(doc, ReasonRecordTooLarge, "", fmt.Sprintf("paragraph of %d bytes exceeds max_record_bytes %d", r.paraSize, r.max))
	}
	return r.emit(doc, r.para)
}

func (r *TextReader) nextFile(doc *pipeline.Document) error {
	r.done = true
	doc.Origin = pipeline.Position{File: r.name, Line: 1, Offset: 0}
	doc.ID = r.base
	b, err := io.ReadAll(io.LimitReader(r.f, int64(r.max)+1))
	if err != nil {
		var re *ReadError
		if errors.As(err, &re) {
			re.Line = 1
		}
		if err := truncated(err, doc, r.base, r.fail); err != nil {
			return err
		}
		doc.ID = r.base
		return nil
	}
	if len(b) > r.max {
		return r.reject(doc, ReasonRecordTooLarge, "", fmt.Sprintf("file holds more than max_record_bytes %d bytes", r.max))
	}
	if len(b) >= 3 && b[0] == utf8BOM[0] && b[1] == utf8BOM[1] && b[2] == utf8BOM[2] {
		b = b[3:]
	}
	if isSpaceBytes(b) {
		return io.EOF
	}
	return r.emit(doc, b)
}

// emit sets doc.Text from b, or rejects it when b is not valid UTF-8.
func (r *TextReader) emit(doc *pipeline.Document, b []byte) error {
	if !utf8.Valid(b) {
		return r.reject(doc, ReasonInvalidUTF8, strings.ToValidUTF8(string(b), "\uFFFD"),
			fmt.Sprintf("invalid UTF-8 at byte %d of the record", invalidUTF8At(b)))
	}
	doc.Text = string(b)
	return nil
}

func (r *TextReader) reject(doc *pipeline.Document, reason, text, detail string) error {
	if r.fail {
		return &ReadError{File: r.name, Line: doc.Origin.Line, Offset: doc.Origin.Offset, Reason: reason, Err: errors.New(detail)}
	}
	doc.Text = text
	doc.Reject(Stage, reason, detail)
	return nil
}

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}

// isSpaceBytes reports whether b is empty or only Unicode white space (invalid UTF-8 is not
// white space).
func isSpaceBytes(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c != ' ' && (c < '\t' || c > '\r') {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 || !unicode.IsSpace(r) {
			return false
		}
		i += n
	}
	return true
}
