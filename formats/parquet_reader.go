package formats

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/sieve-data/sieve/pipeline"
)

func init() {
	pipeline.RegisterReader("parquet", func(path string, in *pipeline.Input) (pipeline.Source, error) {
		return NewParquetReader(path, in)
	})
}

const (
	// parquetBatchRows is the number of rows decoded at a time: with the buffered page
	// reader, memory holds one batch of each column plus a page buffer per column, never a
	// whole row group.
	parquetBatchRows = 1024
	// parquetPageBuffer is the read buffer of each column's page stream.
	parquetPageBuffer = 1 << 20
)

// ParquetReader reads a Parquet file row group by row group, parquetBatchRows rows at a
// time, through pqarrow; columns become documents as described at recordDecoder (text and
// id by column name, dotted paths into struct columns, every other column in doc.Meta).
//
// Origin.Line is the 1-based row number in the file. Origin.Offset is the byte offset in the
// file of the row's row group (where its first column chunk starts), so that the row group
// can be found with any Parquet tool; rejects and errors name the row group index too.
//
// Parquet needs random access to its footer: a file compressed whole (gzip, zstd) cannot be
// read and is an error from NewParquetReader, as is a file without a valid footer, and a
// schema without the text column (the error names the file and the columns it has). The
// latter is fatal whatever in.OnError says, since no row of the file could be read. A
// corrupt page met while reading is a fatal *ReadError naming the file, row and row group.
type ParquetReader struct {
	osf  *os.File
	pf   *file.Reader
	fr   *pqarrow.FileReader
	dec  *recordDecoder
	name string
	fail bool
	size int64

	rg      int // current row group; -1 before the first
	rgOff   int64
	rr      pqarrow.RecordReader
	rec     arrow.RecordBatch
	row     int
	rowNo   int64
	rgStart int64 // row number before the current row group's first row
	done    bool
	nCheck  int
}

var (
	_ pipeline.Source     = (*ParquetReader)(nil)
	_ pipeline.Progresser = (*ParquetReader)(nil)
)

// NewParquetReader opens path and reads its footer and schema. Unset fields of in take
// pipeline.DefaultInput's values.
func NewParquetReader(path string, in *pipeline.Input) (*ParquetReader, error) {
	return newParquetReader(path, in, memory.DefaultAllocator)
}

func newParquetReader(path string, in *pipeline.Input, mem memory.Allocator) (*ParquetReader, error) {
	cfg := withDefaults(in)
	osf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := recoverCorrupt(path, func() (*ParquetReader, error) { return openParquet(osf, path, &cfg, mem) })
	if err != nil {
		osf.Close()
		return nil, err
	}
	return r, nil
}

func openParquet(osf *os.File, path string, cfg *pipeline.Input, mem memory.Allocator) (*ParquetReader, error) {
	fi, err := osf.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("open %s: is a directory", path)
	}
	var magic [4]byte
	if _, err := osf.ReadAt(magic[:], 0); err != nil && err != io.EOF {
		return nil, &ReadError{File: path, Err: err}
	}
	switch {
	case bytes.HasPrefix(magic[:], []byte{0x1f, 0x8b}), bytes.Equal(magic[:], []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return nil, fmt.Errorf("%s: a compressed Parquet file cannot be read (Parquet needs random access, and compresses its pages itself); decompress it first", path)
	case !bytes.Equal(magic[:], []byte("PAR1")):
		return nil, fmt.Errorf("%s: not a Parquet file (it does not start with PAR1)", path)
	}
	props := parquet.NewReaderProperties(mem)
	props.BufferedStreamEnabled = true
	props.BufferSize = parquetPageBuffer
	pf, err := file.NewParquetReader(osf, file.WithReadProps(props))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dropStoredArrowSchema(pf)
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: parquetBatchRows, PreAllocBinaryData: true}, mem)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	schema, err := fr.Schema()
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dec, err := newRecordDecoder(schema, cfg, path)
	if err != nil {
		pf.Close()
		return nil, err
	}
	return &ParquetReader{osf: osf, pf: pf, fr: fr, dec: dec, name: path, fail: cfg.OnError == "fail",
		size: fi.Size(), rg: -1}, nil
}

// Progress reports the offset of the row group being read (the file's size at the end) of
// the file's size.
func (r *ParquetReader) Progress() (done, total int64) {
	if r.done {
		return r.size, r.size
	}
	return r.rgOff, r.size
}

// Close releases the current batch and closes the file.
func (r *ParquetReader) Close() error {
	if r.rr != nil {
		r.rr.Release()
		r.rr = nil
	}
	if r.pf == nil {
		return nil
	}
	err := r.pf.Close() // closes osf
	r.pf = nil
	return err
}

// Next fills doc (reset by the caller) with the next row.
func (r *ParquetReader) Next(ctx context.Context, doc *pipeline.Document) (err error) {
	if r.done {
		return io.EOF
	}
	defer func() {
		if p := recover(); p != nil {
			r.done, r.rec = true, nil
			err = corruptPanic(r.name, p)
		}
	}()
	if r.nCheck++; r.nCheck&255 == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	for r.rec == nil || r.row >= int(r.rec.NumRows()) {
		if err := r.nextBatch(ctx); err != nil {
			r.done = true
			r.rec = nil
			return err
		}
	}
	r.rowNo++
	doc.Origin = pipeline.Position{File: r.name, Line: r.rowNo, Offset: r.rgOff}
	reason, detail := r.dec.decode(r.row, doc)
	r.row++
	if reason != "" {
		detail = fmt.Sprintf("%s (row group %d)", detail, r.rg)
		if r.fail {
			return &ReadError{File: r.name, Line: r.rowNo, Offset: r.rgOff, Reason: reason, Err: errors.New(detail)}
		}
		doc.Reject(Stage, reason, detail)
	}
	return nil
}

// nextBatch moves to the next batch, opening the next row group when the current one is
// done. It returns io.EOF after the last row group.
func (r *ParquetReader) nextBatch(ctx context.Context) error {
	if r.rr != nil {
		if r.rr.Next() {
			r.rec, r.row = r.rr.RecordBatch(), 0
			if err := r.dec.bind(r.rec); err != nil {
				return r.errorf(err)
			}
			return nil
		}
		err := r.rr.Err()
		r.rr.Release()
		r.rr, r.rec = nil, nil
		if err != nil {
			return r.errorf(err)
		}
		if want := r.rgStart + r.pf.MetaData().RowGroup(r.rg).NumRows(); r.rowNo != want {
			return r.errorf(fmt.Errorf("row group ended after %d rows, its metadata says %d", r.rowNo-r.rgStart, want-r.rgStart))
		}
	}
	r.rg++
	if r.rg >= r.pf.NumRowGroups() {
		return io.EOF
	}
	md := r.pf.MetaData().RowGroup(r.rg)
	r.rgStart = r.rowNo
	r.rgOff = rowGroupOffset(md)
	rr, err := r.fr.GetRecordReader(ctx, nil, []int{r.rg})
	if err != nil {
		return r.errorf(err)
	}
	r.rr = rr
	return r.nextBatch(ctx)
}

func (r *ParquetReader) errorf(err error) error {
	return &ReadError{File: r.name, Line: r.rowNo + 1, Offset: r.rgOff, Err: fmt.Errorf("row group %d: %w", r.rg, err)}
}

// rowGroupOffset returns where a row group starts in the file: its first column chunk's
// dictionary page, or first data page (the row group's file_offset field is optional and
// was written wrong by some writers).
func rowGroupOffset(md *metadata.RowGroupMetaData) int64 {
	if md.NumColumns() > 0 {
		if cc, err := md.ColumnChunk(0); err == nil {
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 {
				return cc.DictionaryPageOffset()
			}
			return cc.DataPageOffset()
		}
	}
	return md.FileOffset()
}

// dropStoredArrowSchema removes the "ARROW:schema" footer entry (a serialized Arrow schema
// that Arrow writers add) so that the Arrow schema is derived from the Parquet schema alone.
// arrow-go trusts the counts inside that blob: a corrupt one made it allocate hundreds of
// gigabytes (found by FuzzParquetReader). Text, ids and metadata read the same either way;
// only Arrow-only details (time zones, dictionary types) are lost, which sieve does not use.
func dropStoredArrowSchema(pf *file.Reader) {
	md := pf.MetaData()
	if md == nil || md.FileMetaData == nil {
		return
	}
	kv := md.FileMetaData.KeyValueMetadata[:0]
	for _, e := range md.FileMetaData.KeyValueMetadata {
		if e != nil && e.Key != "ARROW:schema" {
			kv = append(kv, e)
		}
	}
	md.FileMetaData.KeyValueMetadata = kv
}
