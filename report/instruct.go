package report

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/sieve-data/sieve/pipeline"
)

// instructionFeatures are the columns of instruction records (formats.InstructionSchema)
// as Hub features: messages is a list of {role, content}.
var instructionFeatures = []FeatureInfo{
	{Name: "id", Dtype: "string"}, {Name: "lang", Dtype: "string"}, {Name: "script", Dtype: "string"},
	{Name: "lang_score", Dtype: "float64"},
	{Name: "messages", List: []FeatureInfo{{Name: "role", Dtype: "string"}, {Name: "content", Dtype: "string"}}},
	{Name: "instruction", Dtype: "string"}, {Name: "input", Dtype: "string"}, {Name: "output", Dtype: "string"},
	{Name: "task", Dtype: "string"}, {Name: "template", Dtype: "string"}, {Name: "source", Dtype: "string"},
	{Name: "metadata", Dtype: "string"},
}

// manifestShape returns output.shape of the resolved config: "text" unless it says
// instruction.
func manifestShape(m *pipeline.Manifest) string {
	if out, ok := m.ConfigResolved["output"].(map[string]any); ok {
		if s, _ := out["shape"].(string); s == "instruction" {
			return s
		}
	}
	return "text"
}

// instructText is what an audit sample shows of an instruction record: the Alpaca columns,
// a blank line between them.
func instructText(instruction, input, output string) string {
	var parts []string
	for _, s := range []string{instruction, input, output} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n")
}

// instructionFile reports whether a Parquet dataset file has the instruction columns.
func instructionFile(p string) bool {
	pf, err := file.OpenParquetFile(p, false)
	if err != nil {
		return false
	}
	defer pf.Close()
	s := pf.MetaData().Schema
	return s.ColumnIndexByName("text") < 0 && s.ColumnIndexByName("output") >= 0
}

// splitOf returns the split of a dataset file name (train-00000-of-00001.parquet: train).
func splitOf(rel string) string {
	s, _, _ := strings.Cut(path.Base(rel), "-")
	return s
}

// splitFiles returns the card's data_files for the languages given, under data/<dir>/: one
// entry per split their files hold, in the order train, validation, test.
func (r *Run) splitFiles(dir string, langs ...string) []CardDataFiles {
	var out []CardDataFiles
	for _, split := range pipeline.SplitNames {
		for _, l := range langs {
			if r.hasSplit(l, split) {
				out = append(out, CardDataFiles{Split: split, Path: "data/" + dir + "/" + split + "-*" + r.DataExt})
				break
			}
		}
	}
	return out
}

func (r *Run) hasSplit(lang, split string) bool {
	for _, f := range r.Data[lang] {
		if splitOf(f) == split {
			return true
		}
	}
	return false
}

// splitRows counts the rows of each split over the languages given (Parquet footers), in
// the order train, validation, test; splits without rows are left out.
func (m *model) splitRows(langs ...string) []SplitInfo {
	var out []SplitInfo
	for _, split := range pipeline.SplitNames {
		var n int64
		found := false
		for _, l := range langs {
			for _, f := range m.Run.Data[l] {
				if splitOf(f) != split {
					continue
				}
				found = true
				rows, err := parquetRows(filepath.Join(m.Run.Dir, filepath.FromSlash(f)))
				if err == nil {
					n += rows
				}
			}
		}
		if found {
			out = append(out, SplitInfo{split, n})
		}
	}
	return out
}

// scanKeptArrow is scanKept for Arrow IPC dataset files: every row is offered to the
// reservoir, the sampled ones copied out of the record batches.
func scanKeptArrow(ctx context.Context, dir string, files []string, set *sampleSet) ([]Sample, int64, error) {
	res := set.res
	for _, rel := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		f, err := os.Open(p)
		if err != nil {
			return nil, 0, err
		}
		rdr, err := ipc.NewFileReader(f, ipc.WithAllocator(memory.DefaultAllocator))
		if err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("%s: %w", p, err)
		}
		schema := rdr.Schema()
		col := func(name string) int {
			if idx := schema.FieldIndices(name); len(idx) == 1 {
				return idx[0]
			}
			return -1
		}
		id, text, score, source := col("id"), col("text"), col("lang_score"), col("source")
		ins, inp, out := col("instruction"), col("input"), col("output")
		for b := 0; b < rdr.NumRecords(); b++ {
			if err := ctx.Err(); err != nil {
				rdr.Close()
				f.Close()
				return nil, 0, err
			}
			rec, err := rdr.RecordBatch(b)
			if err != nil {
				rdr.Close()
				f.Close()
				return nil, 0, fmt.Errorf("%s: batch %d: %w", p, b, err)
			}
			str := func(c, i int) string {
				if c < 0 {
					return ""
				}
				if s, ok := rec.Column(c).(*array.String); ok {
					return strings.Clone(s.Value(i))
				}
				return ""
			}
			for i := 0; i < int(rec.NumRows()); i++ {
				slot := res.offer()
				if slot < 0 {
					continue
				}
				kr := keptRecord{ID: str(id, i), Text: str(text, i), Source: str(source, i),
					Instruction: str(ins, i), Input: str(inp, i), Output: str(out, i)}
				if score >= 0 {
					if fa, ok := rec.Column(score).(*array.Float64); ok {
						kr.LangScore = fa.Value(i)
					}
				}
				set.put(slot, kr.sample(res.seen-1))
			}
		}
		rdr.Close()
		f.Close()
	}
	return set.sorted(), res.seen, nil
}
