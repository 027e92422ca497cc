package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/sieve-data/sieve/pipeline"
)

// TestReadAuditEntries checks what ReadAudit keeps of each sample besides its verdict: the
// text hash of the marker, the text shown, every ticked box, and the body as written.
func TestReadAuditEntries(t *testing.T) {
	a := &AuditLang{
		Label: "yor_Latn", Name: "Yoruba", KeptTotal: 3, RejectedTotal: 1,
		Kept: []Sample{
			{Kind: Kept, ID: "k1", Origin: "in.jsonl", Text: "Ẹ kú àárọ̀\n\n- [x] ok: inside the text", Chars: 30, TextSHA256: textSHA256("Ẹ kú àárọ̀\n\n- [x] ok: inside the text")},
			{Kind: Kept, ID: "k2", Origin: "in.jsonl", Text: "", Chars: 0, TextSHA256: textSHA256("")},
		},
		Rejected: []Sample{{Kind: Rejected, ID: "r1", Origin: "in.jsonl:4", Stage: "length", Reason: "length.too_short", Detail: "3 < 5", Text: "a ``` b", Chars: 7, TextSHA256: textSHA256("a ``` b")}},
		Verdicts: map[string]string{},
	}
	var b bytes.Buffer
	if err := WriteAudit(&b, a, 1, "test"); err != nil {
		t.Fatal(err)
	}
	text := tick(t, b.String(), "k1", VerdictOK)
	text = tick(t, text, "r1", VerdictOK)
	text = tick(t, text, "r1", VerdictWronglyRejected)
	i := strings.Index(text, `"id":"k2"`)
	text = text[:i] + strings.Replace(text[i:], "- [ ] poor_quality:", "- [x] maybe:", 1) // an unknown code
	af, err := ReadAudit(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		Key, TextSHA256, Text, Verdict string
		Ticked                         []string
	}
	want := []got{
		{a.Kept[0].Key(), a.Kept[0].TextSHA256, a.Kept[0].Text, VerdictOK, []string{VerdictOK}},
		{a.Kept[1].Key(), a.Kept[1].TextSHA256, "", "", []string{"maybe"}},
		{a.Rejected[0].Key(), a.Rejected[0].TextSHA256, a.Rejected[0].Text, "", []string{VerdictOK, VerdictWronglyRejected}},
	}
	if len(af.Entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(af.Entries), len(want))
	}
	for i, e := range af.Entries {
		g := got{e.Key(), e.TextSHA256, e.Text, e.Verdict, e.Ticked}
		if !reflect.DeepEqual(g, want[i]) {
			t.Errorf("entry %d: %+v\nwant %+v", i, g, want[i])
		}
		// The body is the text between the marker and the next heading, as written.
		if !strings.HasPrefix(e.Body, "From in.jsonl") || strings.Contains(e.Body, "sieve:sample") || strings.Contains(e.Body, "\n#") || strings.HasSuffix(e.Body, "\n") {
			t.Errorf("entry %d: body %q", i, e.Body)
		}
		if i := strings.Index(text, e.Body); i < 0 {
			t.Errorf("entry %d: body is not a part of the file", i)
		}
	}
	if len(af.Problems) != 2 {
		t.Errorf("problems %q", af.Problems)
	}
}

// TestCarryVerdicts checks which verdicts of earlier audit files are carried to the samples
// drawn now and which are kept aside, and why.
func TestCarryVerdicts(t *testing.T) {
	a := &AuditLang{
		Label: "yor_Latn", Name: "Yoruba",
		Kept: []Sample{
			{Kind: Kept, ID: "a", Origin: "in.jsonl", Text: "alpha", TextSHA256: textSHA256("alpha")},
			{Kind: Kept, ID: "b", Origin: "in.jsonl", Text: "beta\nline two", TextSHA256: textSHA256("beta\nline two")},
		},
		Rejected: []Sample{{Kind: Rejected, ID: "r", Origin: "in.jsonl:3", Text: "gamma", TextSHA256: textSHA256("gamma")}},
	}
	entry := func(kind SampleKind, id, text string, ticked ...string) AuditEntry {
		e := AuditEntry{Kind: kind, ID: id, Origin: "in.jsonl", TextSHA256: textSHA256(text), Text: text, Ticked: ticked}
		for _, c := range ticked {
			e.Body += "- [x] " + c + ": as the reviewer ticked it\n"
		}
		e.Body += "\n```text\n" + text + "\n```"
		if kind == Rejected {
			e.Origin = "in.jsonl:3"
		}
		valid := 0
		for _, c := range ticked {
			if validVerdict(kind, c) {
				valid++
				e.Verdict = c
			}
		}
		if valid != 1 {
			e.Verdict = ""
		}
		return e
	}
	legacy := func(e AuditEntry) AuditEntry { e.TextSHA256 = ""; return e }
	type aside struct {
		id, why  string // why: a part of the reason
		fromPrev bool
	}
	tests := []struct {
		name      string
		a         *AuditLang
		cur, prev []AuditEntry
		want      map[string]string // id -> verdict carried
		aside     []aside
		back      int
	}{
		{name: "same key, same text: carried",
			a: a, cur: []AuditEntry{entry(Kept, "a", "alpha", VerdictOK), entry(Rejected, "r", "gamma", VerdictWronglyRejected)},
			want: map[string]string{"a": VerdictOK, "r": VerdictWronglyRejected}},
		{name: "same key, changed text: kept aside",
			a: a, cur: []AuditEntry{entry(Kept, "a", "alpha, before an edit", VerdictPoorQuality)},
			aside: []aside{{"a", "text changed", false}}},
		{name: "sample no longer drawn: kept aside",
			a: a, cur: []AuditEntry{entry(Kept, "z", "zeta", VerdictOK), entry(Kept, "b", "beta\nline two", VerdictWrongLanguage)},
			want: map[string]string{"b": VerdictWrongLanguage}, aside: []aside{{"z", "no longer drawn", false}}},
		{name: "language with no samples now: all kept aside",
			a: nil, cur: []AuditEntry{entry(Kept, "a", "alpha", VerdictOK)},
			aside: []aside{{"a", "no longer drawn", false}}},
		{name: "several boxes ticked: no verdict, kept aside",
			a: a, cur: []AuditEntry{entry(Kept, "a", "alpha", VerdictOK, VerdictPoorQuality)},
			aside: []aside{{"a", "not one verdict is ticked (ok, poor_quality)", false}}},
		{name: "unknown code ticked: no verdict, kept aside",
			a: a, cur: []AuditEntry{entry(Rejected, "r", "gamma", "maybe")},
			aside: []aside{{"r", "not one verdict is ticked (maybe)", false}}},
		{name: "a valid box and an unknown one: the verdict counts, as ReadAudit reads it",
			a: a, cur: []AuditEntry{entry(Kept, "a", "alpha", "maybe", VerdictOK)},
			want: map[string]string{"a": VerdictOK}},
		{name: "nothing ticked: nothing to keep",
			a: a, cur: []AuditEntry{entry(Kept, "a", "alpha"), entry(Kept, "z", "zeta")}},
		{name: "file without text hashes: matched on the text shown",
			a: a, cur: []AuditEntry{legacy(entry(Kept, "b", "beta  \nline two\n", VerdictOK)), legacy(entry(Kept, "a", "alpha!", VerdictOK))},
			want: map[string]string{"b": VerdictOK}, aside: []aside{{"a", "text changed", false}}},
		{name: "previous verdict drawn again: carried back",
			a: a, prev: []AuditEntry{entry(Kept, "a", "alpha", VerdictWrongLanguage), entry(Kept, "z", "zeta", VerdictOK)},
			want: map[string]string{"a": VerdictWrongLanguage}, aside: []aside{{"z", "no longer drawn", true}}, back: 1},
		{name: "audit file wins over the previous file",
			a: a, cur: []AuditEntry{entry(Kept, "a", "alpha", VerdictOK)}, prev: []AuditEntry{entry(Kept, "a", "alpha", VerdictPoorQuality)},
			want: map[string]string{"a": VerdictOK}, aside: []aside{{"a", "another verdict for the same document and text is counted in `audit/yor_Latn.md`", true}}},
		{name: "exact repeats kept once, the earlier first",
			a: a, cur: []AuditEntry{entry(Kept, "z", "zeta", VerdictOK), entry(Kept, "y", "eta", VerdictOK)}, prev: []AuditEntry{entry(Kept, "z", "zeta", VerdictOK)},
			aside: []aside{{"z", "no longer drawn", true}, {"y", "no longer drawn", false}}},
		{name: "repeat of a carried verdict is not kept",
			a: a, cur: []AuditEntry{entry(Kept, "a", "alpha", VerdictOK)}, prev: []AuditEntry{entry(Kept, "a", "alpha", VerdictOK)},
			want: map[string]string{"a": VerdictOK}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verdicts, _, gotAside, back := carryVerdicts(tt.a, tt.cur, tt.prev)
			want := map[string]string{}
			for id, v := range tt.want {
				for _, l := range [][]Sample{a.Kept, a.Rejected} {
					for i := range l {
						if l[i].ID == id {
							want[l[i].Key()] = v
						}
					}
				}
			}
			if !equalMaps(verdicts, want) {
				t.Errorf("verdicts %q, want %q", verdicts, want)
			}
			if back != tt.back {
				t.Errorf("back %d, want %d", back, tt.back)
			}
			if len(gotAside) != len(tt.aside) {
				t.Fatalf("%d kept aside, want %d: %+v", len(gotAside), len(tt.aside), gotAside)
			}
			for i, w := range tt.aside {
				g := gotAside[i]
				if g.ID != w.id || !strings.Contains(g.why, w.why) || g.fromPrev != w.fromPrev {
					t.Errorf("aside %d: %s %q fromPrev=%v; want %s %q fromPrev=%v", i, g.ID, g.why, g.fromPrev, w.id, w.why, w.fromPrev)
				}
			}
			// The previous file reads back as the same entries, with the same boxes.
			if len(gotAside) > 0 {
				af, err := ReadAudit(bytes.NewReader(writeAside("yor_Latn", gotAside)))
				if err != nil {
					t.Fatal(err)
				}
				if len(af.Entries) != len(gotAside) {
					t.Fatalf("previous file reads back %d entries, want %d", len(af.Entries), len(gotAside))
				}
				for i, e := range af.Entries {
					if e.identity() != gotAside[i].identity() {
						t.Errorf("entry %d reads back as %q, want %q", i, e.identity(), gotAside[i].identity())
					}
				}
			}
		})
	}
}

// TestVerdictsFollowTheSamples ticks every kept sample of a language, rebuilds the report
// with another seed, with no audit samples, and with the first seed again, and checks
// after each build that every verdict is in the audit file (ticked and counted) or in the
// previous file (not counted), and that the first seed gets them all back.
func TestVerdictsFollowTheSamples(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	runPipeline(t, testPipeline, dir, 2)
	if err := Build(dir); err != nil {
		t.Fatal(err)
	}
	yor := filepath.Join(dir, AuditDir, "yor_Latn.md")
	prev := filepath.Join(dir, PreviousDir, "yor_Latn.md")
	text := string(mustRead(t, yor))
	ticked := map[string]string{}
	codes := []string{VerdictOK, VerdictWrongLanguage, VerdictPoorQuality}
	for i, m := range regexp.MustCompile(`"kind":"kept","id":"([^"]+)"`).FindAllStringSubmatch(text, -1) {
		ticked[m[1]] = codes[i%len(codes)]
		text = tick(t, text, m[1], ticked[m[1]])
	}
	if len(ticked) != 4 {
		t.Fatalf("%d kept samples in yor_Latn.md", len(ticked))
	}
	if err := os.WriteFile(yor, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cov := func(seed uint64, samples int) *pipeline.Coverage {
		run, err := LoadRun(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := run.Coverage
		c.Seed, c.AuditSamples = seed, samples
		return &c
	}
	// where returns the verdicts ticked in an audit or previous file, by sample id.
	where := func(path string) map[string]string {
		out := map[string]string{}
		f, err := os.Open(path)
		if os.IsNotExist(err) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		af, err := ReadAudit(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range af.Entries {
			if e.Verdict != "" {
				out[e.ID] = e.Verdict
			}
		}
		return out
	}
	for _, step := range []struct {
		name         string
		cov          *pipeline.Coverage
		wantAsideMin int
	}{
		{"another seed", cov(11, 4), 1},
		{"no audit samples", cov(11, 0), 4},
		{"the first seed again", nil, 0},
	} {
		res, err := BuildWith(context.Background(), dir, Options{Coverage: step.cov})
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		inAudit, inPrev := where(yor), where(prev)
		t.Logf("%s: %d verdicts carried, %d set aside", step.name, res.Carried, res.SetAside)
		for id, v := range ticked {
			a, p := inAudit[id], inPrev[id]
			if a != v && p != v || a != "" && p != "" {
				t.Errorf("%s: %s ticked %s; audit file has %q, previous file %q", step.name, id, v, a, p)
			}
		}
		if len(inAudit)+len(inPrev) != len(ticked) || res.Carried != len(inAudit) || res.SetAside != len(inPrev) {
			t.Errorf("%s: carried %d, set aside %d; files hold %d and %d", step.name, res.Carried, res.SetAside, len(inAudit), len(inPrev))
		}
		if res.SetAside < step.wantAsideMin || step.wantAsideMin == 0 && res.SetAside != 0 {
			t.Errorf("%s: %d verdicts set aside, want at least %d (choose a seed that draws other samples)", step.name, res.SetAside, step.wantAsideMin)
		}
		// The card counts the carried verdicts only, and points to the others.
		reviewed := 0
		for _, a := range res.Audit {
			if a.Label == "yor_Latn" {
				reviewed = a.KeptReviewed
			}
		}
		card := string(mustRead(t, filepath.Join(dir, CardFile)))
		if reviewed != len(inAudit) || strings.Contains(card, "kept in `audit/previous/`") != (res.SetAside > 0) {
			t.Errorf("%s: card counts %d reviewed, audit file holds %d verdicts; set aside %d:\n%s", step.name, reviewed, len(inAudit), res.SetAside, card[strings.Index(card, "## Audit"):strings.Index(card, "## Known")])
		}
		if _, err := os.Stat(yor); os.IsNotExist(err) != (step.cov != nil && step.cov.AuditSamples == 0) {
			t.Errorf("%s: audit file present: %v", step.name, err)
		} else if err == nil && strings.Contains(string(mustRead(t, yor)), "(previous/yor_Latn.md)") != (len(inPrev) > 0) {
			t.Errorf("%s: the audit file does not point to the previous file", step.name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, PreviousDir)); !os.IsNotExist(err) {
		t.Errorf("previous directory left when every verdict is back: %v", err)
	}
}

// TestCarryStopAnywhere checks that a report stopped between any two of its writes leaves
// every ticked verdict in the audit file or the previous file, and that the next report
// carries and sets aside the same verdicts as an uninterrupted one.
func TestCarryStopAnywhere(t *testing.T) {
	sample := func(id, text string) Sample {
		return Sample{Kind: Kept, ID: id, Origin: "in.jsonl", Text: text, Chars: len(text), TextSHA256: textSHA256(text)}
	}
	a1, a2, z := sample("a1", "one"), sample("a2", "two"), sample("z", "zed")
	dir := t.TempDir()
	auditPath := filepath.Join(dir, AuditDir, "yor_Latn.md")
	prevPath := filepath.Join(dir, PreviousDir, "yor_Latn.md")
	if err := os.MkdirAll(filepath.Dir(prevPath), 0o755); err != nil {
		t.Fatal(err)
	}
	// The earlier audit drew a1 and z, the one before it a2.
	var b bytes.Buffer
	old := &AuditLang{Label: "yor_Latn", Name: "Yoruba", Kept: []Sample{a1, z}, Verdicts: map[string]string{a1.Key(): VerdictOK, z.Key(): VerdictWrongLanguage}}
	if err := WriteAudit(&b, old, 1, "t"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(auditPath, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	older := &AuditLang{Label: "yor_Latn", Name: "Yoruba", Kept: []Sample{a2}, Verdicts: map[string]string{a2.Key(): VerdictPoorQuality}}
	if err := WriteAudit(&b, older, 1, "t"); err != nil {
		t.Fatal(err)
	}
	af, err := ReadAudit(&b)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prevPath, writeAside("yor_Latn", []asideEntry{{AuditEntry: af.Entries[0], why: "its document is no longer drawn"}}), 0o644); err != nil {
		t.Fatal(err)
	}
	// Now a1 and a2 are drawn.
	newModel := func() *model {
		return &model{Run: &Run{Dir: dir}, Name: "t", Summaries: map[string]AuditSummary{},
			Audits: []*AuditLang{{Label: "yor_Latn", Name: "Yoruba", Kept: []Sample{a1, a2}, Verdicts: map[string]string{}}}}
	}
	wantVerdicts := map[string]string{a1.Key(): VerdictOK, a2.Key(): VerdictPoorQuality}
	// check runs a report's reading on the files as they are: the same outcome every time.
	check := func(state string) *model {
		m := newModel()
		res := &Result{}
		if err := m.carry(res); err != nil {
			t.Fatal(err)
		}
		if !equalMaps(m.Audits[0].Verdicts, wantVerdicts) || res.Carried != 2 || res.SetAside != 1 || len(m.carries) != 1 || m.carries[0].final[0].ID != "z" {
			t.Errorf("%s: verdicts %q, carried %d, set aside %d", state, m.Audits[0].Verdicts, res.Carried, res.SetAside)
		}
		return m
	}
	m := check("before the report")
	p := m.carries[0]
	if p.interim == nil {
		t.Fatal("no interim previous file although verdicts move both ways")
	}
	if err := os.WriteFile(prevPath, p.interim, 0o644); err != nil {
		t.Fatal(err)
	}
	check("stopped after the interim previous file")
	b.Reset()
	if err := WriteAudit(&b, m.Audits[0], 1, "t"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(auditPath, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	check("stopped after the audit file")
	if err := check("whole report").writeAudits(&Result{}); err != nil {
		t.Fatal(err)
	}
	check("after the report")
	aside := string(mustRead(t, prevPath))
	if strings.Count(aside, "sieve:sample") != 1 || !strings.Contains(aside, `"id":"z"`) {
		t.Errorf("final previous file:\n%s", aside)
	}
}

// FuzzAsideRoundTrip checks that whatever an audit file holds, the previous file written
// from its ticked samples reads back as the same samples with the same boxes, so a verdict
// kept aside survives any number of rebuilds.
func FuzzAsideRoundTrip(f *testing.F) {
	var b bytes.Buffer
	a := &AuditLang{Label: "yor_Latn", Name: "Yoruba",
		Kept:     []Sample{{Kind: Kept, ID: "k1", Origin: "f", Text: "a ``` b", TextSHA256: textSHA256("a ``` b")}},
		Rejected: []Sample{{Kind: Rejected, ID: "r1", Origin: "f:1", Text: "~~~\n- [x] ok"}},
		Verdicts: map[string]string{}}
	a.Verdicts[a.Kept[0].Key()] = VerdictOK
	_ = WriteAudit(&b, a, 1, "x")
	f.Add(b.String())
	f.Add("<!-- sieve:sample {\"kind\":\"kept\",\"id\":\"a\",\"origin\":\"f\"} -->\n- [x] ok\n````text\n- [x] poor_quality\n")
	f.Add("<!-- sieve:sample {\"kind\":\"kept\",\"id\":\"a\",\"origin\":\"f\"} -->\n- [x] ok\n# h\n- [x] poor_quality\n<!-- sieve:sample {\"kind\":\"rejected\",\"id\":\"b\",\"origin\":\"f\"} -->\n* [X] wrongly_rejected\n~~~\n")
	f.Fuzz(func(t *testing.T, s string) {
		af, err := ReadAudit(strings.NewReader(s))
		if err != nil {
			return
		}
		var aside []asideEntry
		for _, e := range af.Entries {
			if len(e.Ticked) > 0 {
				aside = append(aside, asideEntry{AuditEntry: e, why: "fuzz"})
			}
		}
		back, err := ReadAudit(bytes.NewReader(writeAside("yor_Latn", aside)))
		if err != nil {
			t.Fatal(err)
		}
		if len(back.Entries) != len(aside) {
			t.Fatalf("%d entries set aside, %d read back", len(aside), len(back.Entries))
		}
		for i, e := range back.Entries {
			if e.identity() != aside[i].identity() || e.Verdict != aside[i].Verdict {
				t.Fatalf("entry %d: %q read back as %q", i, aside[i].identity(), e.identity())
			}
		}
	})
}

// Notes a reviewer writes below a sample's text are read back, carried with the sample
// when it is drawn again with the same text (ticked or not), written again under it, and
// kept aside with the sample otherwise.
func TestAuditNotes(t *testing.T) {
	long := strings.Repeat("ọ̀rọ̀ ", maxSampleChars/5+10)
	a := &AuditLang{
		Label: "yor_Latn", Name: "Yoruba",
		Kept: []Sample{
			{Kind: Kept, ID: "a", Origin: "in.jsonl", Text: "alpha", TextSHA256: textSHA256("alpha"), Chars: 5},
			{Kind: Kept, ID: "b", Origin: "in.jsonl", Text: long[:maxSampleChars], TextSHA256: textSHA256(long), Chars: len([]rune(long))},
		},
		Rejected: []Sample{{Kind: Rejected, ID: "r", Origin: "in.jsonl:3", Stage: "length", Reason: "length.too_short"}},
	}
	var buf bytes.Buffer
	if err := WriteAudit(&buf, a, 1, "run"); err != nil {
		t.Fatal(err)
	}
	// The reviewer ticks a, writes notes under a, b (not ticked) and r (no text).
	edited := buf.String()
	edited = strings.Replace(edited, "- [ ] ok:", "- [x] ok:", 1)
	edited = strings.Replace(edited, "```text\nalpha\n```\n", "```text\nalpha\n```\n\nSpelling fixed by hand?\n- ask Bọ́lá\n", 1)
	edited = strings.Replace(edited, "characters)\n", "characters)\n\nLooks machine-translated.\n", 1)
	edited = strings.Replace(edited, noTextLine+"\n", noTextLine+"\n\nEmpty after the cut.\n", 1)
	af, err := ReadAudit(strings.NewReader(edited))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range af.Entries {
		got[e.ID] = e.Notes
	}
	want := map[string]string{"a": "Spelling fixed by hand?\n- ask Bọ́lá", "b": "Looks machine-translated.", "r": "Empty after the cut."}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("notes read %q, want %q", got, want)
	}
	verdicts, notes, aside, _ := carryVerdicts(a, af.Entries, nil)
	if len(aside) != 0 || verdicts[a.Kept[0].Key()] != "ok" || len(notes) != 3 {
		t.Fatalf("carried verdicts %v, notes %v, aside %v", verdicts, notes, aside)
	}
	a.Verdicts, a.Notes = verdicts, notes
	buf.Reset()
	if err := WriteAudit(&buf, a, 1, "run"); err != nil {
		t.Fatal(err)
	}
	if buf.String() != edited {
		t.Errorf("rewritten file differs from the reviewed one:\n%s\n----\n%s", buf.String(), edited)
	}
	// Drawn no more: the notes of the unticked sample go aside with it.
	_, _, aside, _ = carryVerdicts(&AuditLang{Label: "yor_Latn"}, af.Entries, nil)
	if len(aside) != 3 || !strings.Contains(aside[1].Body, "Looks machine-translated.") {
		t.Errorf("set aside %d entries: %+v", len(aside), aside)
	}
}
