package formats

import (
	"bufio"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
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
	columnFileWriter
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
	return &ParquetWriter{columnFileWriter{kind: "parquet", shape: shape, bw: bw, fw: fw, cols: cols, rows: shape.newRows(cols),
		maxRows: opts.RowGroupSize, maxBytes: opts.RowGroupBytes}}, nil
}
