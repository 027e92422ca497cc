package report

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// instructPipeline reads the pairs adapter's golden input (paths relative to testdata/).
const instructPipeline = `inputs:
  - {path: ../../testdata/golden/adapters/pairs/input.jsonl, adapter: pairs, fields: {lang: lang}, task: qa}
output: {format: FORMAT, shape: instruction, compression: zstd, splits: {train: 0.5, test: 0.5}}
rejects: {enabled: true, format: jsonl}
coverage: {audit_samples: 5, license: cc-by-4.0}
`

// A run of instruction records (Parquet or Arrow, split train/test) gets a card whose
// configs list only the splits each language has, whose features describe the instruction
// columns (messages as a list of {role, content}), and audit samples showing the exchange.
func TestBuildInstructionRun(t *testing.T) {
	for _, format := range []string{"parquet", "arrow"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			runPipeline(t, strings.Replace(instructPipeline, "FORMAT", format, 1), dir, 2)
			res, err := BuildWith(context.Background(), dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			fm, _, err := ParseCard(mustRead(t, filepath.Join(dir, CardFile)))
			if err != nil {
				t.Fatal(err)
			}
			run, err := LoadRun(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			if run.DataShape != "instruction" || run.DataFormat != format {
				t.Errorf("shape %q, format %q", run.DataShape, run.DataFormat)
			}
			for _, c := range fm.Configs {
				var splits []string
				for _, df := range c.DataFiles {
					splits = append(splits, df.Split)
					matches, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(df.Path)))
					if len(matches) == 0 {
						t.Errorf("config %s: %s matches no file", c.ConfigName, df.Path)
					}
				}
				order := map[string]int{"train": 0, "validation": 1, "test": 2}
				if len(splits) == 0 || !slices.IsSortedFunc(splits, func(a, b string) int { return order[a] - order[b] }) {
					t.Errorf("config %s: splits %v, want some of train, validation, test in that order", c.ConfigName, splits)
				}
			}
			if format == "parquet" {
				if len(fm.DatasetInfo) == 0 {
					t.Fatal("no dataset_info for a Parquet dataset")
				}
				for _, di := range fm.DatasetInfo {
					var msgs *FeatureInfo
					for i := range di.Features {
						if di.Features[i].Name == "messages" {
							msgs = &di.Features[i]
						}
					}
					if msgs == nil || len(msgs.List) != 2 || msgs.List[0].Name != "role" || msgs.List[1].Name != "content" {
						t.Errorf("%s: messages feature %+v", di.ConfigName, msgs)
					}
					var n int64
					for _, s := range di.Splits {
						n += s.NumExamples
					}
					if want := run.Stats.Kept; di.ConfigName == allConfig && n != want {
						t.Errorf("all: %d examples over the splits, %d kept", n, want)
					}
				}
			} else if len(fm.DatasetInfo) != 0 {
				t.Errorf("dataset_info for an Arrow dataset: %+v", fm.DatasetInfo)
			}
			audit, err := os.ReadFile(filepath.Join(dir, AuditDir, "hau_Latn.md"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(audit), "Mene ne babban birnin Najeriya?\n\nAbuja ne babban birnin Najeriya.") {
				t.Errorf("the Hausa audit does not show the exchange:\n%s", audit)
			}
			if len(res.Files) == 0 {
				t.Error("no report files")
			}
		})
	}
}
