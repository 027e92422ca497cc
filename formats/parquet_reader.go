package formats

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"

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
//
// A reader of the whole file also computes the file's SHA-256 (see checksum), hashing the
// bytes as they are read where the reads run in file order, and reading the others again
// right after their row group, from the page cache (see hashingReaderAt).
type ParquetReader struct {
	src  *hashingReaderAt
	pf   *file.Reader
	fr   *pqarrow.FileReader
	dec  *recordDecoder
	name string
	fail bool
	size int64

	// The row groups read: first to last-1 (all of them for the whole file), of the bytes
	// start to end of the file.
	first, last int
	start, end  int64

	rg      int // current row group; first-1 before the first
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
	return openParquetFile(path, in, mem, true)
}

// openParquetFile opens a reader of every row group; with hash, it computes the file's
// SHA-256 too.
func openParquetFile(path string, in *pipeline.Input, mem memory.Allocator, hash bool) (*ParquetReader, error) {
	cfg := withDefaults(in)
	osf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := recoverCorrupt(path, func() (*ParquetReader, error) { return openParquet(osf, path, &cfg, mem, hash) })
	if err != nil {
		osf.Close()
		return nil, err
	}
	return r, nil
}

func openParquet(osf *os.File, path string, cfg *pipeline.Input, mem memory.Allocator, hash bool) (*ParquetReader, error) {
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
	src := &hashingReaderAt{f: osf, size: fi.Size()}
	if hash {
		src.h = sha256.New()
	}
	pf, err := file.NewParquetReader(src, file.WithReadProps(props))
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
	return &ParquetReader{src: src, pf: pf, fr: fr, dec: dec, name: path, fail: cfg.OnError == "fail",
		size: fi.Size(), first: 0, last: pf.NumRowGroups(), start: 0, end: fi.Size(), rg: -1}, nil
}

// Progress reports the bytes before the row group being read (all of them at the end) of
// the bytes read: the file's, or the unit's.
func (r *ParquetReader) Progress() (done, total int64) {
	if r.done {
		return r.end - r.start, r.end - r.start
	}
	return min(max(r.rgOff-r.start, 0), r.end-r.start), r.end - r.start
}

// checksum returns the SHA-256 of the file, reading what the row groups read did not cover
// (all of it when the reader stopped early); "" for a reader of part of the file.
func (r *ParquetReader) checksum() (string, error) {
	if r.src == nil || r.src.h == nil {
		return "", nil
	}
	sum, err := r.src.sum()
	if err != nil {
		return "", &ReadError{File: r.name, Offset: r.src.pos, Err: err}
	}
	return sum, nil
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
	if r.rg >= r.last {
		if err := r.src.catchUp(r.end); err != nil {
			return &ReadError{File: r.name, Offset: r.src.pos, Err: err}
		}
		return io.EOF
	}
	md := r.pf.MetaData().RowGroup(r.rg)
	r.rgStart = r.rowNo
	r.rgOff = rowGroupOffset(md)
	// Hash what the previous row group's reads left out while it is in the page cache.
	if err := r.src.catchUp(r.rgOff); err != nil {
		return &ReadError{File: r.name, Offset: r.src.pos, Err: err}
	}
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

// hashingReaderAt is the file under a ParquetReader. With h set it computes the SHA-256 of
// the file, which Parquet reads by random access (footer first, then each column chunk
// through its own buffered stream), without reading it twice from disk where it can:
// bytes [0, pos) are hashed; a read that covers pos extends that prefix with the bytes it
// returns; catchUp reads and hashes what lies between pos and a later offset (column
// chunks read ahead of pos, pages skipped, the footer). ParquetReader calls catchUp after
// each row group, so the bytes read again are those just read, from the page cache.
type hashingReaderAt struct {
	f    *os.File
	size int64

	mu     sync.Mutex // ReadAt may be called from several goroutines
	h      hash.Hash  // nil: no checksum
	pos    int64
	buf    []byte // for catchUp
	inline int64  // bytes hashed as they were read
	again  int64  // bytes read again for the hash
}

var _ parquet.ReaderAtSeeker = (*hashingReaderAt)(nil)

func (r *hashingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.f.ReadAt(p, off)
	if r.h == nil || n == 0 {
		return n, err
	}
	r.mu.Lock()
	if off <= r.pos && off+int64(n) > r.pos {
		r.h.Write(p[r.pos-off : n])
		r.inline += off + int64(n) - r.pos
		r.pos = off + int64(n)
	}
	r.mu.Unlock()
	return n, err
}

func (r *hashingReaderAt) Seek(offset int64, whence int) (int64, error) {
	return r.f.Seek(offset, whence)
}

// Close closes the file (file.Reader.Close calls it).
func (r *hashingReaderAt) Close() error { return r.f.Close() }

// catchUp hashes the bytes from pos to `to` (at most the file's size).
func (r *hashingReaderAt) catchUp(to int64) error {
	if r.h == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	to = min(to, r.size)
	if r.pos >= to {
		return nil
	}
	if r.buf == nil {
		r.buf = make([]byte, 1<<20)
	}
	for r.pos < to {
		n, err := r.f.ReadAt(r.buf[:min(int64(len(r.buf)), to-r.pos)], r.pos)
		r.h.Write(r.buf[:n])
		r.pos += int64(n)
		r.again += int64(n)
		if err != nil && !(err == io.EOF && r.pos == to) {
			if err == io.EOF {
				err = fmt.Errorf("file ends at byte %d, not %d (it changed while it was read)", r.pos, r.size)
			}
			return err
		}
	}
	if r.pos == r.size {
		r.buf = nil
	}
	return nil
}

// sum hashes the rest of the file and returns its SHA-256 in hex.
func (r *hashingReaderAt) sum() (string, error) {
	if err := r.catchUp(r.size); err != nil {
		return "", err
	}
	return hex.EncodeToString(r.h.Sum(nil)), nil
}
