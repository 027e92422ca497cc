package fasttext

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// decoder reads the little-endian fields of a model file and tracks the offset for error
// messages. When the total size is known (size >= 0) every length field is checked against
// the bytes that remain before anything is allocated; when it is not, large arrays grow in
// bounded chunks as data actually arrives, so a corrupt length never costs more memory than
// the input really holds.
type decoder struct {
	r    *bufio.Reader
	off  int64
	size int64 // total input size, or -1 when unknown
	buf  [16 << 10]byte
}

// firstAlloc bounds the first allocation for an array whose length comes from the file when
// the input size is unknown; the array then grows geometrically as data arrives.
const firstAlloc = 1 << 14

// capHint returns the capacity to allocate first for n elements of at least minBytes each.
func (d *decoder) capHint(n, minBytes int64) int {
	if d.size >= 0 {
		return int(min(n, (d.size-d.off)/minBytes+1))
	}
	return int(min(n, firstAlloc))
}

// grow makes room for at least one more element, up to a total of n, doubling.
func grow[T any](s []T, n int64) []T {
	if len(s) < cap(s) {
		return s
	}
	c := min(max(2*int64(cap(s)), firstAlloc), n)
	t := make([]T, len(s), c)
	copy(t, s)
	return t
}

func newDecoder(r io.Reader, size int64) *decoder {
	return &decoder{r: bufio.NewReaderSize(r, 16<<10), size: size}
}

// errorf returns a FormatError at the current offset.
func (d *decoder) errorf(at int64, field string, cause error, format string, args ...any) error {
	detail := ""
	if format != "" {
		detail = fmt.Sprintf(format, args...)
	}
	return &FormatError{Offset: at, Field: field, Err: cause, Detail: detail}
}

func (d *decoder) readErr(field string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return d.errorf(d.off, field, ErrTruncated, "")
	}
	return d.errorf(d.off, field, err, "")
}

// need checks that n more bytes can exist in the input.
func (d *decoder) need(n int64, field string) error {
	if n < 0 {
		return d.errorf(d.off, field, ErrCorrupt, "negative size")
	}
	if d.size >= 0 && n > d.size-d.off {
		return d.errorf(d.off, field, ErrTruncated, "needs %d bytes, %d remain", n, d.size-d.off)
	}
	return nil
}

func (d *decoder) full(p []byte, field string) error {
	n, err := io.ReadFull(d.r, p)
	d.off += int64(n)
	if err != nil {
		return d.readErr(field, err)
	}
	return nil
}

func (d *decoder) int32(field string) (int32, error) {
	if err := d.full(d.buf[:4], field); err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(d.buf[:4])), nil
}

func (d *decoder) int64(field string) (int64, error) {
	if err := d.full(d.buf[:8], field); err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(d.buf[:8])), nil
}

func (d *decoder) float64(field string) (float64, error) {
	if err := d.full(d.buf[:8], field); err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(d.buf[:8])), nil
}

func (d *decoder) byte(field string) (byte, error) {
	b, err := d.r.ReadByte()
	if err != nil {
		return 0, d.readErr(field, err)
	}
	d.off++
	return b, nil
}

// bool reads a C++ bool, which fastText writes as one byte 0 or 1.
func (d *decoder) bool(field string) (bool, error) {
	at := d.off
	b, err := d.byte(field)
	if err != nil {
		return false, err
	}
	if b > 1 {
		return false, d.errorf(at, field, ErrCorrupt, "boolean byte is %d", b)
	}
	return b == 1, nil
}

// cstring appends the bytes of a NUL-terminated string to dst, without the NUL.
func (d *decoder) cstring(dst []byte, field string) ([]byte, error) {
	for {
		chunk, err := d.r.ReadSlice(0)
		d.off += int64(len(chunk))
		if err == nil {
			return append(dst, chunk[:len(chunk)-1]...), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return dst, d.readErr(field, err)
		}
		dst = append(dst, chunk...)
	}
}

// bytes reads n bytes.
func (d *decoder) bytes(n int64, field string) ([]byte, error) {
	if err := d.need(n, field); err != nil {
		return nil, err
	}
	if n > math.MaxInt {
		return nil, d.errorf(d.off, field, ErrCorrupt, "size %d too large", n)
	}
	out := make([]byte, 0, d.capHint(n, 1))
	for int64(len(out)) < n {
		out = grow(out, n)
		step := min(n-int64(len(out)), int64(len(d.buf)), int64(cap(out)-len(out)))
		if err := d.full(d.buf[:step], field); err != nil {
			return nil, err
		}
		out = append(out, d.buf[:step]...)
	}
	return out, nil
}

// float32s reads n little-endian float32 values.
func (d *decoder) float32s(n int64, field string) ([]float32, error) {
	if n < 0 || n > math.MaxInt/4 {
		return nil, d.errorf(d.off, field, ErrCorrupt, "float count %d out of range", n)
	}
	if err := d.need(4*n, field); err != nil {
		return nil, err
	}
	out := make([]float32, 0, d.capHint(n, 4))
	adviseHugePages(out[:cap(out)])
	for int64(len(out)) < n {
		out = grow(out, n)
		step := min(n-int64(len(out)), int64(len(d.buf)/4), int64(cap(out)-len(out)))
		p := d.buf[:4*step]
		if err := d.full(p, field); err != nil {
			return nil, err
		}
		for i := 0; i < len(p); i += 4 {
			out = append(out, math.Float32frombits(binary.LittleEndian.Uint32(p[i:])))
		}
	}
	return out, nil
}
