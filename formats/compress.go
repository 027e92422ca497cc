// Package formats holds sieve's input readers and output writers and the compression layer
// under them. Readers register with pipeline.RegisterReader from init; the runner finds them by
// format name.
package formats

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Codec names the compression of an input file as detected from its first bytes.
type Codec string

const (
	CodecNone Codec = "none"
	CodecGzip Codec = "gzip"
	CodecZstd Codec = "zstd"
)

// zstdMaxWindow is the largest zstd window accepted: 128 MiB, the default limit of the zstd
// command-line tool. A file written with a larger window (zstd --long=28 and up) fails with a
// clear error instead of letting one input claim gigabytes.
const zstdMaxWindow = 1 << 27

// ErrCorrupt is wrapped by every error caused by a compressed stream that is truncated or
// corrupt (as opposed to an I/O error of the file under it). Test with errors.Is.
var ErrCorrupt = errors.New("compressed stream truncated or corrupt")

// ReadError is a problem with an input at a known place. Readers return it (with on_error:
// fail) for a bad record and always for an I/O error; the compression layer returns it for a
// truncated or corrupt stream, with Line left 0 for the reader to fill in.
type ReadError struct {
	File   string // path as given to the reader
	Line   int64  // 1-based line (record start) or 0 when unknown
	Offset int64  // byte offset in the decompressed stream
	Reason string // stable reject reason, e.g. "read.invalid_json"; empty for I/O errors
	Err    error
}

func (e *ReadError) Error() string {
	var b []byte
	b = append(b, e.File...)
	if e.Line > 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, e.Line, 10)
	}
	b = append(b, " (byte "...)
	b = strconv.AppendInt(b, e.Offset, 10)
	b = append(b, "): "...)
	if e.Reason != "" {
		b = append(b, e.Reason...)
		b = append(b, ": "...)
	}
	b = append(b, e.Err.Error()...)
	return string(b)
}

func (e *ReadError) Unwrap() error { return e.Err }

// File is an open input file that reads decompressed bytes. The codec is chosen by the
// file's magic bytes, never by its extension: gzip (1f 8b, several members are read one after
// the other), zstd (28 b5 2f fd, or a skippable frame), otherwise the bytes are read as they
// are. File is not safe for concurrent use except for Consumed, Size and Sum, which a progress
// display may call from another goroutine.
type File struct {
	name  string
	codec Codec
	size  int64 // size on disk; -1 when not a regular file

	c   io.Closer // the file under the stream; may be nil
	src *countingReader
	r   io.Reader // decompressed stream
	zr  *zstd.Decoder
	gz  *gzip.Reader

	out int64 // decompressed bytes returned so far
	err error // sticky error
}

// Open opens name for reading and detects its compression. An error here is an I/O error
// (missing file, permission) or an unsupported compression format (xz, bzip2), wrapped with the
// file name. A damaged compressed header is not reported here but by the first Read, as a
// *ReadError wrapping ErrCorrupt at offset 0.
func Open(name string) (*File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err // *PathError names the file
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", name, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open %s: is a directory", name)
	}
	size := fi.Size()
	if !fi.Mode().IsRegular() {
		size = -1
	}
	file, err := newFile(name, f, f, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	return file, nil
}

// newFile detects the compression of r, which Close closes through c (when not nil).
func newFile(name string, r io.Reader, c io.Closer, size int64) (*File, error) {
	src := &countingReader{r: r, h: sha256.New()}
	br := bufio.NewReaderSize(src, 64<<10)
	magic, err := br.Peek(10)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, &ReadError{File: name, Err: err}
	}
	file := &File{name: name, size: size, c: c, src: src, codec: CodecNone, r: br}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		file.codec = CodecGzip
		gz, err := gzip.NewReader(br)
		if err != nil {
			file.err = file.streamError(err)
		} else {
			gz.Multistream(true)
			file.gz, file.r = gz, gz
		}
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}) ||
		len(magic) >= 4 && magic[0]&0xf0 == 0x50 && bytes.Equal(magic[1:4], []byte{0x2a, 0x4d, 0x18}):
		file.codec = CodecZstd
		// Synchronous decoding, no goroutines: the pipeline already keeps every core busy.
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, fmt.Errorf("open %s: zstd: %w", name, err)
		}
		file.zr, file.r = zr, zr
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return nil, fmt.Errorf("open %s: xz compression is not supported (use gzip or zstd)", name)
	case len(magic) == 10 && bytes.HasPrefix(magic, []byte("BZh")) && magic[3] >= '1' && magic[3] <= '9' &&
		bytes.Equal(magic[4:10], []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}):
		return nil, fmt.Errorf("open %s: bzip2 compression is not supported (use gzip or zstd)", name)
	}
	return file, nil
}

// Read reads decompressed bytes. At the end of a complete stream it returns io.EOF. Any other
// error is a *ReadError naming the file and the decompressed offset; it wraps ErrCorrupt when
// the compressed stream is truncated or damaged, or the I/O error of the file under it.
func (f *File) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.r.Read(p)
	f.out += int64(n)
	if err != nil && err != io.EOF {
		err = f.streamError(err)
		f.err = err
	}
	return n, err
}

// streamError classifies an error from the decompressor at the current offset.
func (f *File) streamError(err error) error {
	if f.src.err != nil || f.codec == CodecNone {
		// The file under the stream failed: an I/O error, never a reject.
		return &ReadError{File: f.name, Offset: f.out, Err: err}
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return &ReadError{File: f.name, Offset: f.out, Reason: ReasonTruncated,
		Err: fmt.Errorf("%w: %s: %w", ErrCorrupt, f.codec, err)}
}

// Name returns the path the file was opened with.
func (f *File) Name() string { return f.name }

// Codec returns the detected compression.
func (f *File) Codec() Codec { return f.codec }

// Size returns the size of the file on disk (compressed), or -1 when it is not a regular file.
func (f *File) Size() int64 { return f.size }

// Consumed returns how many bytes of the file on disk have been read so far (compressed bytes,
// including read-ahead). Safe to call from another goroutine.
func (f *File) Consumed() int64 { return f.src.n.Load() }

// Offset returns how many decompressed bytes Read has returned.
func (f *File) Offset() int64 { return f.out }

// Sum returns the SHA-256 of the file's bytes on disk, in hex, once the whole file has been
// read; "" before that. Finish reads what is left so that Sum becomes available.
func (f *File) Sum() string {
	if !f.src.eof.Load() {
		return ""
	}
	return fmt.Sprintf("%x", f.src.h.Sum(nil))
}

// Finish reads the rest of the file on disk (without decompressing it) so that Consumed
// reaches Size and Sum is available, for a reader that stopped early.
func (f *File) Finish() error {
	if f.src.eof.Load() {
		return nil
	}
	if _, err := io.Copy(io.Discard, f.src); err != nil {
		return &ReadError{File: f.name, Offset: f.out, Err: err}
	}
	return nil
}

// Close releases the decompressor and closes the file.
func (f *File) Close() error {
	if f.zr != nil {
		f.zr.Close()
		f.zr = nil
	}
	if f.gz != nil {
		f.gz.Close()
		f.gz = nil
	}
	if f.err == nil {
		f.err = errors.New("read after close")
	}
	if f.c == nil {
		return nil
	}
	c := f.c
	f.c = nil
	return c.Close()
}

// countingReader counts and hashes the bytes read from the file on disk and remembers the
// first error other than io.EOF, so that File can tell an I/O error from a corrupt stream.
type countingReader struct {
	r   io.Reader
	h   hash.Hash
	n   atomic.Int64
	eof atomic.Bool
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.h.Write(p[:n])
		c.n.Add(int64(n))
	}
	if err == io.EOF {
		c.eof.Store(true)
	} else if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}
