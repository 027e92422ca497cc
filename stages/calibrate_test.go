package stages

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/sieve-data/sieve/lang"
	"github.com/sieve-data/sieve/pipeline"
	"github.com/sieve-data/sieve/stages/quality"
)

// calDoc is a test document: id, language label, text, and whether it is junk we planted.
type calDoc struct {
	ID, Lang, Text string
	Junk           bool
}

// calSource is a pipeline.Source over test documents; the language goes to Meta["lang"] as a
// JSONL reader would put it, and the test stage lang_from_meta sets doc.Lang from it.
type calSource struct {
	docs []calDoc
	i    int
}

func (s *calSource) Next(_ context.Context, d *pipeline.Document) error {
	if s.i >= len(s.docs) {
		return io.EOF
	}
	c := s.docs[s.i]
	s.i++
	d.ID, d.Text = c.ID, c.Text
	d.Origin = pipeline.Position{File: "test", Line: int64(s.i)}
	d.SetMeta("lang", c.Lang)
	return nil
}

func (s *calSource) Close() error { return nil }

// langFromMeta is a test stage kind standing in for langid: it copies Meta["lang"].
type langFromMeta struct{}

func (langFromMeta) Process(_ context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	if l, ok := d.Meta["lang"].(string); ok {
		d.Lang = l
	}
	return pipeline.Keep, nil
}
func (langFromMeta) Close(context.Context) error { return nil }

// calRegistry holds the quality stage kinds and lang_from_meta.
func calRegistry(t testing.TB) *pipeline.Registry {
	t.Helper()
	reg := &pipeline.Registry{}
	for _, k := range append(quality.Kinds(), "toxicity", "pii") {
		spec, _ := pipeline.DefaultRegistry().Lookup(k)
		if err := reg.Register(k, spec); err != nil {
			t.Fatal(err)
		}
	}
	reg.Register("lang_from_meta", pipeline.Spec{
		Config: func() any { return &struct{}{} },
		New:    func(any, *pipeline.Env) (pipeline.Stage, error) { return langFromMeta{}, nil },
	})
	return reg
}

// calConfig builds a pipeline config from YAML stage lines, with the test registry.
func calConfig(t testing.TB, baseDir, stagesYAML string) *pipeline.Config {
	t.Helper()
	if _, ok := pipeline.LookupWriter("stages-test-discard"); !ok {
		pipeline.RegisterWriter("stages-test-discard", func(string, *pipeline.Output) (pipeline.Sink, error) { return &calSink{}, nil })
	}
	src := "inputs: [test.jsonl]\nstages:\n" + stagesYAML + "output: {dir: out, format: stages-test-discard}\n"
	cfg, err := pipeline.Load(filepath.Join(baseDir, "pipeline.yaml"), []byte(src), calRegistry(t))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// calSink records documents in read order.
type calSink struct{ docs []pipeline.Document }

func (c *calSink) Write(_ context.Context, d *pipeline.Document) error {
	c.docs = append(c.docs, *d)
	return nil
}
func (c *calSink) Commit(context.Context) error { return nil }
func (c *calSink) Abort() error                 { return nil }

// runPipeline runs docs through cfg's stages and returns each document's reason ("" when
// kept) and the kept texts, by id.
func runPipeline(t testing.TB, cfg *pipeline.Config, docs []calDoc, workers int) (map[string]pipeline.Rejection, map[string]string) {
	t.Helper()
	built, err := pipeline.BuildStages(cfg, calRegistry(t), workers, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	out, rej := &calSink{}, &calSink{}
	st, err := pipeline.Run(context.Background(), &pipeline.Plan{Source: &calSource{docs: docs}, Stages: built, Output: out, Rejects: rej, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	if st.Read != int64(len(docs)) || !st.Balanced {
		t.Fatalf("read %d of %d, balanced %v", st.Read, len(docs), st.Balanced)
	}
	reasons := map[string]pipeline.Rejection{}
	kept := map[string]string{}
	for _, d := range rej.docs {
		reasons[d.ID] = d.Rejected
	}
	for _, d := range out.docs {
		kept[d.ID] = d.Text
	}
	return reasons, kept
}

func calibrateDocs(t testing.TB, cfg *pipeline.Config, docs []calDoc, mod func(*CalibrateOptions)) *CalibrationRun {
	t.Helper()
	opts := CalibrateOptions{CalibrateOptions: quality.DefaultCalibrateOptions(), Registry: calRegistry(t), Workers: 2,
		OpenInputs: func(context.Context, []pipeline.Input) (pipeline.Source, error) { return &calSource{docs: docs}, nil }}
	if mod != nil {
		mod(&opts)
	}
	run, err := Calibrate(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// writeThresholds writes a calibration's thresholds file into dir and returns its bytes.
func writeThresholds(t testing.TB, run *CalibrationRun, path string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := run.WriteYAML(&buf, "test"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const allQuality = "  - lang_from_meta\n  - gopher_quality: %s\n  - gopher_repetition: %s\n  - c4_quality: %s\n  - fineweb_quality: %s\n"

func withFile(file string) string {
	if file == "" {
		return "{}"
	}
	return "{thresholds_file: " + file + "}"
}

func TestCalibrateErrors(t *testing.T) {
	dir := t.TempDir()
	docs := []calDoc{{ID: "a", Lang: "eng_Latn", Text: "x"}}
	for _, tt := range []struct{ stages, want string }{
		{"  - lang_from_meta\n", "has no quality stage"},
		{"  - gopher_quality\n  - gopher_quality\n", "stages gopher_quality and gopher_quality#2 are both gopher_quality"},
	} {
		cfg := calConfig(t, dir, tt.stages)
		_, err := Calibrate(context.Background(), cfg, CalibrateOptions{CalibrateOptions: quality.DefaultCalibrateOptions(), Registry: calRegistry(t),
			OpenInputs: func(context.Context, []pipeline.Input) (pipeline.Source, error) { return &calSource{docs: docs}, nil }})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want %q", err, tt.want)
		}
	}
	bad := quality.DefaultCalibrateOptions()
	bad.Quantile = 0.7
	if err := bad.Validate(); err == nil {
		t.Error("quantile 0.7 accepted")
	}
}

// calSharedData returns a file of the shared evaluation data, or skips.
func calSharedData(t *testing.T, rel string) string {
	t.Helper()
	for _, dir := range []string{os.Getenv("SIEVE_SHARED_DATA"), filepath.Join("..", "..", "shared", "data")} {
		if dir == "" {
			continue
		}
		if p := filepath.Join(dir, rel); fileExists(p) {
			return p
		}
	}
	t.Skipf("%s not found (set SIEVE_SHARED_DATA)", rel)
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func readJSONLDocs(t *testing.T, path string) []calDoc {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []calDoc
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r struct{ ID, Lang, Text string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, calDoc{ID: r.ID, Lang: r.Lang, Text: r.Text})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return docs
}

// junkFor generates junk documents in a language from words of its articles: boilerplate
// menus, repeated lines, symbol soup and keyword spam, n of each kind.
func junkFor(label string, articles []string, n int, seed uint64) []calDoc {
	rng := rand.New(rand.NewPCG(seed, 7))
	var content []string // distinct words of four letters or more, as written
	seen := map[string]bool{}
	var sentences []string
	for _, a := range articles {
		lang.EachWord(a, func(tok lang.Token) bool {
			w := a[tok.Start:tok.End]
			lw := strings.ToLower(w)
			if tok.Kind == lang.Word && len([]rune(w)) >= 4 && !seen[lw] && strings.IndexFunc(w, unicode.IsDigit) < 0 {
				seen[lw] = true
				content = append(content, w)
			}
			return true
		})
		lang.EachSentence(a, func(sp lang.Span) bool {
			if s := a[sp.Start:sp.End]; len([]rune(s)) > 40 {
				sentences = append(sentences, s)
			}
			return true
		})
	}
	pick := func() string { return content[rng.IntN(len(content))] }
	title := func(w string) string {
		r := []rune(w)
		return strings.ToUpper(string(r[:1])) + string(r[1:])
	}
	symbols := []string{"★★★", "$$$", ">>>", "|||", "###", "...", "✓✓", "%%", "***", "+++", "===", "@@@", "©", "®", "→", "•••", "!!!", "~~~", "<<<", "^^^"}
	var out []calDoc
	add := func(kind string, i int, text string) {
		out = append(out, calDoc{ID: fmt.Sprintf("junk-%s-%s-%02d", label, kind, i), Lang: label, Text: text, Junk: true})
	}
	for i := 0; i < n; i++ {
		// menu: 15-40 short lines of 1-3 capitalised words, sometimes bulleted or piped
		var lines []string
		for k := 15 + rng.IntN(26); k > 0; k-- {
			item := title(pick())
			for j := rng.IntN(3); j > 0; j-- {
				item += " " + pick()
			}
			switch rng.IntN(3) {
			case 0:
				item = "• " + item
			case 1:
				item = item + " |"
			}
			lines = append(lines, item)
		}
		add("menu", i, strings.Join(lines, "\n"))

		// repeated lines: 2-4 sentences of the language, each 4-10 times, shuffled
		lines = lines[:0]
		for k := 2 + rng.IntN(3); k > 0; k-- {
			s := sentences[rng.IntN(len(sentences))]
			for r := 4 + rng.IntN(7); r > 0; r-- {
				lines = append(lines, s)
			}
		}
		rng.Shuffle(len(lines), func(a, b int) { lines[a], lines[b] = lines[b], lines[a] })
		add("repeat", i, strings.Join(lines, "\n"))

		// symbol soup: symbols and numbers with a few words
		var parts []string
		for k := 80 + rng.IntN(120); k > 0; k-- {
			switch r := rng.IntN(10); {
			case r < 6:
				parts = append(parts, symbols[rng.IntN(len(symbols))])
			case r < 8:
				parts = append(parts, fmt.Sprint(rng.IntN(100000)))
			default:
				parts = append(parts, pick())
			}
		}
		add("symbols", i, strings.Join(parts, " "))

		// keyword spam: 4-8 keywords in random order, now and then a repeated phrase
		kws := make([]string, 4+rng.IntN(5))
		for k := range kws {
			kws[k] = pick()
		}
		phrase := kws[0] + " " + kws[1] + " " + kws[2]
		parts = parts[:0]
		for k := 100 + rng.IntN(200); k > 0; k-- {
			if rng.IntN(6) == 0 {
				parts = append(parts, phrase)
			} else {
				parts = append(parts, kws[rng.IntN(len(kws))])
			}
		}
		add("spam", i, strings.Join(parts, " "))
	}
	return out
}

// TestCalibrateMasakhaNews is the acceptance test of issue 5 on real news in 16 African
// languages (and English, French): the calibrated config keeps at least 95% of the articles
// of every language and removes at least 95% of a junk set generated in each language.
func TestCalibrateMasakhaNews(t *testing.T) {
	path := calSharedData(t, "docs/masakhanews.jsonl")
	if testing.Short() {
		t.Skip("long: calibrates and runs 2,400 articles and 2,560 junk documents")
	}
	articles := readJSONLDocs(t, path)
	byLang := map[string][]string{}
	for _, d := range articles {
		byLang[d.Lang] = append(byLang[d.Lang], d.Text)
	}
	var junk []calDoc
	for i, l := range sortedMapKeys(byLang) {
		junk = append(junk, junkFor(l, byLang[l], 40, uint64(i))...)
	}
	dir := t.TempDir()
	cfg := calConfig(t, dir, fmt.Sprintf(allQuality, "{}", "{}", "{}", "{}"))
	run := calibrateDocs(t, cfg, articles, nil)
	yml := writeThresholds(t, run, filepath.Join(dir, "calibrated.yaml"))
	var report bytes.Buffer
	run.WriteReport(&report)

	f := withFile("calibrated.yaml")
	calCfg := calConfig(t, dir, fmt.Sprintf(allQuality, f, f, f, f))
	defCfg := calConfig(t, dir, fmt.Sprintf(allQuality, "{}", "{}", "{}", "{}"))
	engCfg := calConfig(t, dir, fmt.Sprintf(allQuality, "{builtin_stop_words: false}", "{}", "{}", "{}"))
	all := append(append([]calDoc(nil), articles...), junk...)
	calReasons, _ := runPipeline(t, calCfg, all, 2)
	defReasons, _ := runPipeline(t, defCfg, all, 2)
	engReasons, _ := runPipeline(t, engCfg, all, 2)
	junkBy := map[string]int{}
	for _, d := range junk {
		kind := strings.Split(d.ID, "-")[2]
		junkBy[kind+" "+calReasons[d.ID].Reason]++
	}

	type tally struct{ articles, kept, keptDefault, keptEnglish, junk, junkRemoved, junkRemovedDefault int }
	tallies := map[string]*tally{}
	missed := map[string][]string{}
	lost := map[string][]string{}
	for _, d := range all {
		tl := tallies[d.Lang]
		if tl == nil {
			tl = &tally{}
			tallies[d.Lang] = tl
		}
		_, rejected := calReasons[d.ID]
		_, rejectedDefault := defReasons[d.ID]
		if d.Junk {
			tl.junk++
			if rejected {
				tl.junkRemoved++
			} else {
				missed[d.Lang] = append(missed[d.Lang], d.ID)
			}
			if rejectedDefault {
				tl.junkRemovedDefault++
			}
			continue
		}
		tl.articles++
		if !rejected {
			tl.kept++
		} else {
			lost[d.Lang] = append(lost[d.Lang], d.ID+" "+calReasons[d.ID].Reason+" "+calReasons[d.ID].Detail)
		}
		if !rejectedDefault {
			tl.keptDefault++
		}
		if _, r := engReasons[d.ID]; !r {
			tl.keptEnglish++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %8s %14s %14s %14s %14s\n", "lang", "articles", "kept English", "kept default", "kept calib.", "junk removed")
	var sumA, sumK, sumKD, sumKE, sumJ, sumJR int
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(b) }
	ok := true
	for _, l := range sortedMapKeys(tallies) {
		tl := tallies[l]
		fmt.Fprintf(&b, "%-9s %8d %13.1f%% %13.1f%% %13.1f%% %13.1f%%\n", l, tl.articles, pct(tl.keptEnglish, tl.articles), pct(tl.keptDefault, tl.articles),
			pct(tl.kept, tl.articles), pct(tl.junkRemoved, tl.junk))
		sumA, sumK, sumKD, sumKE, sumJ, sumJR = sumA+tl.articles, sumK+tl.kept, sumKD+tl.keptDefault, sumKE+tl.keptEnglish, sumJ+tl.junk, sumJR+tl.junkRemoved
		if float64(tl.kept) < 0.95*float64(tl.articles) || float64(tl.junkRemoved) < 0.95*float64(tl.junk) {
			ok = false
		}
	}
	fmt.Fprintf(&b, "%-9s %8d %13.1f%% %13.1f%% %13.1f%% %13.1f%%\n", "all", sumA, pct(sumKE, sumA), pct(sumKD, sumA), pct(sumK, sumA), pct(sumJR, sumJ))
	fmt.Fprintf(&b, "junk (%d documents) removed by, with calibrated thresholds (first rule that fires):\n", len(junk))
	for _, k := range sortedMapKeys(junkBy) {
		fmt.Fprintf(&b, "  %-55s %d\n", k, junkBy[k])
	}
	t.Logf("masakhanews: English-tuned (published defaults, Gopher's English stop words), default (builtin stop words) and calibrated thresholds:\n%s", b.String())
	if os.Getenv("SIEVE_CALIBRATE_VERBOSE") != "" {
		t.Logf("thresholds:\n%s\nreport:\n%s", yml, report.String())
		for _, l := range sortedMapKeys(lost) {
			t.Logf("%s lost: %s", l, strings.Join(lost[l], "\n  "))
		}
		for _, l := range sortedMapKeys(missed) {
			t.Logf("%s missed junk: %s", l, strings.Join(missed[l], " "))
		}
	}
	if !ok {
		t.Errorf("a language keeps < 95%% of its articles or removes < 95%% of its junk (SIEVE_CALIBRATE_VERBOSE=1 for details)")
	}

	// The same when calibrating on a sample that holds junk: the articles and a quarter of
	// the junk set (10 of each kind per language, 21% of the sample).
	var someJunk []calDoc
	for _, d := range junk {
		if strings.HasSuffix(d.ID, "-00") || d.ID[len(d.ID)-2] == '0' {
			someJunk = append(someJunk, d)
		}
	}
	mixed := append(append([]calDoc(nil), articles...), someJunk...)
	mixRun := calibrateDocs(t, cfg, mixed, nil)
	writeThresholds(t, mixRun, filepath.Join(dir, "mixed.yaml"))
	mf := withFile("mixed.yaml")
	mixReasons, _ := runPipeline(t, calConfig(t, dir, fmt.Sprintf(allQuality, mf, mf, mf, mf)), all, 2)
	b.Reset()
	fmt.Fprintf(&b, "%-9s %14s %14s %14s\n", "lang", "kept calib.", "sample junk", "all junk")
	for _, l := range sortedMapKeys(tallies) {
		var kept, arts, jr, j, sjr, sj int
		for _, d := range all {
			if d.Lang != l {
				continue
			}
			_, r := mixReasons[d.ID]
			switch {
			case !d.Junk:
				arts++
				if !r {
					kept++
				}
			default:
				j++
				if r {
					jr++
				}
				if d.ID[len(d.ID)-2] == '0' {
					sj++
					if r {
						sjr++
					}
				}
			}
		}
		fmt.Fprintf(&b, "%-9s %13.1f%% %13.1f%% %13.1f%%\n", l, pct(kept, arts), pct(sjr, sj), pct(jr, j))
		if float64(kept) < 0.95*float64(arts) || float64(jr) < 0.95*float64(j) {
			t.Errorf("%s, calibrated on a sample with junk: keeps %d of %d articles, removes %d of %d junk", l, kept, arts, jr, j)
		}
	}
	t.Logf("calibrated on articles + %d junk documents (junk in the sample):\n%s", len(someJunk), b.String())
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
