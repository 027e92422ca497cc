package formats

import (
	"bufio"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/sieve-data/sieve/pipeline"
)

const (
	// DefaultRowGroupSize is the number of rows per row group when ParquetOptions leaves it 0.
	DefaultRowGroupSize = 10000
	// DefaultRowGroupBytes bounds the text a row group holds in memory before it is written
	// when ParquetOptions leaves it 0: a row group is cut at RowGroupSize rows or at this many
	// bytes of string data, whichever comes first, so huge documents do not multiply memory.
	DefaultRowGroupBytes = 64 << 20
)

// ParquetOptions configures a ParquetWriter. The zero value is usable: zstd, row groups
// of DefaultRowGroupSize rows, memory.DefaultAllocator.
type ParquetOptions struct {
	Compression   string           // zstd (default when empty) | snappy | gzip | none
	RowGroupSize  int              // rows per row group; 0 means DefaultRowGroupSize
	RowGroupBytes int              // string bytes that also end a row group; 0 means DefaultRowGroupBytes
	Allocator     memory.Allocator // Arrow buffers; nil means memory.DefaultAllocator
	// CompressionLevel is the codec's level; 0 means 1 for zstd (its fastest level: about 20%
	// less CPU than zstd's default for files about 8% larger) and the codec's default otherwise.
	CompressionLevel int
}

// ParquetCodec maps a configured compression name to its Parquet codec.
func ParquetCodec(name string) (compress.Compression, error) {
	switch name {
	case "", "zstd":
		return compress.Codecs.Zstd, nil
	case "snappy":
		return compress.Codecs.Snappy, nil
	case "gzip":
		return compress.Codecs.Gzip, nil
	case "none":
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("parquet compression must be one of zstd, snappy, gzip, none; got %q", name)
}

// ParquetWriter writes documents of one Shape to a Parquet file through pqarrow. Rows are
// appended to column buffers that keep their memory from one row group to the next and
// are handed to pqarrow as Arrow arrays without a copy; a row group is encoded and
// written out as soon as it is full, so at most one row group is held in memory (see
// Retained). Statistics are written for every column (those of long text values are
// dropped by the 4 KiB statistics limit), and the shape's dictionary columns (lang,
// script, ...) are dictionary-encoded, the others PLAIN. Output depends only on the
// documents and the options. A ParquetWriter is not safe for concurrent use.
type ParquetWriter struct {
	shape    Shape
	bw       *bufio.Writer
	fw       *pqarrow.FileWriter
	cols     *columns
	rows     rowAppender
	maxRows  int
	maxBytes int
	buffered int   // string bytes buffered in cols
	written  int64 // rows handed to fw
	data     int64 // string bytes of every row written (DataBytes)
	err      error // first encoding or I/O error; sticky
	closed   bool
}

// NewParquetWriter starts a Parquet file on w. Close writes the footer and flushes; it
// does not close w.
func NewParquetWriter(w io.Writer, shape Shape, opts ParquetOptions) (*ParquetWriter, error) {
	return newParquetWriter(w, shape, opts, nil)
}

// newParquetWriter is NewParquetWriter reusing cols, empty columns of the same shape
// handed over by takeColumns, when it is not nil.
func newParquetWriter(w io.Writer, shape Shape, opts ParquetOptions, cols *columns) (*ParquetWriter, error) {
	codec, err := ParquetCodec(opts.Compression)
	if err != nil {
		return nil, err
	}
	if opts.RowGroupSize < 0 || opts.RowGroupBytes < 0 {
		return nil, fmt.Errorf("parquet: row group size %d and bytes %d must be >= 0", opts.RowGroupSize, opts.RowGroupBytes)
	}
	if opts.RowGroupSize == 0 {
		opts.RowGroupSize = DefaultRowGroupSize
	}
	if opts.RowGroupBytes == 0 {
		opts.RowGroupBytes = DefaultRowGroupBytes
	}
	mem := opts.Allocator
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	level := opts.CompressionLevel
	if level == 0 && codec == compress.Codecs.Zstd {
		level = 1
	}
	props := []parquet.WriterProperty{
		parquet.WithAllocator(mem),
		parquet.WithCompression(codec),
		parquet.WithDictionaryDefault(false),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(int64(opts.RowGroupSize)),
		parquet.WithDataPageVersion(parquet.DataPageV1), // the most widely read page format
	}
	if level != 0 {
		props = append(props, parquet.WithCompressionLevel(level))
	}
	for _, col := range shape.dictColumns {
		props = append(props, parquet.WithDictionaryFor(col, true))
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	fw, err := pqarrow.NewFileWriter(shape.schema, bw, parquet.NewWriterProperties(props...),
		pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	if cols == nil || cols.schema != shape.schema || cols.n != 0 {
		cols = newColumns(shape.schema)
	}
	return &ParquetWriter{
		shape:    shape,
		bw:       bw,
		fw:       fw,
		cols:     cols,
		rows:     shape.newRows(cols),
		maxRows:  opts.RowGroupSize,
		maxBytes: opts.RowGroupBytes,
	}, nil
}

// Write appends doc as one row, and writes the row group out when it is full. An error
// about the document itself (metadata JSON cannot represent) leaves the file unchanged;
// an encoding or I/O error is sticky.
func (w *ParquetWriter) Write(doc *pipeline.Document) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errWriterClosed
	}
	n, err := w.rows.appendRow(doc)
	if err != nil {
		return err
	}
	w.cols.n++
	w.buffered += n
	w.data += int64(n)
	if w.cols.n >= w.maxRows || w.buffered >= w.maxBytes {
		return w.Flush()
	}
	return nil
}

// DataBytes returns the bytes of the strings of every row written, buffered ones
// included: the size of the data before encoding and compression.
func (w *ParquetWriter) DataBytes() int64 { return w.data }

// Flush writes the buffered rows, if any, as one row group.
func (w *ParquetWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.cols.n == 0 {
		return nil
	}
	rec := w.cols.record()
	err := w.fw.Write(rec)
	rec.Release()
	if err != nil {
		// pqarrow may still hold the arrays: the columns are never touched again.
		w.err = fmt.Errorf("parquet: %w", err)
		return w.err
	}
	w.written += int64(w.cols.n)
	w.cols.reset()
	w.buffered = 0
	return nil
}

// Retained returns the bytes the column buffers hold, used or not: at most about twice
// the largest row group written so far.
func (w *ParquetWriter) Retained() int {
	if w.cols == nil {
		return 0
	}
	return w.cols.capBytes()
}

// FlushAndRelease writes the buffered rows as one row group, like Flush, and lets the
// column buffers go, so an idle writer holds no row-group memory.
func (w *ParquetWriter) FlushAndRelease() error {
	if err := w.Flush(); err != nil {
		return err
	}
	if !w.closed {
		w.cols = newColumns(w.cols.schema)
		w.rows = w.shape.newRows(w.cols)
	}
	return nil
}

// Buffered returns the string bytes held in the current, unwritten row group.
func (w *ParquetWriter) Buffered() int { return w.buffered }

// Rows returns the number of documents written, buffered ones included.
func (w *ParquetWriter) Rows() int64 {
	if w.cols == nil {
		return w.written
	}
	return w.written + int64(w.cols.n)
}

// Close writes the last row group and the footer and flushes to the underlying writer.
// It releases every Arrow buffer, also after an error. Calling Close again is a no-op
// that returns the first error.
func (w *ParquetWriter) Close() error {
	if w.closed {
		if w.err == errWriterClosed {
			return nil
		}
		return w.err
	}
	err := w.Flush()
	w.closed = true
	if cerr := w.fw.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("parquet: %w", cerr)
	}
	if err == nil {
		if ferr := w.bw.Flush(); ferr != nil {
			err = fmt.Errorf("parquet: write: %w", ferr)
		}
	}
	if err != nil {
		w.err = err
		return err
	}
	w.err = errWriterClosed
	return nil
}

// takeColumns hands over the (empty) column buffers of a writer closed without error, for
// reuse by newParquetWriter; nil if there are none.
func (w *ParquetWriter) takeColumns() *columns {
	if w.err != errWriterClosed || w.cols == nil || w.cols.n != 0 {
		return nil
	}
	cols := w.cols
	w.cols = nil
	return cols
}

// Discard releases every Arrow buffer without completing the file, whose bytes are then
// meaningless. Use it when the file will be deleted.
func (w *ParquetWriter) Discard() {
	if w.closed {
		return
	}
	w.closed = true
	w.buffered = 0
	w.bw.Reset(io.Discard) // nothing more reaches the file
	_ = w.fw.Close()       // releases the encoder's buffers; the footer goes nowhere
	if w.err == nil {
		w.err = errWriterClosed
	}
}
