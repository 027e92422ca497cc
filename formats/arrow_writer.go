package formats

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sieve-data/sieve/pipeline"
)

// ArrowOptions configures an ArrowWriter. The zero value is usable: uncompressed record
// batches of DefaultRowGroupSize rows, memory.DefaultAllocator.
type ArrowOptions struct {
	Compression string           // none (default when empty) | zstd | lz4
	BatchRows   int              // rows per record batch; 0 means DefaultRowGroupSize
	BatchBytes  int              // string bytes that also end a batch; 0 means DefaultRowGroupBytes
	Allocator   memory.Allocator // Arrow buffers (compression); nil means memory.DefaultAllocator
}

// arrowCodec maps a configured compression name to the IPC writer option.
func arrowCodec(name string) ([]ipc.Option, error) {
	switch name {
	case "", "none":
		return nil, nil
	case "zstd":
		return []ipc.Option{ipc.WithZstd()}, nil
	case "lz4":
		return []ipc.Option{ipc.WithLZ4()}, nil
	}
	return nil, fmt.Errorf("arrow compression must be one of none, zstd, lz4; got %q", name)
}

// ArrowWriter writes documents of one Shape as an Arrow IPC file (the random-access file
// format: magic, schema, record batches, footer), which pyarrow.ipc.open_file,
// pyarrow.dataset, Polars and Hugging Face datasets read. Uncompressed files can be memory-mapped
// and read without a copy; zstd or lz4 compress each buffer (readable by Arrow >= 1.0).
// Strings are plain (no dictionary encoding), so every reader sees the schema as it is
// documented. Like ParquetWriter it appends rows to reusable column buffers and writes a
// record batch when one is full, so at most one batch is held in memory. Output depends only
// on the documents and the options. An ArrowWriter is not safe for concurrent use.
type ArrowWriter struct {
	shape    Shape
	bw       *bufio.Writer
	fw       *ipc.FileWriter
	cols     *columns
	rows     rowAppender
	maxRows  int
	maxBytes int
	buffered int
	written  int64
	data     int64 // string bytes of every row written (DataBytes)
	err      error // first encoding or I/O error; sticky; errWriterClosed after Close
	closed   bool
}

// NewArrowWriter starts an Arrow IPC file on w. Close writes the footer and flushes; it
// does not close w.
func NewArrowWriter(w io.Writer, shape Shape, opts ArrowOptions) (*ArrowWriter, error) {
	return newArrowWriter(w, shape, opts, nil)
}

// newArrowWriter is NewArrowWriter reusing cols (empty columns of the shape) when not nil.
func newArrowWriter(w io.Writer, shape Shape, opts ArrowOptions, cols *columns) (*ArrowWriter, error) {
	codec, err := arrowCodec(opts.Compression)
	if err != nil {
		return nil, err
	}
	if opts.BatchRows < 0 || opts.BatchBytes < 0 {
		return nil, fmt.Errorf("arrow: batch rows %d and bytes %d must be >= 0", opts.BatchRows, opts.BatchBytes)
	}
	if opts.BatchRows == 0 {
		opts.BatchRows = DefaultRowGroupSize
	}
	if opts.BatchBytes == 0 {
		opts.BatchBytes = DefaultRowGroupBytes
	}
	mem := opts.Allocator
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	fw, err := ipc.NewFileWriter(bw, append([]ipc.Option{ipc.WithSchema(shape.schema), ipc.WithAllocator(mem)}, codec...)...)
	if err != nil {
		return nil, fmt.Errorf("arrow: %w", err)
	}
	if cols == nil || cols.schema != shape.schema || cols.n != 0 {
		cols = newColumns(shape.schema)
	}
	return &ArrowWriter{shape: shape, bw: bw, fw: fw, cols: cols, rows: shape.newRows(cols),
		maxRows: opts.BatchRows, maxBytes: opts.BatchBytes}, nil
}

// Write appends doc as one row and writes the batch out when it is full. An error about
// the document itself leaves the file unchanged; an encoding or I/O error is sticky.
func (w *ArrowWriter) Write(doc *pipeline.Document) error {
	if w.err != nil {
		return w.err
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
// included: the size of the data before compression.
func (w *ArrowWriter) DataBytes() int64 { return w.data }

// Flush writes the buffered rows, if any, as one record batch.
func (w *ArrowWriter) Flush() error {
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
		w.err = fmt.Errorf("arrow: %w", err)
		return w.err
	}
	w.written += int64(w.cols.n)
	w.cols.reset()
	w.buffered = 0
	return nil
}

// Retained returns the bytes the column buffers hold, used or not.
func (w *ArrowWriter) Retained() int {
	if w.cols == nil {
		return 0
	}
	return w.cols.capBytes()
}

// FlushAndRelease writes the buffered rows as one batch and lets the column buffers go.
func (w *ArrowWriter) FlushAndRelease() error {
	if err := w.Flush(); err != nil {
		return err
	}
	if !w.closed {
		w.cols = newColumns(w.cols.schema)
		w.rows = w.shape.newRows(w.cols)
	}
	return nil
}

// Rows returns the number of documents written, buffered ones included.
func (w *ArrowWriter) Rows() int64 {
	if w.cols == nil {
		return w.written
	}
	return w.written + int64(w.cols.n)
}

// Close writes the last batch and the footer and flushes to the underlying writer. An
// empty file (schema and footer, no batch) is valid. Calling Close again is a no-op that
// returns the first error.
func (w *ArrowWriter) Close() error {
	if w.closed {
		if w.err == errWriterClosed {
			return nil
		}
		return w.err
	}
	err := w.Flush()
	w.closed = true
	if cerr := w.fw.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("arrow: %w", cerr)
	}
	if err == nil {
		if ferr := w.bw.Flush(); ferr != nil {
			err = fmt.Errorf("arrow: write: %w", ferr)
		}
	}
	if err != nil {
		w.err = err
		return err
	}
	w.err = errWriterClosed
	return nil
}

// takeColumns hands over the (empty) column buffers of a writer closed without error.
func (w *ArrowWriter) takeColumns() *columns {
	if w.err != errWriterClosed || w.cols == nil || w.cols.n != 0 {
		return nil
	}
	cols := w.cols
	w.cols = nil
	return cols
}

// Discard abandons the file without completing it; use it when the file will be deleted.
func (w *ArrowWriter) Discard() {
	if w.closed {
		return
	}
	w.closed = true
	w.buffered = 0
	w.bw.Reset(io.Discard)
	_ = w.fw.Close()
	if w.err == nil {
		w.err = errWriterClosed
	}
}

// countArrowRows sums the rows of the record batches of an Arrow IPC file.
func countArrowRows(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	defer r.Close()
	var n int64
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.RecordBatch(i)
		if err != nil {
			return 0, fmt.Errorf("%s: batch %d: %w", path, i, err)
		}
		n += rec.NumRows()
	}
	return n, nil
}
