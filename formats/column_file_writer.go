package formats

import (
	"bufio"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/sieve-data/sieve/pipeline"
)

// recordFileWriter is what columnFileWriter needs of pqarrow.FileWriter and ipc.FileWriter.
type recordFileWriter interface {
	Write(rec arrow.RecordBatch) error
	Close() error
}

// columnFileWriter is the part ParquetWriter and ArrowWriter share: it appends rows to reusable
// column buffers and hands them to fw as one record batch (a Parquet row group, an Arrow
// batch) when maxRows rows or maxBytes string bytes are buffered, so at most one batch is
// held in memory. It is not safe for concurrent use.
type columnFileWriter struct {
	kind     string // "parquet" or "arrow", for error messages
	shape    Shape
	bw       *bufio.Writer
	fw       recordFileWriter
	cols     *columns
	rows     rowAppender
	maxRows  int
	maxBytes int
	buffered int   // string bytes buffered in cols
	written  int64 // rows handed to fw
	data     int64 // string bytes of every row written (DataBytes)
	err      error // first encoding or I/O error; sticky; errWriterClosed after Close
	closed   bool
}

// Write appends doc as one row, and writes the batch out when it is full. An error about
// the document itself (metadata JSON cannot represent) leaves the file unchanged; an
// encoding or I/O error is sticky.
func (w *columnFileWriter) Write(doc *pipeline.Document) error {
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
func (w *columnFileWriter) DataBytes() int64 { return w.data }

// Flush writes the buffered rows, if any, as one batch.
func (w *columnFileWriter) Flush() error {
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
		// The writer may still hold the arrays: the columns are never touched again.
		w.err = fmt.Errorf("%s: %w", w.kind, err)
		return w.err
	}
	w.written += int64(w.cols.n)
	w.cols.reset()
	w.buffered = 0
	return nil
}

// Retained returns the bytes the column buffers hold, used or not: at most about twice
// the largest batch written so far.
func (w *columnFileWriter) Retained() int {
	if w.cols == nil {
		return 0
	}
	return w.cols.capBytes()
}

// FlushAndRelease writes the buffered rows as one batch, like Flush, and lets the column
// buffers go, so an idle writer holds no batch memory.
func (w *columnFileWriter) FlushAndRelease() error {
	if err := w.Flush(); err != nil {
		return err
	}
	if !w.closed {
		w.cols = newColumns(w.cols.schema)
		w.rows = w.shape.newRows(w.cols)
	}
	return nil
}

// Buffered returns the string bytes held in the current, unwritten batch.
func (w *columnFileWriter) Buffered() int { return w.buffered }

// Rows returns the number of documents written, buffered ones included.
func (w *columnFileWriter) Rows() int64 {
	if w.cols == nil {
		return w.written
	}
	return w.written + int64(w.cols.n)
}

// Close writes the last batch and the footer and flushes to the underlying writer. It
// releases every Arrow buffer, also after an error. An empty file (schema and footer, no
// batch) is valid. Calling Close again is a no-op that returns the first error.
func (w *columnFileWriter) Close() error {
	if w.closed {
		if w.err == errWriterClosed {
			return nil
		}
		return w.err
	}
	err := w.Flush()
	w.closed = true
	if cerr := w.fw.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%s: %w", w.kind, cerr)
	}
	if err == nil {
		if ferr := w.bw.Flush(); ferr != nil {
			err = fmt.Errorf("%s: write: %w", w.kind, ferr)
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
// reuse by the next writer of the same shape; nil if there are none.
func (w *columnFileWriter) takeColumns() *columns {
	if w.err != errWriterClosed || w.cols == nil || w.cols.n != 0 {
		return nil
	}
	cols := w.cols
	w.cols = nil
	return cols
}

// Discard releases every Arrow buffer without completing the file, whose bytes are then
// meaningless. Use it when the file will be deleted.
func (w *columnFileWriter) Discard() {
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
