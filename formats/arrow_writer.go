package formats

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
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
	columnFileWriter
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
	return &ArrowWriter{columnFileWriter{kind: "arrow", shape: shape, bw: bw, fw: fw, cols: cols, rows: shape.newRows(cols),
		maxRows: opts.BatchRows, maxBytes: opts.BatchBytes}}, nil
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
