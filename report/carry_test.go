package report

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
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
