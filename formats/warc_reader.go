package formats

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	readability "codeberg.org/readeck/go-readability/v2"
	"codeberg.org/readeck/go-readability/v2/render"
	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"

	"github.com/sieve-data/sieve/pipeline"
)

func init() {
	pipeline.RegisterReader("warc", func(path string, in *pipeline.Input) (pipeline.Source, error) {
		return NewWARCReader(path, in)
	})
}

// HTML extraction modes (Input.HTML).
const (
	HTMLExtract = "extract" // main content, by go-readability (Mozilla Readability's algorithm)
	HTMLText    = "text"    // all visible text of the page
	HTMLRaw     = "raw"     // the HTML itself, decoded to UTF-8
)

const (
	// maxWARCHeader bounds the header block of one record (its named fields).
	maxWARCHeader = 1 << 20
	// warcChunk is how much of a block is read (and allocated) at a time, so that a huge
	// Content-Length claims memory only as its bytes arrive.
	warcChunk = 1 << 20
)

// WARCReader reads WARC files (WARC/1.0 and WARC/1.1), such as Common Crawl's WARC and WET
// files, record by record. Each record is framed by its Content-Length; a gzip member per
// record (.warc.gz) is decompressed by Open like any multi-member gzip stream.
//
// Records that hold documents:
//
//   - conversion (WET): the block is the text, as it is (it must be valid UTF-8).
//   - response with Content-Type application/http: the HTTP headers are parsed and removed,
//     chunked transfer coding and gzip, deflate, br or zstd content coding undone. A status
//     other than 2xx is rejected (read.http_status). The payload is then treated as below
//     according to the HTTP Content-Type (sniffed when absent).
//   - resource, and response records without HTTP: the block is the payload, typed by the
//     record's Content-Type.
//
// An HTML payload (text/html, application/xhtml+xml) is decoded to UTF-8 from the charset
// of its Content-Type, byte order mark or <meta> tag (windows-1252 when none is found and
// the bytes are not UTF-8, as browsers do; invalid bytes become U+FFFD), then according to
// in.HTML: "extract" (the default) keeps the main content found by go-readability, a port of
// Firefox's Reader View, rendered as text with paragraphs on their own lines, and puts the
// page title in Meta["title"]; "text" keeps all the visible text of the page; "raw" keeps
// the HTML. A text/plain payload is decoded the same way and kept as it is. Other payloads
// (PDF, images, JSON, ...) are rejected as read.unsupported_content.
//
// warcinfo, request, metadata, revisit and continuation records (and types unknown to
// WARC 1.1) describe the crawl rather than hold a document: they are skipped, not rejected,
// so that rejects count real problems (a Common Crawl WARC holds a request and a metadata
// record for every response). Skipped counts them by type.
//
// Every document has ID = WARC-Record-ID without its angle brackets ("<file
// base>:<record>" when absent), Origin.Line = the record's number in the file (1-based,
// skipped records counted) and Origin.Offset = the offset of its "WARC/" line in the
// decompressed stream. Meta holds url (WARC-Target-URI), date (WARC-Date), warc_record_id,
// warc_type, content_type (the payload's media type), and when present http_status,
// title, warc_identified_content_language (Common Crawl's guess, e.g. "yor,eng"),
// warc_refers_to and warc_truncated (the crawler cut the payload).
//
// Problems: a record whose version line or header fields are bad is rejected as
// read.invalid_warc; when its Content-Length is usable the reader skips its block and goes
// on, otherwise it looks for the next line starting "WARC/1." and resumes there, bytes
// before it being part of the reject. A record whose Content-Length runs past the end of the
// stream (or whose compressed stream is cut or corrupt) gives one read.truncated reject
// with the record's offset and ends the file. A block longer than in.MaxRecordBytes is
// skipped without being held in memory and rejected as read.record_too_large. With
// on_error: fail each of these is a *ReadError instead.
type WARCReader struct {
	f    *File
	br   *bufio.Reader
	name string
	base string
	fail bool
	max  int
	mode string

	off     int64 // decompressed offset of br's next byte
	recNo   int64
	done    bool
	block   []byte
	peek    []byte // a version line found while resynchronising, not yet parsed
	peekOff int64
	skipped map[string]int64
	hdr     warcHeader
	nCheck  int
}

var (
	_ pipeline.Source     = (*WARCReader)(nil)
	_ pipeline.Progresser = (*WARCReader)(nil)
)

// warcHeader holds the fields of one record that the reader uses.
type warcHeader struct {
	version, typ, uri, date, id, contentType string
	refersTo, langs, truncated               string
	length                                   int64 // -1 when absent or bad
	problem                                  string
}

// NewWARCReader opens path. Unset fields of in take pipeline.DefaultInput's values; in.HTML
// empty means HTMLExtract.
func NewWARCReader(path string, in *pipeline.Input) (*WARCReader, error) {
	cfg := withDefaults(in)
	mode := cfg.HTML
	switch mode {
	case "":
		mode = HTMLExtract
	case HTMLExtract, HTMLText, HTMLRaw:
	default:
		return nil, fmt.Errorf("%s: html %q: must be one of extract, text, raw", path, mode)
	}
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	return &WARCReader{
		f: f, br: bufio.NewReaderSize(f, readBufSize), name: f.Name(), base: filepath.Base(f.Name()),
		fail: cfg.OnError == "fail", max: cfg.MaxRecordBytes, mode: mode, skipped: map[string]int64{},
	}, nil
}

func (r *WARCReader) file() *File { return r.f }

// Progress reports compressed bytes read of the file's size.
func (r *WARCReader) Progress() (done, total int64) { return r.f.Consumed(), r.f.Size() }

// Close closes the file.
func (r *WARCReader) Close() error { return r.f.Close() }

// Skipped returns how many records of each type were skipped as not holding documents.
func (r *WARCReader) Skipped() map[string]int64 {
	out := make(map[string]int64, len(r.skipped))
	for k, v := range r.skipped {
		out[k] = v
	}
	return out
}

// Next fills doc (reset by the caller) with the next document or reject.
func (r *WARCReader) Next(ctx context.Context, doc *pipeline.Document) error {
	for {
		if r.done {
			return io.EOF
		}
		if r.nCheck++; r.nCheck&255 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		emitted, err := r.record(doc)
		if err != nil || emitted {
			return err
		}
	}
}

// readLine returns the next line without its line ending, valid until the next read. A line
// longer than the read buffer is returned cut, with long set.
func (r *WARCReader) readLine() (line []byte, long bool, err error) {
	b, err := r.br.ReadSlice('\n')
	r.off += int64(len(b))
	if err == bufio.ErrBufferFull {
		return b, true, nil
	}
	if err != nil && (err != io.EOF || len(b) == 0) {
		return nil, false, err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r")), false, nil
}

// record reads one record. It reports whether doc was filled (a document or a reject);
// false means a skipped record.
func (r *WARCReader) record(doc *pipeline.Document) (bool, error) {
	// The version line: blank lines between records are allowed.
	var first []byte
	var start int64
	if r.peek != nil {
		first, start, r.peek = r.peek, r.peekOff, nil
	} else {
		for {
			start = r.off
			line, long, err := r.readLine()
			if err == io.EOF {
				r.done = true
				return false, io.EOF
			}
			if err != nil {
				return r.streamError(err, doc, start, start, -1)
			}
			if !long && len(line) == 0 {
				continue
			}
			if long || !bytes.HasPrefix(line, []byte("WARC/")) {
				return r.garbage(doc, start)
			}
			first = line
			break
		}
	}
	r.recNo++
	h := &r.hdr
	*h = warcHeader{version: string(first), length: -1}
	if h.version != "WARC/1.0" && h.version != "WARC/1.1" {
		h.problem = fmt.Sprintf("version line %q: want WARC/1.0 or WARC/1.1", truncateForDetail(h.version))
	}
	if err := r.readHeader(h); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return r.streamError(err, doc, start, r.off, -1)
	}
	doc.Origin = pipeline.Position{File: r.name, Line: r.recNo, Offset: start}
	doc.ID = strings.TrimSuffix(strings.TrimPrefix(h.id, "<"), ">")
	if doc.ID == "" {
		doc.ID = fallbackID(r.base, r.recNo)
	}
	switch {
	case h.length < 0 && h.problem == "":
		h.problem = "no valid Content-Length"
		fallthrough
	case h.length < 0:
		// The record cannot be framed: look for the next one.
		if err := r.resync(); err != nil {
			return r.streamError(err, doc, start, r.off, -1)
		}
		return r.reject(doc, ReasonInvalidWARC, h.problem+"; skipped to the next record")
	case h.problem == "" && h.typ == "":
		h.problem = "no WARC-Type"
	}
	blockStart := r.off
	keep := h.problem == "" && isDocumentType(h.typ)
	if !keep || h.length > int64(r.max) {
		if n, err := r.br.Discard(int(min(h.length, int64(^uint(0)>>1)))); err != nil || int64(n) != h.length {
			r.off += int64(n)
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return r.streamError(err, doc, start, blockStart, int64(n))
		}
		r.off += h.length
		switch {
		case h.problem != "":
			return r.reject(doc, ReasonInvalidWARC, h.problem)
		case keep:
			return r.reject(doc, ReasonRecordTooLarge, fmt.Sprintf("block of %d bytes exceeds max_record_bytes %d", h.length, r.max))
		}
		r.skipped[h.typ]++
		return false, nil
	}
	if err := r.readBlock(h.length); err != nil {
		return r.streamError(err, doc, start, blockStart, int64(len(r.block)))
	}
	r.setMeta(doc, h)
	reason, detail := r.convert(doc, h, r.block)
	if cap(r.block) > 4<<20 {
		r.block = nil // do not keep a huge buffer after one huge record
	}
	if reason != "" {
		return r.reject(doc, reason, detail)
	}
	return true, nil
}

func truncateForDetail(s string) string {
	if len(s) > 80 {
		return strings.ToValidUTF8(s[:80], "\uFFFD") + "..."
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func isDocumentType(typ string) bool {
	return typ == "conversion" || typ == "response" || typ == "resource"
}

// readHeader reads the named fields up to the blank line that ends them. A malformed field
// sets h.problem; an error is a stream error (io.EOF included: the header is cut).
func (r *WARCReader) readHeader(h *warcHeader) error {
	var size int
	var name []byte
	var value []byte
	flush := func() {
		if name == nil {
			return
		}
		r.setField(h, name, bytes.TrimSpace(value))
		name, value = nil, value[:0]
	}
	for {
		line, long, err := r.readLine()
		if err != nil {
			return err
		}
		size += len(line) + 2
		if size > maxWARCHeader || long {
			if h.problem == "" {
				h.problem = fmt.Sprintf("header longer than %d bytes", maxWARCHeader)
			}
			h.length = -1 // cannot trust the framing
			if long {
				continue
			}
			return nil
		}
		if len(line) == 0 {
			flush()
			return nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			if name == nil {
				if h.problem == "" {
					h.problem = "continuation line before any field"
				}
				continue
			}
			value = append(value, ' ')
			value = append(value, bytes.TrimSpace(line)...)
			continue
		}
		flush()
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(k) == 0 || bytes.ContainsAny(k, " \t") {
			if h.problem == "" {
				h.problem = fmt.Sprintf("header line %q is not \"Name: value\"", truncateForDetail(string(line)))
			}
			continue
		}
		name = append(name[:0], k...)
		value = append(value[:0], v...)
	}
}

func (r *WARCReader) setField(h *warcHeader, name, value []byte) {
	field := func(s string) bool { return bytes.EqualFold(name, []byte(s)) }
	switch {
	case field("Content-Length"):
		n, err := strconv.ParseInt(string(value), 10, 64)
		if err != nil || n < 0 || value[0] == '+' {
			if h.problem == "" {
				h.problem = fmt.Sprintf("Content-Length %q is not a byte count", truncateForDetail(string(value)))
			}
			h.length = -1
			return
		}
		h.length = n
	case field("WARC-Type"):
		h.typ = string(value)
	case field("WARC-Target-URI"):
		h.uri = strings.TrimSuffix(strings.TrimPrefix(string(value), "<"), ">") // WARC/1.0 example used <...>
	case field("WARC-Date"):
		h.date = string(value)
	case field("WARC-Record-ID"):
		h.id = string(value)
	case field("Content-Type"):
		h.contentType = string(value)
	case field("WARC-Refers-To"):
		h.refersTo = string(value)
	case field("WARC-Identified-Content-Language"):
		h.langs = string(value)
	case field("WARC-Truncated"):
		h.truncated = string(value)
	}
}

// readBlock reads n bytes into r.block, growing it as the bytes arrive.
func (r *WARCReader) readBlock(n int64) error {
	r.block = r.block[:0]
	for remaining := n; remaining > 0; {
		chunk := int(min(remaining, warcChunk))
		r.block = slices.Grow(r.block, chunk)
		got, err := io.ReadFull(r.br, r.block[len(r.block):len(r.block)+chunk])
		r.block = r.block[:len(r.block)+got]
		r.off += int64(got)
		remaining -= int64(got)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// resync reads lines up to one that starts a record, which it keeps in r.peek.
func (r *WARCReader) resync() error {
	for {
		off := r.off
		line, long, err := r.readLine()
		if err == io.EOF {
			return nil // nothing follows: the next call ends the file
		}
		if err != nil {
			return err
		}
		if !long && bytes.HasPrefix(line, []byte("WARC/1.")) {
			r.peek, r.peekOff = append(r.peek[:0], line...), off
			return nil
		}
	}
}

// garbage rejects bytes found where a record should start, up to the next record.
func (r *WARCReader) garbage(doc *pipeline.Document, start int64) (bool, error) {
	if err := r.resync(); err != nil {
		return r.streamError(err, doc, start, r.off, -1)
	}
	end := r.off
	if r.peek != nil {
		end = r.peekOff
	}
	doc.Origin = pipeline.Position{File: r.name, Offset: start}
	doc.ID = r.base + "@" + strconv.FormatInt(start, 10)
	return r.reject(doc, ReasonInvalidWARC, fmt.Sprintf("%d bytes that are not a WARC record (no WARC/ version line); skipped to the next record", end-start))
}

// streamError handles an error of the stream under a record that started at start: the
// end of the stream inside the record, or a corrupt compressed stream, gives one
// read.truncated reject and ends the file; an I/O error is returned. at is where the
// reader was, got the bytes of the block read (-1 before the block).
func (r *WARCReader) streamError(err error, doc *pipeline.Document, start, at, got int64) (bool, error) {
	r.done = true
	var re *ReadError
	if errors.As(err, &re) && re.Reason != ReasonTruncated {
		re.Line = r.recNo
		return false, err // I/O error
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) && re == nil {
		return false, &ReadError{File: r.name, Line: r.recNo, Offset: at, Err: err}
	}
	var detail string
	switch {
	case re != nil:
		detail = fmt.Sprintf("record at byte %d: the compressed stream is cut or corrupt at decompressed byte %d; the rest of the file is lost: %v", start, re.Offset, re.Err)
	case got >= 0:
		detail = fmt.Sprintf("record at byte %d declares Content-Length %d but the stream ends after %d bytes of its block", start, r.hdr.length, got)
	default:
		detail = fmt.Sprintf("record at byte %d: the stream ends inside its header", start)
	}
	doc.Origin = pipeline.Position{File: r.name, Line: r.recNo, Offset: start}
	doc.ID = strings.TrimSuffix(strings.TrimPrefix(r.hdr.id, "<"), ">")
	if doc.ID == "" {
		doc.ID = fallbackID(r.base, r.recNo)
	}
	return r.reject(doc, ReasonTruncated, detail)
}

// reject pre-rejects doc, or returns the fatal error with on_error: fail. It always
// reports doc as filled.
func (r *WARCReader) reject(doc *pipeline.Document, reason, detail string) (bool, error) {
	if r.fail {
		return false, &ReadError{File: r.name, Line: doc.Origin.Line, Offset: doc.Origin.Offset, Reason: reason, Err: errors.New(detail)}
	}
	doc.Reject(Stage, reason, detail)
	return true, nil
}

func (r *WARCReader) setMeta(doc *pipeline.Document, h *warcHeader) {
	m := make(map[string]any, 10)
	m["url"] = h.uri
	m["date"] = h.date
	m["warc_record_id"] = h.id
	m["warc_type"] = h.typ
	if h.langs != "" {
		m["warc_identified_content_language"] = h.langs
	}
	if h.refersTo != "" {
		m["warc_refers_to"] = h.refersTo
	}
	if h.truncated != "" {
		m["warc_truncated"] = h.truncated
	}
	doc.Meta = m
}

// convert sets doc.Text from a record's block, or returns why it cannot.
func (r *WARCReader) convert(doc *pipeline.Document, h *warcHeader, block []byte) (reason, detail string) {
	if h.typ == "conversion" {
		doc.Meta["content_type"] = mediaType(h.contentType, "text/plain")
		return r.setText(doc, block, true)
	}
	payload, ctype := block, h.contentType
	if h.typ == "response" && strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.contentType)), "application/http") {
		status, hdr, body, err := parseHTTP(block)
		if err != nil {
			return ReasonInvalidHTTP, err.Error()
		}
		doc.Meta["http_status"] = int64(status)
		if status < 200 || status > 299 {
			return ReasonHTTPStatus, fmt.Sprintf("HTTP status %d", status)
		}
		if body, err = decodeHTTPBody(hdr, body, r.max); err != nil {
			if errors.Is(err, errRecordTooLarge) {
				return ReasonRecordTooLarge, fmt.Sprintf("decoded payload exceeds max_record_bytes %d", r.max)
			}
			return ReasonInvalidHTTP, err.Error()
		}
		payload, ctype = body, hdr.Get("Content-Type")
	}
	if strings.TrimSpace(ctype) == "" {
		ctype = http.DetectContentType(payload)
	}
	mt := mediaType(ctype, "")
	doc.Meta["content_type"] = mt
	switch mt {
	case "text/html", "application/xhtml+xml":
		return r.htmlText(doc, payload, ctype)
	case "text/plain":
		utf, _ := decodeCharset(payload, ctype)
		return r.setText(doc, utf, false)
	}
	return ReasonUnsupported, fmt.Sprintf("content type %q is not text or HTML", truncateForDetail(mt))
}

// mediaType returns the lower-case media type of a Content-Type value, or def when empty.
func mediaType(ctype, def string) string {
	if ctype == "text/plain" || ctype == "text/html" {
		return ctype // the common cases, without mime's allocations
	}
	if mt, _, err := mime.ParseMediaType(ctype); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(ctype, ";")
	if mt = strings.ToLower(strings.TrimSpace(mt)); mt != "" {
		return mt
	}
	return def
}

// setText sets doc.Text to b. strict rejects invalid UTF-8; otherwise it was decoded
// already (invalid bytes replaced).
func (r *WARCReader) setText(doc *pipeline.Document, b []byte, strict bool) (reason, detail string) {
	if !utf8.Valid(b) {
		if strict {
			doc.Text = strings.ToValidUTF8(string(b), "\uFFFD")
			return ReasonInvalidUTF8, fmt.Sprintf("invalid UTF-8 at byte %d of the block", invalidUTF8At(b))
		}
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	doc.Text = string(b)
	if isSpace(doc.Text) {
		if doc.Text == "" {
			return ReasonEmptyText, "text is empty"
		}
		return ReasonEmptyText, "text is only white space"
	}
	return "", ""
}

// decodeCharset converts an HTML or text payload to UTF-8 (see WARCReader), returning the
// encoding's name.
func decodeCharset(b []byte, ctype string) ([]byte, string) {
	enc, name, _ := charset.DetermineEncoding(b, ctype)
	if name == "utf-8" {
		b = bytes.TrimPrefix(b, utf8BOM)
		if !utf8.Valid(b) {
			b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
		}
		return b, name
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return bytes.ToValidUTF8(b, []byte("\uFFFD")), name
	}
	return out, name
}

// htmlText turns an HTML payload into doc.Text according to r.mode.
func (r *WARCReader) htmlText(doc *pipeline.Document, payload []byte, ctype string) (reason, detail string) {
	utf, _ := decodeCharset(payload, ctype)
	if r.mode == HTMLRaw {
		return r.setText(doc, utf, false)
	}
	text, title, err := extractHTML(utf, r.mode, doc.Meta["url"].(string))
	if err != nil {
		return ReasonUnsupported, err.Error()
	}
	if title != "" {
		doc.Meta["title"] = title
	}
	if isSpace(text) {
		doc.Text = ""
		if r.mode == HTMLExtract {
			return ReasonEmptyText, "no readable text in the page"
		}
		return ReasonEmptyText, "no visible text in the page"
	}
	doc.Text = strings.ToValidUTF8(text, "\uFFFD")
	return "", ""
}

// extractHTML parses a UTF-8 HTML page and returns its text: the main content with its
// title (mode extract) or all visible text (mode text). A panic of the extractor on a
// pathological page is returned as an error.
func extractHTML(page []byte, mode, pageURL string) (text, title string, err error) {
	defer func() {
		if p := recover(); p != nil {
			text, title, err = "", "", fmt.Errorf("the HTML extractor failed on this page: %v", p)
		}
	}()
	root, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return "", "", fmt.Errorf("HTML: %w", err)
	}
	if mode == HTMLText {
		return strings.TrimSpace(render.InnerText(root)), "", nil
	}
	u, _ := url.Parse(pageURL)
	p := readability.NewParser()
	art, err := p.ParseAndMutate(root, u)
	if err != nil {
		return "", "", fmt.Errorf("HTML extraction: %w", err)
	}
	if art.Node == nil {
		return "", strings.TrimSpace(art.Title()), nil
	}
	return strings.TrimSpace(render.InnerText(art.Node)), strings.TrimSpace(art.Title()), nil
}

// parseHTTP splits an HTTP response message into its status, header and body. Header
// lines that are not "Name: value" are ignored, as browsers do: crawls hold many.
func parseHTTP(block []byte) (int, http.Header, []byte, error) {
	end, sep := bytes.Index(block, []byte("\r\n\r\n")), 4
	if lf := bytes.Index(block, []byte("\n\n")); lf >= 0 && (end < 0 || lf < end) {
		end, sep = lf, 2
	}
	if end < 0 {
		end, sep = len(block), 0 // headers only
	}
	lines := strings.Split(string(block[:end]), "\n")
	status := strings.TrimSuffix(lines[0], "\r")
	proto, rest, _ := strings.Cut(status, " ")
	code, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	n, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/") || err != nil || n < 100 || n > 999 {
		return 0, nil, nil, fmt.Errorf("HTTP status line %q: want HTTP/x.y CODE", truncateForDetail(status))
	}
	h := make(http.Header, len(lines))
	var last string
	for _, l := range lines[1:] {
		l = strings.TrimSuffix(l, "\r")
		if l != "" && (l[0] == ' ' || l[0] == '\t') && last != "" {
			vs := h[last]
			vs[len(vs)-1] += " " + strings.TrimSpace(l)
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		last = textproto.CanonicalMIMEHeaderKey(k)
		h[last] = append(h[last], strings.TrimSpace(v))
	}
	return n, h, block[end+sep:], nil
}

// decodeHTTPBody undoes chunked transfer coding and content coding, producing at most max
// bytes (errRecordTooLarge beyond).
func decodeHTTPBody(h http.Header, body []byte, max int) ([]byte, error) {
	var rd io.Reader = bytes.NewReader(body)
	if te := strings.ToLower(h.Get("Transfer-Encoding")); strings.Contains(te, "chunked") {
		rd = httputil.NewChunkedReader(rd)
	}
	codings := strings.Split(strings.ToLower(h.Get("Content-Encoding")), ",")
	for i := len(codings) - 1; i >= 0; i-- {
		switch c := strings.TrimSpace(codings[i]); c {
		case "", "identity":
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(rd)
			if err != nil {
				return nil, fmt.Errorf("Content-Encoding gzip: %w", err)
			}
			rd = zr
		case "deflate":
			rd = deflateReader(rd)
		case "br":
			rd = brotli.NewReader(rd)
		case "zstd":
			zr, err := zstd.NewReader(rd, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
			if err != nil {
				return nil, fmt.Errorf("Content-Encoding zstd: %w", err)
			}
			defer zr.Close()
			rd = zr
		default:
			return nil, fmt.Errorf("Content-Encoding %q is not supported", truncateForDetail(c))
		}
	}
	if rd, ok := rd.(*bytes.Reader); ok && rd.Len() == len(body) {
		if len(body) > max {
			return nil, errRecordTooLarge
		}
		return body, nil
	}
	out, err := io.ReadAll(io.LimitReader(rd, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("HTTP body: %w", err)
	}
	if len(out) > max {
		return nil, errRecordTooLarge
	}
	return out, nil
}

// deflateReader reads HTTP "deflate": zlib-wrapped as the RFC says, or raw deflate as some
// servers send.
func deflateReader(rd io.Reader) io.Reader {
	br := bufio.NewReader(rd)
	if b, err := br.Peek(2); err == nil && b[0]&0x0f == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0 {
		br.Discard(2) // zlib header; the Adler-32 trailer is left unread
	}
	return flate.NewReader(br)
}
