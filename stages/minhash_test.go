package stages

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/sieve-data/sieve/pipeline"
	"github.com/sieve-data/sieve/stages/minhash"
)

const (
	swaOriginal = "Serikali ya Kenya imetangaza mpango mpya wa kusaidia wakulima wadogo katika maeneo ya ukame. " +
		"Waziri wa kilimo alisema kwamba wakulima watapewa mbegu bora na mbolea kwa bei nafuu kuanzia mwezi ujao. " +
		"Mpango huo unatarajiwa kuwanufaisha zaidi ya familia laki tano katika kaunti kumi na mbili. " +
		"Wataalamu wa hali ya hewa wameonya kwamba mvua za msimu huu zinaweza kuchelewa kwa wiki kadhaa. " +
		"Viongozi wa mashirika ya wakulima walipongeza hatua hiyo lakini wakaomba fedha zaidi kwa ajili ya umwagiliaji."
	yorOriginal = "Ìjọba ìpínlẹ̀ Èkó ti kéde pé àwọn ilé-ìwé gbogbo yóò ṣí padà ní ọ̀sẹ̀ tó ń bọ̀. " +
		"Kọmíṣọ́nà fún ètò ẹ̀kọ́ sọ pé àwọn olùkọ́ ti gba ìdánilẹ́kọ̀ọ́ tuntun lórí ètò ìlera. " +
		"Àwọn òbí ní láti rí i dájú pé àwọn ọmọ wọn wọ aṣọ ilé-ìwé tó mọ́. " +
		"Ìjọba tún ṣèlérí láti pèsè omi mímu àti ilé ìgbọ̀nsẹ̀ tuntun ní gbogbo ilé-ìwé ìjọba."
)

// editWords replaces n words of text, deterministically.
func editWords(text string, n int, seed uint64) string {
	w := strings.Fields(text)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < n; i++ {
		w[rng.IntN(len(w))] = fmt.Sprintf("neno%d", rng.IntN(1000))
	}
	return strings.Join(w, " ")
}

func newTestMinhash(t *testing.T, mod func(*MinhashDedupConfig)) *MinhashDedup {
	t.Helper()
	cfg := DefaultMinhashDedupConfig()
	cfg.SpillDir = t.TempDir()
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewMinhashDedup(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func TestMinhashDedupVerdicts(t *testing.T) {
	s := newTestMinhash(t, nil)
	tests := []struct {
		id, lang, text string
		wantReason     string
		wantOf         string
	}{
		{"swa-1", "swh_Latn", swaOriginal, "", ""},
		{"yor-1", "yor_Latn", yorOriginal, "", ""},
		{"swa-2", "swh_Latn", editWords(swaOriginal, 1, 1), "minhash_dedup.near_duplicate", "swa-1"},
		{"swa-3", "swh_Latn", strings.ToUpper(swaOriginal) + " !!!", "minhash_dedup.near_duplicate", "swa-1"},
		{"yor-2", "yor_Latn", strings.ReplaceAll(yorOriginal, "  ", " ") + "\n\n", "minhash_dedup.near_duplicate", "yor-1"},
		{"swa-heavy", "swh_Latn", editWords(swaOriginal, 25, 2), "", ""},
		{"symbols", "zxx_Zyyy", "!!! ??? ...", "", ""},
		{"symbols-2", "zxx_Zyyy", "!!! ??? ...", "", ""}, // no words: not indexed, kept
	}
	for _, tt := range tests {
		d := &pipeline.Document{ID: tt.id, Lang: tt.lang, Text: tt.text}
		if err := s.Prepare(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		v, err := s.Process(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		if v.Reason != tt.wantReason {
			t.Errorf("%s: reason %q (%s), want %q", tt.id, v.Reason, v.Detail, tt.wantReason)
			continue
		}
		if d.Scratch != nil {
			t.Errorf("%s: Scratch not cleared", tt.id)
		}
		if tt.wantOf != "" {
			if !strings.Contains(v.Detail, "near-duplicate of "+tt.wantOf+" (estimated Jaccard ") {
				t.Errorf("%s: detail %q does not name %s with the estimate", tt.id, v.Detail, tt.wantOf)
			}
			if d.Meta["minhash_cluster"] != tt.wantOf {
				t.Errorf("%s: minhash_cluster = %v, want %s", tt.id, d.Meta["minhash_cluster"], tt.wantOf)
			}
		} else if tt.text != "!!! ??? ..." {
			if d.Meta["minhash_cluster"] != tt.id || d.Meta["minhash_cluster_size"] != int64(1) {
				t.Errorf("%s: kept with meta %v", tt.id, d.Meta)
			}
		}
	}
	r := s.Report()
	if r["near_duplicates"] != int64(3) || r["clusters"] != 2 || r["largest_cluster"] != 3 || r["docs_not_indexed"] != int64(2) {
		t.Errorf("report: %v", r)
	}
}

func TestMinhashDedupScopeAndVerify(t *testing.T) {
	run := func(mod func(*MinhashDedupConfig), docs ...*pipeline.Document) []string {
		s := newTestMinhash(t, mod)
		var reasons []string
		for _, d := range docs {
			v, err := s.Process(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			reasons = append(reasons, v.Reason)
		}
		return reasons
	}
	a := func() *pipeline.Document { return &pipeline.Document{ID: "a", Lang: "swh_Latn", Text: swaOriginal} }
	b := func() *pipeline.Document { return &pipeline.Document{ID: "b", Lang: "swc_Latn", Text: swaOriginal} }
	if got := run(nil, a(), b()); got[1] != "minhash_dedup.near_duplicate" {
		t.Errorf("global scope: %q", got)
	}
	if got := run(func(c *MinhashDedupConfig) { c.Scope = "per_language" }, a(), b()); got[1] != "" {
		t.Errorf("per_language scope removed a document of another language: %q", got)
	}
	// A pair that shares a band but whose estimated similarity is below the threshold.
	var mid *pipeline.Document
	for seed := uint64(0); seed < 200 && mid == nil; seed++ {
		s := newTestMinhash(t, func(c *MinhashDedupConfig) { c.Bands, c.Rows = 40, 2 })
		d0, d1 := a(), &pipeline.Document{ID: "m", Text: editWords(swaOriginal, 12, seed)}
		s.Process(context.Background(), d0)
		if v, _ := s.Process(context.Background(), d1); v.Reason != "" && strings.Contains(v.Detail, "Jaccard 0.") {
			var est float64
			fmt.Sscanf(v.Detail[strings.Index(v.Detail, "Jaccard ")+8:], "%f", &est)
			if est < 0.8 {
				mid = &pipeline.Document{ID: "m", Text: d1.Text}
			}
		}
	}
	if mid == nil {
		t.Fatal("no mid-similarity pair found")
	}
	loose := func(c *MinhashDedupConfig) { c.Bands, c.Rows = 40, 2 }
	if got := run(loose, a(), mid); got[1] == "" {
		t.Fatalf("unverified run kept the candidate")
	}
	if got := run(func(c *MinhashDedupConfig) { loose(c); c.Verify = true }, a(), mid); got[1] != "" {
		t.Errorf("verify kept a candidate below the threshold: %q", got)
	}
}

func TestMinhashDedupConfig(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*MinhashDedupConfig)
		field string
	}{
		{"defaults", func(*MinhashDedupConfig) {}, ""},
		{"bad shingle", func(c *MinhashDedupConfig) { c.Shingle = "bytes" }, "shingle"},
		{"bad ngram", func(c *MinhashDedupConfig) { c.NGram = 0 }, "ngram"},
		{"bad bands", func(c *MinhashDedupConfig) { c.Bands = 65 }, "bands"},
		{"bad threshold", func(c *MinhashDedupConfig) { c.Threshold = 1 }, "threshold"},
		{"bad scope", func(c *MinhashDedupConfig) { c.Scope = "per_lang" }, "scope"},
		{"longest in streaming", func(c *MinhashDedupConfig) { c.Keep = "longest" }, "keep"},
		{"bad spill", func(c *MinhashDedupConfig) { c.Spill = "cloud" }, "spill"},
	}
	for _, tt := range tests {
		c := DefaultMinhashDedupConfig()
		tt.mod(&c)
		errs := c.Validate()
		if tt.field == "" && len(errs) > 0 || tt.field != "" && (len(errs) != 1 || errs[0].Field != tt.field) {
			t.Errorf("%s: errors %v, want one on %q", tt.name, errs, tt.field)
		}
	}
	c := DefaultMinhashDedupConfig()
	c.DeriveBands, c.Threshold = true, 0.9
	p, err := c.Params()
	if err != nil || p.NumHashes() > 112 || (p.Bands == 14 && p.Rows == 8) {
		t.Errorf("derive_bands at 0.9: %+v, %v", p, err)
	}
	c = DefaultMinhashDedupConfig()
	c.SpillDir = "/nonexistent/dir"
	if _, err := NewMinhashDedup(c); err == nil {
		t.Error("bad spill_dir accepted")
	}
}

// sliceSource and collectSink run documents through pipeline.Run.
type sliceSource struct {
	docs []pipeline.Document
	i    int
}

func (s *sliceSource) Next(_ context.Context, d *pipeline.Document) error {
	if s.i == len(s.docs) {
		return io.EOF
	}
	*d = s.docs[s.i]
	s.i++
	return nil
}
func (s *sliceSource) Close() error { return nil }

type collectSink struct{ lines []string }

func (c *collectSink) Write(_ context.Context, d *pipeline.Document) error {
	c.lines = append(c.lines, fmt.Sprintf("%s %s %s %v", d.ID, d.Rejected.Reason, d.Rejected.Detail, d.Meta["minhash_cluster"]))
	return nil
}
func (c *collectSink) Commit(context.Context) error { return nil }
func (c *collectSink) Abort() error                 { return nil }

// A corpus of originals and edited copies in several languages and scripts gives the same
// kept documents, rejects and details with 1 and with 4 workers.
func TestMinhashDedupDeterministicAcrossWorkers(t *testing.T) {
	corpus := minhashTestCorpus(600)
	var outs [][]string
	for _, workers := range []int{1, 4} {
		s := newTestMinhash(t, nil)
		kept, rej := &collectSink{}, &collectSink{}
		st, err := pipeline.Run(context.Background(), &pipeline.Plan{
			Source:  &sliceSource{docs: corpus},
			Stages:  []pipeline.StageInstance{{Name: "minhash_dedup", Kind: "minhash_dedup", Mode: pipeline.Ordered, Stage: s}},
			Output:  kept,
			Rejects: rej,
			Workers: workers, BatchSize: 16,
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Read != int64(len(corpus)) {
			t.Fatalf("read %d of %d", st.Read, len(corpus))
		}
		if len(rej.lines) == 0 || len(kept.lines) == 0 {
			t.Fatalf("workers=%d: %d kept, %d rejected: corpus does not exercise dedup", workers, len(kept.lines), len(rej.lines))
		}
		outs = append(outs, append(kept.lines, rej.lines...))
	}
	if !slices.Equal(outs[0], outs[1]) {
		t.Fatalf("1 and 4 workers differ")
	}
}

// minhashTestCorpus makes n documents: pseudo-texts in Latin, Ethiopic and Thai scripts,
// a third of them edited copies of an earlier one.
func minhashTestCorpus(n int) []pipeline.Document {
	rng := rand.New(rand.NewPCG(42, 42))
	sylls := map[string][]string{
		"swh_Latn": {"ka", "wa", "ma", "ni", "ku", "to", "li", "za", "mba", "nge"},
		"amh_Ethi": {"ሰ", "ላ", "ም", "ነ", "በ", "ረ", "ተ", "ቆ", "ል", "ፎ"},
		"tha_Thai": {"ภา", "ษา", "ไท", "ย", "เป็", "น", "กา", "ร", "เขี", "ยน"},
	}
	langs := []string{"swh_Latn", "amh_Ethi", "tha_Thai"}
	var docs []pipeline.Document
	for i := 0; i < n; i++ {
		if i > 10 && rng.IntN(3) == 0 {
			src := docs[rng.IntN(len(docs))]
			w := strings.Fields(src.Text)
			for e := 0; e < 1+rng.IntN(3); e++ {
				w[rng.IntN(len(w))] = "x"
			}
			docs = append(docs, pipeline.Document{ID: fmt.Sprintf("d%04d", i), Lang: src.Lang, Text: strings.Join(w, " ")})
			continue
		}
		l := langs[rng.IntN(len(langs))]
		var b strings.Builder
		for w := 0; w < 150; w++ {
			for k := 0; k < 1+rng.IntN(3); k++ {
				b.WriteString(sylls[l][rng.IntN(len(sylls[l]))])
			}
			b.WriteByte(' ')
		}
		docs = append(docs, pipeline.Document{ID: fmt.Sprintf("d%04d", i), Lang: l, Text: b.String()})
	}
	return docs
}

func BenchmarkMinhashDedupProcess(b *testing.B) {
	cfg := DefaultMinhashDedupConfig()
	cfg.SpillDir = b.TempDir()
	s, err := NewMinhashDedup(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(context.Background())
	corpus := minhashTestCorpus(1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d := corpus[i%len(corpus)]
		d.ID = fmt.Sprint(i)
		i++
		if _, err := s.Process(context.Background(), &d); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMinhashShardedConfig(t *testing.T) {
	c := DefaultMinhashDedupConfig()
	c.Keep, c.KeepField, c.Scope = "max_meta", "score", "per_language"
	sc, err := c.Sharded("/tmp/x")
	if err != nil || sc.Keep != minhash.KeepMaxMeta || !sc.PerLanguage || sc.Params.NumHashes() != 112 || sc.Dir != "/tmp/x" {
		t.Fatalf("Sharded = %+v, %v", sc, err)
	}
	c.KeepField = ""
	if _, err := c.Sharded("/tmp/x"); err == nil {
		t.Error("max_meta without keep_field accepted")
	}
	d := &pipeline.Document{}
	for _, tt := range []struct {
		give any
		want float64
	}{{0.5, 0.5}, {int64(3), 3}, {"2.5", 2.5}, {json.Number("7"), 7}, {"high", math.Inf(-1)}, {nil, math.Inf(-1)}} {
		d.Meta = map[string]any{"score": tt.give}
		if got := MinhashKeepValue(d, "score"); got != tt.want {
			t.Errorf("MinhashKeepValue(%v) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

// Acceptance: the streaming stage (1 and 4 workers) and the sharded phases (1 and 3 tasks,
// 3 input shards) keep the same documents.
func TestMinhashStreamingEqualsSharded(t *testing.T) {
	corpus := minhashTestCorpus(600)
	keptStreaming := map[int][]string{}
	for _, workers := range []int{1, 4} {
		s := newTestMinhash(t, nil)
		kept, rej := &collectSink{}, &collectSink{}
		_, err := pipeline.Run(context.Background(), &pipeline.Plan{
			Source: &sliceSource{docs: corpus},
			Stages: []pipeline.StageInstance{{Name: "minhash_dedup", Kind: "minhash_dedup", Mode: pipeline.Ordered, Stage: s}},
			Output: kept, Rejects: rej, Workers: workers, BatchSize: 16,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range kept.lines {
			keptStreaming[workers] = append(keptStreaming[workers], strings.Fields(l)[0])
		}
	}
	if !slices.Equal(keptStreaming[1], keptStreaming[4]) {
		t.Fatal("1 and 4 workers keep different documents")
	}
	cfg := DefaultMinhashDedupConfig()
	const shards = 3
	per := (len(corpus) + shards - 1) / shards
	for _, tasks := range []int{1, 3} {
		sc, err := cfg.Sharded(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		for s := 0; s < shards; s++ {
			part := corpus[s*per : min((s+1)*per, len(corpus))]
			_, err := minhash.WriteSignatures(sc, s, func(emit func(minhash.ShardDoc) error) error {
				for _, d := range part {
					if err := emit(minhash.ShardDoc{ID: d.ID, Text: d.Text, Script: d.Script, Lang: d.Lang}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		for task := 0; task < tasks; task++ {
			if err := minhash.BucketTask(sc, shards, task, tasks); err != nil {
				t.Fatal(err)
			}
			if err := minhash.ClusterTask(sc, task, tasks); err != nil {
				t.Fatal(err)
			}
		}
		if err := minhash.MergeClusters(sc, shards, tasks); err != nil {
			t.Fatal(err)
		}
		var kept []string
		for s := 0; s < shards; s++ {
			f, err := minhash.OpenFilter(sc, s)
			if err != nil {
				t.Fatal(err)
			}
			for pos, d := range corpus[s*per : min((s+1)*per, len(corpus))] {
				dec, err := f.Decision(pos)
				if err != nil {
					t.Fatal(err)
				}
				if !dec.Removed {
					kept = append(kept, d.ID)
				}
			}
			f.Close()
		}
		if !slices.Equal(kept, keptStreaming[1]) {
			t.Errorf("tasks=%d: sharded keeps %d documents, streaming %d", tasks, len(kept), len(keptStreaming[1]))
		}
	}
}
