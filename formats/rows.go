package formats

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/klauspost/compress/zstd"

	"github.com/sieve-data/sieve/pipeline"
)

// CountRows counts the records of a file this package wrote: the row count in a Parquet
// file's footer, the rows of an Arrow IPC file's record batches (.arrow), or the lines of a
// JSONL file (.jsonl, .jsonl.zst; compression is detected from the bytes). It is what
// `sieve verify` compares with stats.json.
func CountRows(path string) (int64, error) {
	if strings.HasSuffix(path, ".arrow") {
		return countArrowRows(path)
	}
	if strings.HasSuffix(path, ".parquet") {
		r, err := file.OpenParquetFile(path, false)
		if err != nil {
			return 0, fmt.Errorf("parquet: %w", err)
		}
		defer r.Close()
		return r.NumRows(), nil
	}
	f, err := Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	var n int64
	inLine := false
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 {
			if b[len(b)-1] == '\n' {
				if inLine || len(b) > 1 {
					n++
				}
				inLine = false
			} else {
				inLine = true
			}
		}
		if err == io.EOF {
			if inLine {
				n++
			}
			return n, nil
		}
		if err != nil && err != bufio.ErrBufferFull {
			return n, err
		}
	}
}

// MergeRejects writes the rejects files parts, in order, as one file dst in r's format
// (pipeline.Options.MergeRejects): uncompressed JSONL is concatenated, zstd JSONL is
// decompressed and compressed again as one stream, Parquet is read and written again with
// the rejects schema. dst is written under a temporary name, synced and renamed.
func MergeRejects(dst string, parts []string, r *pipeline.Rejects) error {
	format := r.Format
	if format == "" {
		format = "jsonl"
	}
	tmp, err := createTemp(filepath.Dir(dst), ".tmp-merge-", filepath.Ext(dst))
	if err != nil {
		return err
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	bw := bufio.NewWriterSize(tmp, 1<<20)
	switch {
	case format == "parquet":
		err = mergeParquet(bw, parts, r.Compression)
	case r.Compression == "zstd":
		var zw *zstd.Encoder
		if zw, err = zstd.NewWriter(bw, zstdOptions...); err != nil {
			return fail(err)
		}
		if err = concatDecoded(zw, parts); err == nil {
			err = zw.Close()
		}
	default:
		err = concatDecoded(bw, parts)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return syncDir(filepath.Dir(dst))
}

// concatDecoded copies the decompressed bytes of every part to w.
func concatDecoded(w io.Writer, parts []string) error {
	for _, p := range parts {
		f, err := Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

// mergeParquet reads the rows of Parquet rejects files and writes them as one file.
func mergeParquet(w io.Writer, parts []string, compression string) error {
	codec, err := ParquetCodec(compression)
	if err != nil {
		return err
	}
	shape := RejectShape()
	props := []parquet.WriterProperty{
		parquet.WithCompression(codec),
		parquet.WithDictionaryDefault(false),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(DefaultRowGroupSize),
		parquet.WithDataPageVersion(parquet.DataPageV1),
	}
	for _, col := range shape.dictColumns {
		props = append(props, parquet.WithDictionaryFor(col, true))
	}
	fw, err := pqarrow.NewFileWriter(shape.schema, w, parquet.NewWriterProperties(props...), pqarrow.DefaultWriterProps())
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	for _, p := range parts {
		if err := copyParquetRows(fw, p); err != nil {
			fw.Close()
			return err
		}
	}
	return fw.Close()
}

func copyParquetRows(fw *pqarrow.FileWriter, p string) error {
	pf, err := file.OpenParquetFile(p, false)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 4096}, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	defer rr.Release()
	for rr.Next() {
		if err := fw.Write(rr.RecordBatch()); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}
