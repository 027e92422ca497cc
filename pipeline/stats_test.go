package pipeline

import (
	"math"
	"reflect"
	"testing"
	"unicode/utf8"
)

func TestLengthBucket(t *testing.T) {
	tests := []struct {
		give, want int
	}{
		{0, 0}, {15, 0}, {16, 1}, {31, 1}, {32, 2}, {1023, 6}, {1024, 7},
		{1<<20 - 1, 16}, {1 << 20, 17}, {1 << 30, 17},
	}
	for _, tt := range tests {
		got := LengthBucket(tt.give)
		if got != tt.want {
			t.Errorf("LengthBucket(%d) = %d, want %d", tt.give, got, tt.want)
		}
		lo, hi := LengthBucketRange(got)
		if tt.give < lo || (hi >= 0 && tt.give >= hi) {
			t.Errorf("LengthBucketRange(%d) = [%d, %d) does not hold %d", got, lo, hi, tt.give)
		}
	}
}

func TestScoreBucket(t *testing.T) {
	tests := []struct {
		give float64
		want int
	}{
		{0, 0}, {math.NaN(), 0}, {-1, 0}, {0.0999, 0}, {0.1, 1}, {0.55, 5}, {0.99, 9}, {1, 9}, {7, 9},
	}
	for _, tt := range tests {
		if got := ScoreBucket(tt.give); got != tt.want {
			t.Errorf("ScoreBucket(%v) = %d, want %d", tt.give, got, tt.want)
		}
	}
}

// TestCountByLanguage checks that kept and rejected documents are counted under their
// language, and rejections without a language under "und".
func TestCountByLanguage(t *testing.T) {
	st := newStats([]StageInstance{{Name: "length", Kind: "length"}, {Name: "langid", Kind: "langid"}})
	docs := []Document{
		{Text: "short", Rejected: Rejection{Stage: "length", Reason: "length.too_short"}},
		{Text: "Ẹ kú àárọ̀ o, ṣé dáadáa ni?", Lang: "yor_Latn", LangScore: 0.93, Words: 6},
		{Text: "xx", Lang: "yor_Latn", LangScore: 0.2, Rejected: Rejection{Stage: "langid", Reason: "langid.low_confidence"}},
	}
	for i := range docs {
		d := &docs[i]
		if d.IsRejected() {
			si := map[string]int{"length": 1, "langid": 2}[d.Rejected.Stage]
			st.countRejected(si, d)
		} else {
			st.countKept(d)
		}
	}
	yor := st.Langs["yor_Latn"]
	if yor.Docs != 1 || yor.Words != 6 || yor.Chars != int64(utf8.RuneCountInString(docs[1].Text)) || yor.Bytes != int64(len(docs[1].Text)) {
		t.Errorf("yor_Latn kept counts: %+v", yor)
	}
	if yor.ScoreHist[9] != 1 || yor.LengthHist[1] != 1 {
		t.Errorf("yor_Latn histograms: length %v score %v", yor.LengthHist, yor.ScoreHist)
	}
	if got := yor.Rejected["langid"]["langid.low_confidence"]; got != 1 || yor.RejectedDocs() != 1 {
		t.Errorf("yor_Latn rejected: %v", yor.Rejected)
	}
	und := st.Langs["und"]
	if und.Docs != 0 || und.Rejected["length"]["length.too_short"] != 1 || und.LengthHist != nil {
		t.Errorf("und: %+v", und)
	}
}

func TestMergeLanguages(t *testing.T) {
	a := &Stats{Langs: map[string]LangStats{
		"yor_Latn": {Docs: 1, LengthHist: []int64{1, 0}, Rejected: map[string]map[string]int64{"length": {"length.too_short": 2}}},
	}}
	b := &Stats{Langs: map[string]LangStats{
		"yor_Latn": {Docs: 2, LengthHist: []int64{0, 1, 1}, ScoreHist: []int64{0, 2}, Rejected: map[string]map[string]int64{"length": {"length.too_short": 1, "length.too_long": 1}}},
		"hau_Latn": {Rejected: map[string]map[string]int64{"read": {"read.empty_text": 1}}},
	}}
	var m Stats
	m.Merge(a)
	m.Merge(b)
	want := map[string]LangStats{
		"yor_Latn": {Docs: 3, LengthHist: []int64{1, 1, 1}, ScoreHist: []int64{0, 2}, Rejected: map[string]map[string]int64{"length": {"length.too_short": 3, "length.too_long": 1}}},
		"hau_Latn": {Rejected: map[string]map[string]int64{"read": {"read.empty_text": 1}}},
	}
	if !reflect.DeepEqual(m.Langs, want) {
		t.Errorf("merged:\n got %+v\nwant %+v", m.Langs, want)
	}
	if a.Langs["yor_Latn"].LengthHist[1] != 0 || a.Langs["yor_Latn"].Rejected["length"]["length.too_short"] != 2 {
		t.Errorf("Merge changed its argument: %+v", a.Langs)
	}
}

func TestMergeExtras(t *testing.T) {
	var reg Registry
	cfg := func() any { return &struct{}{} }
	build := func(any, *Env) (Stage, error) { return nil, nil }
	if err := reg.Register("counted", Spec{Config: cfg, New: build, ReportStatic: []string{"backend", "index"}}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register("dedup", Spec{Config: cfg, New: build, ReportPerTask: true}); err != nil {
		t.Fatal(err)
	}
	task := func(n float64, backend string) *Stats {
		return &Stats{Stages: []StageStats{
			{Name: "counted", Kind: "counted", Rejected: map[string]int64{}, Extra: map[string]any{
				"backend": backend, "index": 7.0, "docs": n, "secs": n + 0.5,
				"by": map[string]any{"a": n, "b": 1.0}, "note": "x",
			}},
			{Name: "dedup", Kind: "dedup", Rejected: map[string]int64{}, Extra: map[string]any{"distinct": n}},
			{Name: "unknown", Kind: "gone", Rejected: map[string]int64{}, Extra: map[string]any{"docs": n}},
		}}
	}
	var st Stats
	for _, o := range []*Stats{task(2, "lingua"), task(3, "lingua"), task(0, "lingua")} {
		st.Merge(o)
		st.MergeExtras(o, &reg)
	}
	want := map[string]any{
		"backend": "lingua", "index": 7.0, "docs": int64(5), "secs": 6.5,
		"by": map[string]any{"a": int64(5), "b": int64(3)}, "note": "x",
	}
	if got := st.Stages[0].Extra; !reflect.DeepEqual(got, want) {
		t.Errorf("merged figures %v, want %v", got, want)
	}
	if st.Stages[1].Extra != nil || st.Stages[2].Extra != nil {
		t.Errorf("per-task or unregistered figures merged: %v, %v", st.Stages[1].Extra, st.Stages[2].Extra)
	}
	st.MergeExtras(task(1, "lingua"), nil) // no registry: nothing changes
	if st.Stages[0].Extra["docs"] != int64(5) {
		t.Errorf("merged without a registry: %v", st.Stages[0].Extra)
	}
}

// TestMergeExtrasNull: a figure that reads back from a task's stats as JSON null (a Report
// value that was a nil slice or map) is kept like other figures that are not numbers, at
// the top level and inside maps.
func TestMergeExtrasNull(t *testing.T) {
	var reg Registry
	if err := reg.Register("counted", Spec{Config: func() any { return &struct{}{} }, New: func(any, *Env) (Stage, error) { return nil, nil }}); err != nil {
		t.Fatal(err)
	}
	task := func(n float64) *Stats {
		return &Stats{Stages: []StageStats{{Name: "counted", Kind: "counted", Rejected: map[string]int64{}, Extra: map[string]any{
			"docs": n, "skipped": nil, "by": map[string]any{"a": nil, "b": n},
		}}}}
	}
	var st Stats
	for _, o := range []*Stats{task(2), task(3)} {
		st.Merge(o)
		st.MergeExtras(o, &reg)
	}
	want := map[string]any{"docs": int64(5), "skipped": nil, "by": map[string]any{"a": nil, "b": int64(5)}}
	if got := st.Stages[0].Extra; !reflect.DeepEqual(got, want) {
		t.Errorf("merged figures %v, want %v", got, want)
	}
}
