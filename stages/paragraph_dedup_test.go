package stages

import (
	"context"
	"strings"
	"testing"

	"github.com/sieve-data/sieve/pipeline"
)

func TestParagraphDedup(t *testing.T) {
	menu := "Home | News | Sports | Contact us today"
	footer := "Copyright 2024 Example News, all rights reserved."
	tests := []struct {
		name       string
		give       []string
		wantText   []string // "" means rejected
		wantReason []string
	}{
		{
			name: "boilerplate lines removed after the first document",
			give: []string{
				menu + "\nMvua kubwa ilinyesha jana jijini Nairobi na kusababisha mafuriko.\n" + footer,
				menu + "\nWakulima wa Kenya wanatarajia mavuno mazuri mwaka huu.\n" + strings.Replace(footer, "2024", "2025", 1),
			},
			wantText: []string{
				menu + "\nMvua kubwa ilinyesha jana jijini Nairobi na kusababisha mafuriko.\n" + footer,
				"Wakulima wa Kenya wanatarajia mavuno mazuri mwaka huu.",
			},
			wantReason: []string{"", ""},
		},
		{
			name: "document made only of seen lines is rejected",
			give: []string{
				"Ọjọ́ ayọ̀ ni òní fún gbogbo ìdílé wa.\n" + footer,
				"ọjọ́ ayọ̀ ni òní fún gbogbo ìdílé wa!\n" + footer,
			},
			wantText:   []string{"Ọjọ́ ayọ̀ ni òní fún gbogbo ìdílé wa.\n" + footer, ""},
			wantReason: []string{"", "paragraph_dedup.all_duplicate"},
		},
		{
			name:       "repeats inside one document and short lines stay",
			give:       []string{"Hello there\n" + footer + "\n" + footer, "Hello there\nA new line of text that is long enough."},
			wantText:   []string{"Hello there\n" + footer + "\n" + footer, "Hello there\nA new line of text that is long enough."},
			wantReason: []string{"", ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &ParagraphDedup{cfg: ParagraphDedupConfig{Unit: "line", MinChars: 20, MinCharsLeft: 1, Scope: "global"}, seen: map[uint64]struct{}{}}
			for i, text := range tt.give {
				d := &pipeline.Document{ID: "d", Text: text}
				v, err := s.Process(context.Background(), d)
				if err != nil {
					t.Fatal(err)
				}
				if v.Reason != tt.wantReason[i] {
					t.Fatalf("doc %d: reason %q, want %q (%s)", i, v.Reason, tt.wantReason[i], v.Detail)
				}
				if v.Kept() && d.Text != tt.wantText[i] {
					t.Errorf("doc %d: text %q, want %q", i, d.Text, tt.wantText[i])
				}
			}
		})
	}
}

// An instruction record is written from its turns: one with some paragraphs seen before is
// kept whole (a text-view paragraph does not map back to a turn) and counted as such; one
// made only of seen paragraphs is still rejected.
func TestParagraphDedupInstruction(t *testing.T) {
	s := &ParagraphDedup{cfg: ParagraphDedupConfig{Unit: "paragraph", MinChars: 20, MinCharsLeft: 1, Scope: "global"}, seen: map[uint64]struct{}{}}
	record := func(q, a string) *pipeline.Document {
		in := &pipeline.Instruction{Messages: []pipeline.Message{{Role: pipeline.RoleUser, Content: q}, {Role: pipeline.RoleAssistant, Content: a}}}
		return &pipeline.Document{ID: "r", Instruction: in, Text: in.View(pipeline.ViewAll)}
	}
	q := "Eleza kwa ufupi jinsi mvua inavyonyesha katika nyanda za juu."
	first := record(q, "Mvua hunyesha pale hewa yenye unyevu inapopanda juu ya milima na kupoa.")
	second := record(q, "Hewa yenye mvuke hupoa inapopanda, mvuke hugeuka matone na kunyesha.")
	third := record(q, "Mvua hunyesha pale hewa yenye unyevu inapopanda juu ya milima na kupoa.")
	for i, d := range []*pipeline.Document{first, second, third} {
		before := d.Text
		v, err := s.Process(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0, 1:
			if !v.Kept() || d.Text != before || d.Instruction.Messages[0].Content != q {
				t.Errorf("record %d: verdict %+v, text %q", i, v, d.Text)
			}
		case 2:
			if v.Reason != "paragraph_dedup.all_duplicate" {
				t.Errorf("record 2: verdict %+v, want all_duplicate", v)
			}
		}
	}
	rep := s.Report()
	if rep["instructions_not_rewritten"] != int64(1) || rep["documents_changed"] != int64(0) {
		t.Errorf("report %v", rep)
	}
}

func BenchmarkParagraphDedup(b *testing.B) {
	lines := make([]string, 30)
	for i := range lines {
		lines[i] = strings.Repeat("word ", 15) + string(rune('a'+i%26)) + strings.Repeat("x", i)
	}
	text := strings.Join(lines, "\n")
	s := &ParagraphDedup{cfg: ParagraphDedupConfig{Unit: "line", MinChars: 20, MinCharsLeft: 1, Scope: "global"}, seen: map[uint64]struct{}{}}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		d := &pipeline.Document{Text: text}
		_, _ = s.Process(context.Background(), d)
	}
}
