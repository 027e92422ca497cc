package report

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/sieve-data/sieve/formats"
	"github.com/sieve-data/sieve/lang"
	"github.com/sieve-data/sieve/pipeline"
	_ "github.com/sieve-data/sieve/stages"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// metaLangConfig configures metaLang.
type metaLangConfig struct {
	MinScore float64 `yaml:"min_score"`
}

// metaLang stands in for the langid stage in these tests: it takes the label and score
// from the input's "lang" and "score" fields (which the JSONL reader leaves in Meta),
// rejects scores below min_score with langid.low_confidence (keeping the label, as the real
// stage does), and labels documents without a "lang" field und_<Script>.
type metaLang struct{ min float64 }

func (s metaLang) Process(_ context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	label, _ := d.Meta["lang"].(string)
	if label == "" {
		script, _ := lang.DetectScript(d.Text)
		d.Lang, d.Script = lang.Und(script), script
		return pipeline.Keep, nil
	}
	d.Lang, d.Script = label, lang.LabelScript(label)
	if n, ok := d.Meta["score"].(json.Number); ok {
		d.LangScore, _ = strconv.ParseFloat(string(n), 64)
	} else {
		d.LangScore = 1
	}
	delete(d.Meta, "lang")
	delete(d.Meta, "score")
	if d.LangScore < s.min {
		return pipeline.Rejectf("langid.low_confidence", "%.2f < %.2f", d.LangScore, s.min), nil
	}
	return pipeline.Keep, nil
}

func (metaLang) Close(context.Context) error { return nil }

// testRegistry holds the registered stages plus "langid" as metaLang.
func testRegistry(t testing.TB) *pipeline.Registry {
	t.Helper()
	var r pipeline.Registry
	def := pipeline.DefaultRegistry()
	for _, k := range def.Kinds() {
		if k == "langid" {
			continue
		}
		spec, _ := def.Lookup(k)
		if err := r.Register(k, spec); err != nil {
			t.Fatal(err)
		}
	}
	err := r.Register("langid", pipeline.Spec{
		Summary: "test stand-in: label from the input's lang field",
		Mode:    pipeline.Parallel,
		Config:  func() any { return &metaLangConfig{MinScore: 0.5} },
		New: func(cfg any, _ *pipeline.Env) (pipeline.Stage, error) {
			return metaLang{cfg.(*metaLangConfig).MinScore}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &r
}

func openInputs(_ context.Context, ins []pipeline.Input) (pipeline.Source, error) {
	files, err := formats.PlanInputs(ins, "")
	if err != nil {
		return nil, err
	}
	return formats.OpenInputs(files), nil
}

// runPipeline runs the pipeline YAML (paths relative to the report directory) into dir and
// returns its stats.
func runPipeline(t testing.TB, yaml, dir string, workers int) *pipeline.Stats {
	t.Helper()
	reg := testRegistry(t)
	cfg, err := pipeline.Load(filepath.Join("testdata", "pipeline.yaml"), []byte(yaml), reg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Output.Dir = dir
	cfg.Workers = workers
	res, err := pipeline.Execute(context.Background(), cfg, pipeline.Options{
		Registry: reg, OpenInputs: openInputs, NewRejects: formats.NewRejectsSink,
		SieveVersion: "test", ConfigFile: "testdata/pipeline.yaml", ConfigText: []byte(yaml),
		CountWords: lang.CountWords,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Stats
}

// testPipeline is the pipeline most tests run on testdata/corpus.jsonl (paths are relative
// to testdata/, where Load places the config).
const testPipeline = `inputs:
  - path: corpus.jsonl
stages:
  - length: {min_chars: 30, min_words: 3}
  - langid: {min_score: 0.5}
  - exact_dedup: {}
output: {format: parquet, row_group_size: 4}
rejects: {enabled: true, format: jsonl}
coverage:
  default: {min_docs: 3}
  targets:
    yor_Latn: {min_docs: 5}
    ha: {min_docs: 10}
    swh: {min_words: 1000}
    amh_Ethi: {}
    fuv_Latn: {min_docs: 5}
  audit_samples: 4
  seed: 3
  license: cc-by-4.0
  pretty_name: sieve report test corpus
`

// parquetColumn reads one string column of a Parquet file with parquet-go, a reader
// independent of the arrow-go writer.
func parquetColumn(t testing.TB, path, column string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	col, ok := pf.Schema().Lookup(column)
	if !ok {
		t.Fatalf("%s: no column %s", path, column)
	}
	var out []string
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[col.ColumnIndex].Pages()
		for {
			p, err := pages.ReadPage()
			if err != nil {
				break
			}
			vals := make([]parquet.Value, p.NumValues())
			n, _ := p.Values().ReadValues(vals)
			for _, v := range vals[:n] {
				out = append(out, v.String())
			}
		}
		pages.Close()
	}
	if int64(len(out)) != pf.NumRows() {
		t.Fatalf("%s: read %d values of %d rows", path, len(out), pf.NumRows())
	}
	return out
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file (go test ./report -update to accept):\n%s", name, firstDiff(string(want), string(got)))
	}
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-200)
	return fmt.Sprintf("at byte %d\nwant: %q\n got: %q", i, a[lo:min(len(a), i+200)], b[lo:min(len(b), i+200)])
}
