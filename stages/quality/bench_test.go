package quality

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sieve-data/sieve/pipeline"
)

// benchParagraphs are distinct paragraphs of ordinary prose; benchDoc joins them into a
// document of about 3 KB that passes every rule, so each rule runs in full.
var benchParagraphs = []string{
	englishDoc,
	"Farmers in the northern districts reported a good harvest this season, although prices at the market " +
		"fell sharply in the last two weeks. Traders blamed the drop on the large number of trucks arriving from " +
		"neighbouring regions. A spokesman for the farmers' union said that storage remains the main problem: " +
		"without dry warehouses, many growers are forced to sell their maize as soon as it is harvested.",
	"The national football team will play two friendly matches next month before the regional championship. " +
		"The coach named twenty-six players, including four who have never played for the country. He told " +
		"reporters that the young players had impressed him during the training camp and deserved a chance. " +
		"Tickets for the first match go on sale on Monday at the stadium and at selected post offices.",
	"Health workers began a vaccination campaign in the eastern province on Saturday. Teams will visit " +
		"schools, markets and churches over the next three weeks, and parents are asked to bring the health " +
		"cards of their children. Officials hope to reach more than two hundred thousand children, many of " +
		"whom missed routine vaccinations when clinics were closed during the floods last year.",
	"A new bridge over the river opened to traffic yesterday, cutting the journey between the two towns " +
		"from almost an hour to fifteen minutes. Shop owners on both banks welcomed the change, saying that " +
		"customers had stayed away because of the long detour. The ministry of works said the bridge was " +
		"built to carry heavy lorries and should last for at least fifty years with regular maintenance.",
	"Students at the technical college presented their final projects to a panel of engineers and local " +
		"business owners. Among the designs were a solar water pump, a low-cost incubator for eggs and a phone " +
		"application that helps small shops keep track of their stock. Several companies offered internships " +
		"to the best teams, and the college plans to hold the exhibition again next year.",
	"Weather forecasters warned that heavy rain is expected along the coast from Thursday evening until " +
		"Sunday. Fishermen were advised to stay on land, and residents of low-lying areas were told to move " +
		"valuables to higher ground. The emergency services said boats and rescue teams are ready in case " +
		"rivers burst their banks, as they did two years ago when hundreds of homes were damaged.",
}

var benchDoc = strings.Join(benchParagraphs, "\n\n")

// benchCopies returns copies of text at distinct addresses, so that a benchmark iteration
// never finds the previous iteration's analysis in the pool (as a new document would not).
func benchCopies(text string) []string {
	out := make([]string, 64)
	for i := range out {
		out[i] = strings.Clone(text)
	}
	return out
}

func benchStages(b *testing.B) []*Stage {
	var out []*Stage
	for _, kind := range Kinds() {
		s, err := New(kind, DefaultConfig(kind), "")
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// BenchmarkAllRules runs the four quality stages, every rule switched on, over a 3 KB
// document that passes them all (a fresh copy each iteration: the stages share one
// analysis per document, not across documents).
func BenchmarkAllRules(b *testing.B) {
	stages := benchStages(b)
	d := &pipeline.Document{Text: benchDoc, Lang: "eng_Latn"}
	for _, s := range stages {
		if v, _ := s.Process(context.Background(), d); !v.Kept() {
			b.Fatalf("%s rejects the benchmark document: %s %s", s.Kind(), v.Reason, v.Detail)
		}
	}
	texts := benchCopies(benchDoc)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchDoc)))
	ctx := context.Background()
	i := 0
	for b.Loop() {
		text := texts[i%len(texts)]
		i++
		for _, s := range stages {
			d.Text = text
			s.Process(ctx, d)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkStage runs each quality stage alone over the same document.
func BenchmarkStage(b *testing.B) {
	for _, s := range benchStages(b) {
		b.Run(s.Kind(), func(b *testing.B) {
			d := &pipeline.Document{Text: benchDoc, Lang: "eng_Latn"}
			texts := benchCopies(benchDoc)
			b.ReportAllocs()
			b.SetBytes(int64(len(benchDoc)))
			ctx := context.Background()
			i := 0
			for b.Loop() {
				d.Text = texts[i%len(texts)]
				i++
				s.Process(ctx, d)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

// BenchmarkAllRulesLang runs the four stages over 3 KB documents in Yoruba (tone marks:
// many multi-byte and combining characters) and Thai (no spaces: a token per grapheme),
// made of the golden corpus' documents, with that corpus' calibrated thresholds.
func BenchmarkAllRulesLang(b *testing.B) {
	dir := filepath.Join("..", "..", "testdata", "golden", "quality")
	data, err := os.ReadFile(filepath.Join(dir, "input.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	texts := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r struct{ ID, Lang, Text string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			b.Fatal(err)
		}
		if !strings.Contains(r.ID, "junk") {
			texts[r.Lang] = append(texts[r.Lang], r.Text)
		}
	}
	for _, l := range []string{"yor_Latn", "tha_Thai"} {
		b.Run(l, func(b *testing.B) {
			var doc string
			for i := 0; len(doc) < 3000; i++ {
				if doc != "" {
					doc += "\n\n"
				}
				doc += texts[l][i%len(texts[l])]
			}
			var stages []*Stage
			for _, kind := range Kinds() {
				cfg := DefaultConfig(kind)
				reflect.ValueOf(cfg).Elem().FieldByName("ThresholdsFile").SetString("want_thresholds.yaml")
				s, err := New(kind, cfg, dir)
				if err != nil {
					b.Fatal(err)
				}
				stages = append(stages, s)
			}
			copies := benchCopies(doc)
			d := &pipeline.Document{Lang: l}
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(len(doc)))
			i := 0
			for b.Loop() {
				text := copies[i%len(copies)]
				i++
				for _, s := range stages {
					d.Text = text
					s.Process(ctx, d)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}
