package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Verdict codes a reviewer ticks in an audit file. A kept sample takes one of VerdictOK,
// VerdictWrongLanguage, VerdictPoorQuality; a rejected one VerdictOK or VerdictWronglyRejected.
const (
	VerdictOK              = "ok"
	VerdictWrongLanguage   = "wrong_language"
	VerdictPoorQuality     = "poor_quality"
	VerdictWronglyRejected = "wrongly_rejected"
)

// verdictChoice is one box of a sample: its code and its explanation for a language
// (with %s for its name) and for an undetermined label ("" leaves the box out).
type verdictChoice struct{ code, lang, und string }

// verdictChoices lists the boxes of each kind of sample.
var verdictChoices = map[SampleKind][]verdictChoice{
	Kept: {
		{VerdictOK, "the text is in %s and worth training on", "the text is worth training on"},
		{VerdictWrongLanguage, "the text is not (mainly) in %s", ""},
		{VerdictPoorQuality, "right language, but boilerplate, garbled, machine-translated or otherwise not worth keeping", "boilerplate, garbled, machine-translated or otherwise not worth keeping"},
	},
	Rejected: {
		{VerdictOK, "rightly removed", "rightly removed"},
		{VerdictWronglyRejected, "good %s text that should have been kept", "good text that should have been kept"},
	},
}

// samplePrefix starts the marker comment that identifies a sample in an audit file.
const samplePrefix = "<!-- sieve:sample "

type sampleMarker struct {
	Kind   SampleKind `json:"kind"`
	ID     string     `json:"id"`
	Origin string     `json:"origin"`
	// TextSHA256 is the hash of the document's whole text (Sample.TextSHA256), so a verdict
	// is carried to a later draw only while the text is the one reviewed. Files written
	// before sieve recorded it lack it.
	TextSHA256 string `json:"text_sha256,omitempty"`
}

// AuditLang is the audit of one language: its samples with the verdicts recorded so far.
type AuditLang struct {
	Label, Name   string
	Kept          []Sample
	Rejected      []Sample
	KeptTotal     int64 // documents the kept samples were drawn from
	RejectedTotal int64
	Verdicts      map[string]string // Sample.Key() -> verdict code
	Notes         map[string]string // Sample.Key() -> a reviewer's notes (AuditEntry.Notes)
	SetAside      int               // verdicts of earlier audits kept in PreviousDir/<Label>.md
}

// WriteAudit writes the audit file of one language: instructions, then each sample with one
// checkbox per verdict (ticked when a.Verdicts holds one) and its text in a fenced block.
func WriteAudit(w io.Writer, a *AuditLang, seed uint64, runName string) error {
	b := &bytes.Buffer{}
	fmt.Fprintf(b, "# Audit: %s (`%s`)\n\n", a.Name, a.Label)
	fmt.Fprintf(b, "Dataset %s. %d of %s kept and %d of %s rejected documents labelled `%s`, drawn at random (seed %d; the same run and seed draw the same documents).\n\n",
		mdText(runName), len(a.Kept), num(a.KeptTotal), len(a.Rejected), num(a.RejectedTotal), a.Label, seed)
	b.WriteString("**How to review.** For each sample, tick exactly one box (`- [x]`). Then run `sieve report <run directory>`: it counts the verdicts into the dataset card and report.html, and keeps them when it rebuilds this file. Notes written below a sample's text are kept with it too.\n\n")
	if a.SetAside > 0 {
		fmt.Fprintf(b, "%s ticked earlier %s to none of these samples (the document is no longer drawn, its text changed, or not one box is ticked): %s kept, not counted, in [previous/%s.md](previous/%s.md).\n\n",
			plural(a.SetAside, "verdict"), pick(a.SetAside, "applies", "apply"), pick(a.SetAside, "it is", "they are"), a.Label, a.Label)
	}
	for _, kind := range []SampleKind{Kept, Rejected} {
		list := a.Kept
		title := "Kept documents"
		prefix := "K"
		if kind == Rejected {
			list, title, prefix = a.Rejected, "Rejected documents", "R"
		}
		fmt.Fprintf(b, "## %s\n\n", title)
		if len(list) == 0 {
			b.WriteString("None.\n\n")
			continue
		}
		for i := range list {
			s := &list[i]
			fmt.Fprintf(b, "### %s%d · `%s`\n\n", prefix, i+1, codeSpanSafe(s.ID))
			writeMarker(b, sampleMarker{Kind: s.Kind, ID: s.ID, Origin: s.Origin, TextSHA256: s.TextSHA256})
			if kind == Kept {
				fmt.Fprintf(b, "From %s · %s chars", mdText(s.Origin), num(int64(s.Chars)))
				if s.Score > 0 {
					fmt.Fprintf(b, " · language ID confidence %.2f", s.Score)
				}
			} else {
				fmt.Fprintf(b, "From %s · %s chars · removed by `%s`: `%s` (%s)", mdText(s.Origin), num(int64(s.Chars)), s.Stage, s.Reason, mdText(s.Detail))
			}
			b.WriteString("\n\n")
			got := a.Verdicts[s.Key()]
			for _, c := range verdictChoices[kind] {
				expl := c.und
				if !undetermined(a.Label) {
					expl = strings.ReplaceAll(c.lang, "%s", a.Name)
				}
				if expl == "" {
					continue
				}
				box := " "
				if got == c.code {
					box = "x"
				}
				fmt.Fprintf(b, "- [%s] %s: %s\n", box, c.code, mdText(expl))
			}
			b.WriteString("\n")
			if s.Text == "" {
				b.WriteString(noTextLine + "\n")
			} else {
				fence := fenceFor(s.Text)
				fmt.Fprintf(b, "%stext\n%s\n%s\n", fence, s.Text, fence)
			}
			if s.Chars > maxSampleChars {
				fmt.Fprintf(b, "\n(first %d of %s characters)\n", maxSampleChars, num(int64(s.Chars)))
			}
			if n := a.Notes[s.Key()]; n != "" {
				fmt.Fprintf(b, "\n%s\n", n)
			}
			b.WriteString("\n")
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeMarker writes the marker comment of a sample and a blank line.
func writeMarker(b *bytes.Buffer, mk sampleMarker) {
	j, _ := json.Marshal(mk) // escapes < and >
	fmt.Fprintf(b, "%s%s -->\n\n", samplePrefix, j)
}

// fenceFor returns a code fence of backticks longer than any run of backticks in text.
func fenceFor(text string) string {
	longest, run := 0, 0
	for i := 0; i < len(text); i++ {
		if text[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// codeSpanSafe makes s fit in a one-backtick code span on one line.
func codeSpanSafe(s string) string {
	s = strings.NewReplacer("`", "'", "\n", " ", "\r", " ").Replace(s)
	if s == "" {
		return "(no id)"
	}
	return s
}

// AuditFile is what ReadAudit found in an audit file.
type AuditFile struct {
	Verdicts map[string]string // Sample.Key() -> verdict code, for samples with one box ticked
	Samples  int               // samples found
	Problems []string          // "line N: ..." for boxes that cannot be read as one verdict
	Entries  []AuditEntry      // every sample, in file order
}

// AuditEntry is one sample of an audit file as a reviewer left it.
type AuditEntry struct {
	Kind       SampleKind
	ID, Origin string
	// TextSHA256 is the hash of the document's whole text recorded in the marker; "" in
	// files written before sieve recorded it.
	TextSHA256 string
	// Text is what the sample's ```text block shows (lines joined by "\n"); "" when it
	// shows none.
	Text    string
	Ticked  []string // codes of the ticked boxes in file order, verdicts or not
	Verdict string   // the verdict when exactly one valid box is ticked, else ""
	Line    int      // line of the sample's marker
	// Body is the file's text after the marker up to the next heading or marker, as
	// written (the description, boxes and text), without leading and trailing blank lines;
	// a fence left open at the end of the file is closed.
	Body string
	// Notes is what a reviewer wrote below the sample's text (after its ```text block, or
	// its "(no text)" line), without the line saying how much of the text is shown.
	Notes string
}

// Key is the Sample.Key() of the entry's sample.
func (e *AuditEntry) Key() string {
	return (&Sample{Kind: e.Kind, ID: e.ID, Origin: e.Origin}).Key()
}

// ReadAudit reads the samples of an audit file written by WriteAudit (or of a file of
// verdicts set aside) with the boxes ticked in them: a sample's boxes are the task-list
// lines after its marker, up to the next heading or marker. A sample with no box ticked has
// no verdict; one with several, or with an unknown code ticked, is listed in Problems and
// has no verdict. Text inside code fences is never read as a verdict.
func ReadAudit(r io.Reader) (*AuditFile, error) {
	out := &AuditFile{Verdicts: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var (
		fence    string // the open fence, "" outside one
		cur      *AuditEntry
		valid    int      // valid boxes ticked in cur
		body     []string // lines of cur's body so far
		inBody   bool     // no heading since cur's marker
		inText   bool     // inside cur's ```text block
		text     []string
		notes    []string // lines of cur's body after its text block
		afterTxt bool     // cur's text block (or "(no text)") is behind
		lineNo   int
		finished = func() {
			if cur == nil {
				return
			}
			for len(body) > 0 && strings.TrimSpace(body[len(body)-1]) == "" {
				body = body[:len(body)-1]
			}
			for len(body) > 0 && strings.TrimSpace(body[0]) == "" {
				body = body[1:]
			}
			cur.Body, cur.Text = strings.Join(body, "\n"), strings.Join(text, "\n")
			cur.Notes = notesText(notes)
			switch {
			case valid == 1:
				for _, c := range cur.Ticked {
					if validVerdict(cur.Kind, c) {
						cur.Verdict = c
					}
				}
				out.Verdicts[cur.Key()] = cur.Verdict
			case valid > 1:
				var codes []string
				for _, c := range cur.Ticked {
					if validVerdict(cur.Kind, c) {
						codes = append(codes, c)
					}
				}
				out.Problems = append(out.Problems, fmt.Sprintf("line %d: sample %q has %d boxes ticked (%s); tick one", cur.Line, cur.ID, valid, strings.Join(codes, ", ")))
			}
			out.Entries = append(out.Entries, *cur)
			cur, valid, body, inBody, inText, text = nil, 0, nil, false, false, nil
			notes, afterTxt = nil, false
		}
	)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		trim := strings.TrimSpace(line)
		if inBody {
			body = append(body, line)
			if afterTxt && !heading(trim) && !strings.HasPrefix(trim, samplePrefix) {
				notes = append(notes, line)
			}
		}
		if fence != "" {
			if strings.HasPrefix(trim, fence[:1]) && strings.Trim(trim, fence[:1]) == "" && len(trim) >= len(fence) {
				if inText {
					afterTxt = true
				}
				fence, inText = "", false
			} else if inText {
				text = append(text, line)
			}
			continue
		}
		if f := openingFence(trim); f != "" {
			fence = f
			if inBody && text == nil && strings.TrimSpace(trim[len(f):]) == "text" {
				inText, text = true, []string{}
			}
			continue
		}
		if rest, ok := strings.CutPrefix(trim, samplePrefix); ok {
			if inBody {
				body = body[:len(body)-1]
			}
			finished()
			js, ok := strings.CutSuffix(rest, "-->")
			var mk sampleMarker
			if !ok || json.Unmarshal([]byte(strings.TrimSpace(js)), &mk) != nil || (mk.Kind != Kept && mk.Kind != Rejected) {
				out.Problems = append(out.Problems, fmt.Sprintf("line %d: unreadable sample marker", lineNo))
				continue
			}
			out.Samples++
			cur = &AuditEntry{Kind: mk.Kind, ID: mk.ID, Origin: mk.Origin, TextSHA256: mk.TextSHA256, Line: lineNo}
			inBody = true
			continue
		}
		if inBody && heading(trim) {
			body, inBody = body[:len(body)-1], false
		}
		if !inBody {
			continue // a sample's boxes are in its body
		}
		if trim == noTextLine && text == nil {
			afterTxt = true
			continue
		}
		code, checked, ok := checkbox(trim)
		if !ok || !checked {
			continue
		}
		cur.Ticked = append(cur.Ticked, code)
		if !validVerdict(cur.Kind, code) {
			out.Problems = append(out.Problems, fmt.Sprintf("line %d: %q is not a verdict for a %s sample", lineNo, code, cur.Kind))
			continue
		}
		valid++
	}
	if fence != "" && inBody {
		body = append(body, fence) // the file ends inside a fence: close it in the body
	}
	finished()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", lineNo+1, err)
	}
	return out, nil
}

// validVerdict reports whether code is a verdict for a sample of kind.
func validVerdict(kind SampleKind, code string) bool {
	for _, c := range verdictChoices[kind] {
		if c.code == code {
			return true
		}
	}
	return false
}

// heading reports whether a trimmed line is a Markdown ATX heading.
func heading(trim string) bool {
	n := 0
	for n < len(trim) && trim[n] == '#' {
		n++
	}
	return n > 0 && n <= 6 && (n == len(trim) || trim[n] == ' ' || trim[n] == '\t')
}

// openingFence returns the fence a line opens (``` or ~~~, three or more), or "".
func openingFence(trim string) string {
	for _, c := range []byte{'`', '~'} {
		n := 0
		for n < len(trim) && trim[n] == c {
			n++
		}
		if n >= 3 {
			return trim[:n]
		}
	}
	return ""
}

// checkbox parses a task list item "- [x] code: ..." (or "* [X] code ...") and returns the
// code and whether the box is ticked.
func checkbox(trim string) (code string, checked, ok bool) {
	if len(trim) < 6 || (trim[0] != '-' && trim[0] != '*' && trim[0] != '+') || trim[1] != ' ' || trim[2] != '[' || trim[4] != ']' {
		return "", false, false
	}
	switch trim[3] {
	case 'x', 'X':
		checked = true
	case ' ':
	default:
		return "", false, false
	}
	rest := strings.TrimSpace(trim[5:])
	end := strings.IndexFunc(rest, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') })
	if end < 0 {
		end = len(rest)
	}
	return strings.ToLower(rest[:end]), checked, true
}

// AuditSummary counts the verdicts of one language.
type AuditSummary struct {
	Label           string
	Kept, Rejected  int // samples
	KeptReviewed    int
	OK              int // kept samples judged ok
	WrongLanguage   int
	PoorQuality     int
	RejReviewed     int
	RightlyRejected int
	WronglyRejected int
}

// Summarise counts the verdicts of a language's samples.
func (a *AuditLang) Summarise() AuditSummary {
	s := AuditSummary{Label: a.Label, Kept: len(a.Kept), Rejected: len(a.Rejected)}
	for i := range a.Kept {
		switch a.Verdicts[a.Kept[i].Key()] {
		case VerdictOK:
			s.OK++
		case VerdictWrongLanguage:
			s.WrongLanguage++
		case VerdictPoorQuality:
			s.PoorQuality++
		default:
			continue
		}
		s.KeptReviewed++
	}
	for i := range a.Rejected {
		switch a.Verdicts[a.Rejected[i].Key()] {
		case VerdictOK:
			s.RightlyRejected++
		case VerdictWronglyRejected:
			s.WronglyRejected++
		default:
			continue
		}
		s.RejReviewed++
	}
	return s
}

// noTextLine stands for the text block of a sample without text.
const noTextLine = "(no text)"

// notesText returns a reviewer's notes from the lines after a sample's text block: without
// the line saying how much of the text is shown, and without blank lines around.
func notesText(lines []string) string {
	out := lines[:0:0]
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "(first ") && strings.HasSuffix(t, " characters)") {
			continue
		}
		out = append(out, l)
	}
	for len(out) > 0 && strings.TrimSpace(out[0]) == "" {
		out = out[1:]
	}
	for len(out) > 0 && strings.TrimSpace(out[len(out)-1]) == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}
