package formats

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"

	"github.com/sieve-data/sieve/pipeline"
)

// JSONLWriter writes documents of one Shape as JSON Lines: one object per line, fields in
// schema order, keys of nested metadata sorted, no HTML escaping, '\n' line ends. The same
// documents always give the same bytes, compressed or not. A JSONLWriter is not safe for
// concurrent use.
type JSONLWriter struct {
	shape Shape
	bw    *bufio.Writer
	zw    *zstd.Encoder // nil when uncompressed
	out   io.Writer     // zw or bw
	enc   jsonEncoder
	rows  int64
	bytes int64 // uncompressed bytes written (DataBytes)
	err   error // first write error; sticky
}

// JSONLExt returns the file extension for JSONL with the given compression:
// ".jsonl.zst" for "zstd" (and "", the default), ".jsonl" for "none".
func JSONLExt(compression string) (string, error) {
	switch compression {
	case "", "zstd":
		return ".jsonl.zst", nil
	case "none":
		return ".jsonl", nil
	}
	return "", fmt.Errorf("jsonl compression must be zstd or none, got %q", compression)
}

// NewJSONLWriter returns a writer of shape records to w. compression is "zstd" (the
// default when empty: a single zstd frame) or "none". Close flushes; it does not close w.
func NewJSONLWriter(w io.Writer, shape Shape, compression string) (*JSONLWriter, error) {
	return newJSONLWriter(w, shape, compression, nil)
}

// zstdOptions make the stream a pure function of its input (one encoder goroutine), keep
// an encoder to about 3 MB however long the stream, and make an empty output a complete
// frame that every decompressor accepts. The output is always a single frame: Python's
// zstandard stream_reader (used by fsspec, hence by HF datasets) stops at the end of the
// first frame unless told otherwise.
//
// Window: documents are independent, so a long history gains little; on multilingual
// text a 256 KiB window compresses as well as 1 MiB (4.76 vs 4.77) and as fast, and
// holds 3 MB instead of 4 (the default 8 MiB window: 18 MB). WithLowerEncoderMem would
// save another 0.8 MB but costs 25% more CPU.
var zstdOptions = []zstd.EOption{
	zstd.WithEncoderConcurrency(1),
	zstd.WithEncoderLevel(zstd.SpeedDefault),
	zstd.WithWindowSize(256 << 10),
	zstd.WithZeroFrames(true),
}

// newJSONLWriter is NewJSONLWriter reusing zw, an encoder made with zstdOptions, when it
// is not nil.
func newJSONLWriter(w io.Writer, shape Shape, compression string, zw *zstd.Encoder) (*JSONLWriter, error) {
	if _, err := JSONLExt(compression); err != nil {
		return nil, err
	}
	jw := &JSONLWriter{shape: shape, bw: bufio.NewWriterSize(w, 64<<10)}
	jw.out = jw.bw
	if compression != "none" {
		if zw != nil {
			zw.Reset(jw.bw)
		} else {
			var err error
			if zw, err = zstd.NewWriter(jw.bw, zstdOptions...); err != nil {
				return nil, fmt.Errorf("jsonl: zstd: %w", err)
			}
		}
		jw.zw = zw
		jw.out = zw
	}
	return jw, nil
}

// takeEncoder hands over the zstd encoder of a writer closed without error, for reuse by
// newJSONLWriter; nil if there is none.
func (w *JSONLWriter) takeEncoder() *zstd.Encoder {
	if w.err != errWriterClosed || w.zw == nil {
		return nil
	}
	zw := w.zw
	w.zw = nil
	return zw
}

// Write appends doc as one line. An error about the document itself (metadata that JSON
// cannot represent, a NaN score) leaves the output unchanged; an I/O error is sticky.
func (w *JSONLWriter) Write(doc *pipeline.Document) error {
	if w.err != nil {
		return w.err // errWriterClosed after Close
	}
	w.enc.buf = w.enc.buf[:0]
	if err := w.shape.appendJSON(&w.enc, doc); err != nil {
		return err
	}
	w.enc.buf = append(w.enc.buf, '\n')
	if _, err := w.out.Write(w.enc.buf); err != nil {
		w.err = fmt.Errorf("jsonl: write: %w", err)
		return w.err
	}
	w.rows++
	w.bytes += int64(len(w.enc.buf))
	return nil
}

// DataBytes returns the bytes of the lines written, before compression.
func (w *JSONLWriter) DataBytes() int64 { return w.bytes }

// Rows returns the number of documents written.
func (w *JSONLWriter) Rows() int64 { return w.rows }

// Close ends the zstd stream, if any, and flushes everything to the underlying writer,
// which it leaves open. Calling Close again is a no-op that returns the first error.
func (w *JSONLWriter) Close() error {
	if w.err == errWriterClosed {
		return nil
	}
	if w.err != nil {
		return w.err
	}
	if w.zw != nil {
		if err := w.zw.Close(); err != nil {
			w.err = fmt.Errorf("jsonl: zstd: %w", err)
			return w.err
		}
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("jsonl: write: %w", err)
		return w.err
	}
	w.err = errWriterClosed
	return nil
}

// Discard abandons the output without completing it; use it when the file will be deleted.
func (w *JSONLWriter) Discard() {
	if w.err == errWriterClosed {
		return
	}
	w.bw.Reset(io.Discard)
	if w.zw != nil {
		_ = w.zw.Close() // the end of the stream goes nowhere
	}
	w.err = errWriterClosed
}

var errWriterClosed = errors.New("writer already closed")

func appendTextJSON(e *jsonEncoder, doc *pipeline.Document) error {
	if math.IsNaN(doc.LangScore) || math.IsInf(doc.LangScore, 0) {
		return fmt.Errorf("document %q: lang_score %v cannot be written as JSON", doc.ID, doc.LangScore)
	}
	e.buf = append(e.buf, `{"id":`...)
	e.buf = appendJSONString(e.buf, doc.ID)
	e.buf = append(e.buf, `,"text":`...)
	e.buf = appendJSONString(e.buf, doc.Text)
	e.buf = append(e.buf, `,"lang":`...)
	e.buf = appendJSONString(e.buf, DatasetLang(doc))
	e.buf = append(e.buf, `,"script":`...)
	e.buf = appendJSONString(e.buf, doc.Script)
	e.buf = append(e.buf, `,"lang_score":`...)
	e.buf = appendJSONFloat(e.buf, doc.LangScore, 64)
	e.buf = append(e.buf, `,"source":`...)
	e.buf = appendJSONString(e.buf, doc.Origin.File)
	e.buf = append(e.buf, `,"metadata":`...)
	if err := e.appendMeta(doc.Meta); err != nil {
		return fmt.Errorf("document %q: metadata: %w", doc.ID, err)
	}
	e.buf = append(e.buf, '}')
	return nil
}

func appendRejectJSON(e *jsonEncoder, doc *pipeline.Document) error {
	e.buf = append(e.buf, `{"id":`...)
	e.buf = appendJSONString(e.buf, doc.ID)
	e.buf = append(e.buf, `,"stage":`...)
	e.buf = appendJSONString(e.buf, doc.Rejected.Stage)
	e.buf = append(e.buf, `,"reason":`...)
	e.buf = appendJSONString(e.buf, doc.Rejected.Reason)
	e.buf = append(e.buf, `,"detail":`...)
	e.buf = appendJSONString(e.buf, doc.Rejected.Detail)
	e.buf = append(e.buf, `,"file":`...)
	e.buf = appendJSONString(e.buf, doc.Origin.File)
	e.buf = append(e.buf, `,"line":`...)
	e.buf = strconv.AppendInt(e.buf, doc.Origin.Line, 10)
	e.buf = append(e.buf, `,"offset":`...)
	e.buf = strconv.AppendInt(e.buf, doc.Origin.Offset, 10)
	e.buf = append(e.buf, `,"lang":`...)
	e.buf = appendJSONString(e.buf, doc.Lang)
	e.buf = append(e.buf, `,"text":`...)
	e.buf = appendJSONString(e.buf, doc.Text)
	e.buf = append(e.buf, '}')
	return nil
}

// jsonEncoder appends canonical JSON to buf: the bytes encoding/json produces with
// SetEscapeHTML(false), which sorts map keys, for the types documents carry, without
// reflection or per-value allocation. The zero value is ready to use; buf and keys are
// reused between documents.
type jsonEncoder struct {
	buf  []byte
	keys []string // stack of map keys being sorted, shared by nested maps
	fb   bytes.Buffer
}

// maxJSONDepth bounds nesting, so a cyclic map is an error rather than a stack overflow.
const maxJSONDepth = 1000

// appendMeta appends a document's metadata object: "{}" when m is empty or nil.
func (e *jsonEncoder) appendMeta(m map[string]any) error {
	if len(m) == 0 {
		e.buf = append(e.buf, "{}"...)
		return nil
	}
	return e.appendMap(m, 0)
}

func (e *jsonEncoder) appendValue(v any, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("nested deeper than %d levels (a cycle?)", maxJSONDepth)
	}
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.buf = appendJSONString(e.buf, v)
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("unsupported value %v", v)
		}
		e.buf = appendJSONFloat(e.buf, v, 64)
	case float32:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("unsupported value %v", v)
		}
		e.buf = appendJSONFloat(e.buf, f, 32)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, v, 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, v, 10)
	case uint32:
		e.buf = strconv.AppendUint(e.buf, uint64(v), 10)
	case uint:
		e.buf = strconv.AppendUint(e.buf, uint64(v), 10)
	case map[string]any:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.appendMap(v, depth)
	case []any:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.buf = append(e.buf, '[')
		for i, x := range v {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.appendValue(x, depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
	case []string:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.buf = append(e.buf, '[')
		for i, x := range v {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendJSONString(e.buf, x)
		}
		e.buf = append(e.buf, ']')
	default:
		// Anything else (json.Number, json.RawMessage, typed maps, structs): encoding/json
		// itself, which is canonical in the same sense.
		e.fb.Reset()
		je := json.NewEncoder(&e.fb)
		je.SetEscapeHTML(false)
		if err := je.Encode(v); err != nil {
			return err
		}
		e.buf = append(e.buf, bytes.TrimSuffix(e.fb.Bytes(), []byte{'\n'})...)
	}
	return nil
}

func (e *jsonEncoder) appendMap(m map[string]any, depth int) error {
	start := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	slices.Sort(e.keys[start:])
	e.buf = append(e.buf, '{')
	for i := start; i < start+len(m); i++ {
		k := e.keys[i] // re-read: nested maps may grow (move) e.keys
		if i > start {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendJSONString(e.buf, k)
		e.buf = append(e.buf, ':')
		if err := e.appendValue(m[k], depth+1); err != nil {
			e.keys = e.keys[:start]
			return err
		}
	}
	e.buf = append(e.buf, '}')
	clear(e.keys[start:])
	e.keys = e.keys[:start]
	return nil
}

// appendJSONFloat formats f as encoding/json does (bits is 32 or 64; f is finite).
func appendJSONFloat(b []byte, f float64, bits int) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// jsonPlain[c] is true for bytes copied as they are inside a JSON string of valid UTF-8:
// ASCII that needs no escaping (HTML characters included) and every byte of a multi-byte
// sequence except 0xE2, which starts U+2028 and U+2029.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\' && c != 0xE2
	}
	return t
}()

// appendJSONString appends s as a JSON string exactly as encoding/json does with
// SetEscapeHTML(false): invalid UTF-8 bytes become \ufffd, U+2028 and U+2029 are escaped.
func appendJSONString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		return appendJSONStringInvalid(b, s)
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c == 0xE2 {
			// valid UTF-8, so two continuation bytes follow
			if s[i+1] == 0x80 && s[i+2]&^1 == 0xA8 {
				b = append(b, s[start:i]...)
				b = append(b, '\\', 'u', '2', '0', '2', hexDigits[8+s[i+2]&1])
				start = i + 3
			}
			i += 3
			continue
		}
		b = append(b, s[start:i]...)
		b = appendJSONEscape(b, c)
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONEscape appends the escape of an ASCII byte that cannot appear as is.
func appendJSONEscape(b []byte, c byte) []byte {
	switch c {
	case '\\', '"':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// appendJSONStringInvalid is appendJSONString for strings holding invalid UTF-8.
func appendJSONStringInvalid(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = appendJSONEscape(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
