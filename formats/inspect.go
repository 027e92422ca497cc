package formats

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// InspectOptions says what Inspect reports besides the counts.
type InspectOptions struct {
	Head      int    // first rows to return; 0 for none
	LangField string // column or top-level field counted per value ("lang" when empty)
	MaxString int    // strings in the head rows are cut to this many characters (… appended); 0 = whole
}

// FileInfo describes a dataset file: what `sieve inspect` prints.
type FileInfo struct {
	Path        string            `json:"path"`
	Format      string            `json:"format"`      // parquet | arrow | jsonl
	Compression string            `json:"compression"` // parquet: the codecs of the column chunks; arrow and jsonl: of the file as a whole (none, gzip, zstd)
	Size        int64             `json:"size"`        // bytes on disk
	Rows        int64             `json:"rows"`
	Schema      []ColumnInfo      `json:"schema"`
	Groups      []GroupInfo       `json:"row_groups,omitempty"` // Parquet row groups or Arrow record batches
	Langs       map[string]int64  `json:"langs,omitempty"`      // rows per value of the lang field; "" for rows without one
	Head        []json.RawMessage `json:"head,omitempty"`       // first rows as JSON objects, fields in schema order
	BadLines    int64             `json:"bad_lines,omitempty"`  // jsonl: lines that are not JSON objects
}

// ColumnInfo is one column (Parquet, Arrow) or top-level field (JSONL). For JSONL the type
// lists the JSON types seen and Rows counts the records holding the field.
type ColumnInfo struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Rows int64  `json:"rows,omitempty"`
}

// GroupInfo is one Parquet row group or Arrow record batch.
type GroupInfo struct {
	Rows         int64 `json:"rows"`
	Bytes        int64 `json:"bytes,omitempty"`      // Parquet: uncompressed size
	CompressedTo int64 `json:"compressed,omitempty"` // Parquet: bytes of its column chunks in the file
}

// InspectFormat returns the format Inspect reads path as, by extension (after .gz/.zst):
// parquet, arrow or jsonl.
func InspectFormat(path string) (string, error) {
	f, err := FormatFor(path, FormatAuto)
	if err != nil {
		return "", err
	}
	switch f {
	case "parquet", "arrow", "jsonl":
		return f, nil
	}
	return "", fmt.Errorf("%s: inspect reads Parquet, Arrow IPC and JSONL files, not %s", path, f)
}

// InspectPaths expands paths for inspection: a file as it is, a directory as the Parquet,
// Arrow and JSONL files under it (hidden ones skipped), sorted.
func InspectPaths(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, statError(p, err)
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		files, err := walkDir(p, func(f string) bool { _, err := InspectFormat(f); return err == nil })
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no Parquet, Arrow or JSONL file under it", p)
		}
		sort.Strings(files)
		out = append(out, files...)
	}
	return out, nil
}

// Inspect reads a Parquet, Arrow IPC (file or stream format) or JSONL file (compressed or
// not) and describes it: schema, rows, row groups, rows per language and the first rows.
// Parquet files are read from their footer, the lang column and the first row group only;
// Arrow and JSONL files are read through once.
func Inspect(ctx context.Context, path string, opts InspectOptions) (*FileInfo, error) {
	format, err := InspectFormat(path)
	if err != nil {
		return nil, err
	}
	if opts.LangField == "" {
		opts.LangField = "lang"
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, statError(path, err)
	}
	info := &FileInfo{Path: path, Format: format, Size: fi.Size()}
	switch format {
	case "parquet":
		err = inspectParquet(ctx, path, opts, info)
	case "arrow":
		err = inspectArrow(ctx, path, opts, info)
	default:
		err = inspectJSONL(ctx, path, opts, info)
	}
	if err != nil {
		return nil, err
	}
	return info, nil
}

func inspectParquet(ctx context.Context, path string, opts InspectOptions, info *FileInfo) error {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 4096}, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	schema, err := fr.Schema()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	info.Schema = arrowColumns(schema)
	info.Rows = pf.NumRows()
	codecs := map[string]bool{}
	for g := 0; g < pf.NumRowGroups(); g++ {
		md := pf.MetaData().RowGroup(g)
		gi := GroupInfo{Rows: md.NumRows(), Bytes: md.TotalByteSize()}
		for c := 0; c < md.NumColumns(); c++ {
			cc, err := md.ColumnChunk(c)
			if err != nil {
				return fmt.Errorf("%s: row group %d: %w", path, g, err)
			}
			gi.CompressedTo += cc.TotalCompressedSize()
			codecs[strings.ToLower(cc.Compression().String())] = true
		}
		info.Groups = append(info.Groups, gi)
	}
	info.Compression = joinKeys(codecs)
	if li := schema.FieldIndices(opts.LangField); len(li) == 1 && isStringType(schema.Field(li[0]).Type) {
		info.Langs = map[string]int64{}
		for g := 0; g < pf.NumRowGroups(); g++ {
			tbl, err := fr.ReadRowGroups(ctx, []int{pf.MetaData().Schema.ColumnIndexByName(opts.LangField)}, []int{g})
			if err != nil {
				return fmt.Errorf("%s: row group %d: %w", path, g, err)
			}
			for _, chunk := range tbl.Column(0).Data().Chunks() {
				for i := 0; i < chunk.Len(); i++ {
					if chunk.IsNull(i) {
						info.Langs[""]++
					} else {
						info.Langs[stringAt(chunk, i)]++
					}
				}
			}
			tbl.Release()
		}
	}
	if opts.Head > 0 && pf.NumRowGroups() > 0 {
		rr, err := fr.GetRecordReader(ctx, nil, []int{0})
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer rr.Release()
		for len(info.Head) < opts.Head && rr.Next() {
			info.Head = appendHeadRows(info.Head, rr.RecordBatch(), opts)
		}
		if err := rr.Err(); err != nil && err != io.EOF {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

func inspectArrow(ctx context.Context, path string, opts InspectOptions, info *FileInfo) error {
	f, err := Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	if magic, _ := br.Peek(len(arrowFileMagic)); bytes.Equal(magic, arrowFileMagic) {
		br.Discard(len(arrowFileMagic))
	}
	rdr, err := ipc.NewReader(br)
	if err != nil {
		return fmt.Errorf("%s: not an Arrow IPC file or stream: %w", path, err)
	}
	defer rdr.Release()
	schema := rdr.Schema()
	info.Schema = arrowColumns(schema)
	info.Compression = string(f.Codec())
	lang := -1
	if li := schema.FieldIndices(opts.LangField); len(li) == 1 && isStringType(schema.Field(li[0]).Type) {
		lang = li[0]
		info.Langs = map[string]int64{}
	}
	for rdr.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec := rdr.RecordBatch()
		info.Rows += rec.NumRows()
		info.Groups = append(info.Groups, GroupInfo{Rows: rec.NumRows()})
		if lang >= 0 {
			col := rec.Column(lang)
			for i := 0; i < col.Len(); i++ {
				if col.IsNull(i) {
					info.Langs[""]++
				} else {
					info.Langs[stringAt(col, i)]++
				}
			}
		}
		if len(info.Head) < opts.Head {
			info.Head = appendHeadRows(info.Head, rec, opts)
		}
	}
	if err := rdr.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// arrowColumns lists a schema's top-level columns with their Arrow types.
func arrowColumns(schema *arrow.Schema) []ColumnInfo {
	cols := make([]ColumnInfo, schema.NumFields())
	for i, f := range schema.Fields() {
		t := f.Type.String()
		if f.Nullable {
			t += " (nullable)"
		}
		cols[i] = ColumnInfo{Name: f.Name, Type: t}
	}
	return cols
}

// appendHeadRows appends the rows of rec, as JSON objects in schema order, until head holds
// opts.Head rows.
func appendHeadRows(head []json.RawMessage, rec arrow.RecordBatch, opts InspectOptions) []json.RawMessage {
	var e jsonEncoder
	for i := 0; i < int(rec.NumRows()) && len(head) < opts.Head; i++ {
		e.buf = e.buf[:0]
		e.buf = append(e.buf, '{')
		for c, f := range rec.Schema().Fields() {
			if c > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendJSONString(e.buf, f.Name)
			e.buf = append(e.buf, ':')
			appendArrowJSON(&e, rec.Column(c), i, opts.MaxString)
		}
		e.buf = append(e.buf, '}')
		head = append(head, json.RawMessage(bytes.Clone(e.buf)))
	}
	return head
}

// appendArrowJSON appends value i of a as JSON, with the fields of structs in schema order
// (lists and structs walked here, other values as arrowValue gives them).
func appendArrowJSON(e *jsonEncoder, a arrow.Array, i, maxString int) {
	if a.IsNull(i) {
		e.buf = append(e.buf, "null"...)
		return
	}
	switch a := a.(type) {
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		e.buf = append(e.buf, '{')
		for k, f := range st.Fields() {
			if k > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendJSONString(e.buf, f.Name)
			e.buf = append(e.buf, ':')
			appendArrowJSON(e, a.Field(k), i, maxString)
		}
		e.buf = append(e.buf, '}')
		return
	case *array.List:
		lo, hi := a.ValueOffsets(i)
		e.buf = append(e.buf, '[')
		for k := lo; k < hi; k++ {
			if k > lo {
				e.buf = append(e.buf, ',')
			}
			appendArrowJSON(e, a.ListValues(), int(k), maxString)
		}
		e.buf = append(e.buf, ']')
		return
	}
	if err := e.appendValue(cutStrings(arrowValue(a, i), maxString), 0); err != nil {
		e.buf = append(e.buf, "null"...)
	}
}

// cutStrings shortens every string inside v to max characters.
func cutStrings(v any, max int) any {
	if max <= 0 {
		return v
	}
	switch v := v.(type) {
	case string:
		if utf8.RuneCountInString(v) <= max {
			return v
		}
		n := 0
		for i := range v {
			if n == max {
				return v[:i] + "…"
			}
			n++
		}
		return v
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = cutStrings(x, max)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = cutStrings(x, max)
		}
		return out
	}
	return v
}

func inspectJSONL(ctx context.Context, path string, opts InspectOptions, info *FileInfo) error {
	f, err := Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	type field struct {
		types map[string]bool
		rows  int64
		order int
	}
	fields := map[string]*field{}
	info.Langs = map[string]int64{}
	hasLang := false
	var e jsonEncoder
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if lineNo&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if lineNo == 1 {
				line = bytes.TrimPrefix(line, utf8BOM)
			}
			if len(bytes.TrimSpace(line)) > 0 {
				keys, vals, ok := orderedObject(line)
				if !ok {
					info.BadLines++
				} else {
					info.Rows++
					lang := ""
					for i, k := range keys {
						fd := fields[k]
						if fd == nil {
							fd = &field{types: map[string]bool{}, order: len(fields)}
							fields[k] = fd
						}
						fd.rows++
						fd.types[jsonTypeName(vals[i])] = true
						if k == opts.LangField {
							hasLang = true
							if s, ok := vals[i].(string); ok {
								lang = s
							}
						}
					}
					info.Langs[lang]++
					if len(info.Head) < opts.Head {
						e.buf = append(e.buf[:0], '{')
						for i, k := range keys {
							if i > 0 {
								e.buf = append(e.buf, ',')
							}
							e.buf = appendJSONString(e.buf, k)
							e.buf = append(e.buf, ':')
							if err := e.appendValue(cutStrings(vals[i], opts.MaxString), 0); err != nil {
								e.buf = append(e.buf, "null"...)
							}
						}
						e.buf = append(e.buf, '}')
						info.Head = append(info.Head, json.RawMessage(bytes.Clone(e.buf)))
					}
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			var re *ReadError
			if errors.As(err, &re) {
				return fmt.Errorf("%s: line %d: %w", path, lineNo, err)
			}
			return err
		}
	}
	if !hasLang {
		info.Langs = nil
	}
	info.Compression = string(f.Codec())
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return fields[names[i]].order < fields[names[j]].order })
	for _, k := range names {
		info.Schema = append(info.Schema, ColumnInfo{Name: k, Type: joinKeys(fields[k].types), Rows: fields[k].rows})
	}
	return nil
}

// orderedObject decodes a JSON object line into its keys, in order, and their values (as
// encoding/json with UseNumber decodes them). ok is false when the line is not one object.
func orderedObject(line []byte) (keys []string, vals []any, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		k, _ := t.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		if i := indexOf(keys, k); i >= 0 { // a repeated key: the last one wins, as in encoding/json
			vals[i] = v
			continue
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, false
	}
	return keys, vals, true
}

func indexOf(keys []string, k string) int {
	for i, x := range keys {
		if x == k {
			return i
		}
	}
	return -1
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func joinKeys(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
