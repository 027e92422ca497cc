package report

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/sieve-data/sieve/pipeline"
)

// Charts are drawn as inline SVG strings so that report.html needs no script and no
// network. Every chart is an <svg class="chart"> with a <title> for screen readers.

const (
	colMet      = "#2e7d32"
	colUnder    = "#ef6c00"
	colMissing  = "#c62828"
	colUntarget = "#1565c0"
	colUnd      = "#757575"
	colRemoved  = "#e57373"
	colKept     = "#42a5f5"
	colHist     = "#5c6bc0"
)

func statusColor(l *LangCoverage) string {
	switch {
	case l.Status == StatusMet:
		return colMet
	case l.Status == StatusUnder:
		return colUnder
	case l.Status == StatusMissing:
		return colMissing
	case l.Undetermined():
		return colUnd
	}
	return colUntarget
}

type svgBuf struct{ strings.Builder }

func (s *svgBuf) f(format string, args ...any) { fmt.Fprintf(&s.Builder, format, args...) }

func esc(s string) string { return html.EscapeString(s) }

func (s *svgBuf) open(id string, w, h int, title string) {
	s.f(`<svg class="chart" id="%s" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img"><title>%s</title>`, id, w, h, w, h, esc(title))
}

func (s *svgBuf) text(x, y float64, anchor, class, t string) {
	s.f(`<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">%s</text>`, x, y, anchor, class, esc(t))
}

// scale maps counts to bar lengths, linear or logarithmic.
type scale struct {
	max   float64
	log   bool
	width float64
}

func newScale(values []int64, width float64) scale {
	var mx, mnPos float64
	for _, v := range values {
		f := float64(v)
		mx = math.Max(mx, f)
		if v > 0 && (mnPos == 0 || f < mnPos) {
			mnPos = f
		}
	}
	if mx == 0 {
		mx = 1
	}
	return scale{max: mx, log: mnPos > 0 && mx/mnPos > 100, width: width}
}

func (sc scale) x(v int64) float64 {
	if v <= 0 {
		return 0
	}
	if sc.log {
		return sc.width * math.Log10(float64(v)+1) / math.Log10(sc.max+1)
	}
	return sc.width * float64(v) / sc.max
}

// docsChart draws documents per language as bars, with each target as a tick.
func docsChart(c *Coverage) string {
	var rows []*LangCoverage
	var values []int64
	for i := range c.Langs {
		l := &c.Langs[i]
		if l.Docs > 0 || l.Targeted {
			rows = append(rows, l)
			values = append(values, l.Docs, l.Target.MinDocs)
		}
	}
	const labelW, barW, rowH, top = 170.0, 480.0, 22.0, 28.0
	w := int(labelW + barW + 110)
	h := int(top + rowH*float64(max(len(rows), 1)) + 30)
	sc := newScale(values, barW)
	var s svgBuf
	s.open("chart-docs", w, h, "Kept documents per language against the targets")
	title := "Kept documents per language; black ticks mark targets"
	if sc.log {
		title += " (logarithmic scale)"
	}
	s.text(0, 16, "start", "ct", title)
	for i, l := range rows {
		y := top + rowH*float64(i)
		s.text(labelW-8, y+15, "end", "lbl", l.Label)
		bw := sc.x(l.Docs)
		s.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s documents (%s)</title></rect>`,
			labelW, y+3, math.Max(bw, 1), rowH-6, statusColor(l), esc(l.Label), num(l.Docs), esc(string(l.Status)))
		if l.Targeted && l.Target.MinDocs > 0 {
			tx := labelW + sc.x(l.Target.MinDocs)
			s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#000" stroke-width="2"><title>target %s documents</title></line>`,
				tx, y+1, tx, y+rowH-1, num(l.Target.MinDocs))
		}
		s.text(labelW+bw+6, y+15, "start", "val", num(l.Docs))
	}
	if len(rows) == 0 {
		s.text(labelW, top+15, "start", "val", "no documents kept")
	}
	ly := float64(h) - 8
	x := 0.0
	for _, k := range []struct{ col, name string }{{colMet, "met"}, {colUnder, "under target"}, {colMissing, "missing"}, {colUntarget, "not targeted"}, {colUnd, "no language"}} {
		s.f(`<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/>`, x, ly-9, k.col)
		s.text(x+14, ly, "start", "val", k.name)
		x += 14 + 7*float64(len(k.name)) + 18
	}
	s.f(`</svg>`)
	return s.String()
}

// funnelChart draws, for each stage, the documents it saw split into kept and removed.
func funnelChart(st *pipeline.Stats) string {
	const labelW, barW, rowH, top = 130.0, 460.0, 26.0, 28.0
	w := int(labelW + barW + 260)
	h := int(top + rowH*float64(len(st.Stages)+1) + 10)
	var s svgBuf
	s.open("chart-funnel", w, h, "Removal funnel: documents in, removed and kept at each stage")
	s.text(0, 16, "start", "ct", "Removal funnel: blue kept, red removed at each stage")
	sc := scale{max: math.Max(float64(st.Read), 1), width: barW}
	for i, stg := range st.Stages {
		y := top + rowH*float64(i)
		var removed int64
		for _, n := range stg.Rejected {
			removed += n
		}
		s.text(labelW-8, y+17, "end", "lbl", stg.Name)
		kw, rw := sc.x(stg.Kept), sc.x(removed)
		s.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: kept %s</title></rect>`, labelW, y+4, kw, rowH-8, colKept, esc(stg.Name), num(stg.Kept))
		s.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: removed %s (%s)</title></rect>`, labelW+kw, y+4, rw, rowH-8, colRemoved, esc(stg.Name), num(removed), esc(reasonsPlain(stg.Rejected)))
		s.text(labelW+kw+rw+6, y+17, "start", "val", fmt.Sprintf("in %s, removed %s", num(stg.In), num(removed)))
	}
	y := top + rowH*float64(len(st.Stages))
	s.text(labelW-8, y+17, "end", "lbl", "kept")
	s.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, labelW, y+4, math.Max(sc.x(st.Kept), 1), rowH-8, colMet)
	s.text(labelW+sc.x(st.Kept)+6, y+17, "start", "val", num(st.Kept)+" kept of "+num(st.Read)+" read")
	s.f(`</svg>`)
	return s.String()
}

func reasonsPlain(r map[string]int64) string {
	return strings.ReplaceAll(reasonsText(r), "`", "")
}

// histGrid draws one small histogram per language.
func histGrid(id, title string, langs []*LangCoverage, hist func(*LangCoverage) []int64, ticks map[int]string, bins int) string {
	const cellW, cellH, cols, pad = 180.0, 86.0, 4, 14.0
	rows := (len(langs) + cols - 1) / cols
	w := int(cellW * cols)
	h := int(24 + cellH*float64(max(rows, 1)))
	var s svgBuf
	s.open(id, w, h, title)
	s.text(0, 16, "start", "ct", title)
	for i, l := range langs {
		x0 := cellW * float64(i%cols)
		y0 := 24 + cellH*float64(i/cols)
		hs := hist(l)
		var mx int64
		for _, c := range hs {
			mx = max(mx, c)
		}
		s.text(x0+4, y0+12, "start", "lbl", l.Label)
		plotW, plotH := cellW-2*pad, cellH-38
		bw := plotW / float64(bins)
		by := y0 + 18 + plotH
		s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999"/>`, x0+pad, by, x0+pad+plotW, by)
		for b := 0; b < bins && b < len(hs); b++ {
			if hs[b] == 0 || mx == 0 {
				continue
			}
			bh := plotH * float64(hs[b]) / float64(mx)
			s.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`,
				x0+pad+bw*float64(b)+0.5, by-bh, math.Max(bw-1, 1), bh, colHist, esc(fmt.Sprintf("%s: %s documents", binName(id, b), num(hs[b]))))
		}
		for b := 0; b <= bins; b++ {
			if t, ok := ticks[b]; ok {
				s.text(x0+pad+bw*float64(b), by+12, "middle", "tick", t)
			}
		}
	}
	s.f(`</svg>`)
	return s.String()
}

func binName(id string, b int) string {
	if id == "chart-score" {
		return fmt.Sprintf("confidence %.1f–%.1f", float64(b)/10, float64(b+1)/10)
	}
	lo, hi := pipeline.LengthBucketRange(b)
	if hi < 0 {
		return fmt.Sprintf("%s chars or more", num(int64(lo)))
	}
	return fmt.Sprintf("%s–%s chars", num(int64(lo)), num(int64(hi-1)))
}

func lengthChart(langs []*LangCoverage) string {
	ticks := map[int]string{}
	for b := 0; b < pipeline.LengthBuckets; b++ {
		lo, _ := pipeline.LengthBucketRange(b)
		switch lo {
		case 16:
			ticks[b] = "16"
		case 1024:
			ticks[b] = "1K"
		case 65536:
			ticks[b] = "64K"
		}
	}
	return histGrid("chart-length", "Document length in characters per language (logarithmic bins)", langs,
		func(l *LangCoverage) []int64 { return l.Stats.LengthHist }, ticks, pipeline.LengthBuckets)
}

func scoreChart(langs []*LangCoverage) string {
	ticks := map[int]string{0: "0", 5: "0.5", 10: "1"}
	return histGrid("chart-score", "Language ID confidence per language", langs,
		func(l *LangCoverage) []int64 { return l.Stats.ScoreHist }, ticks, pipeline.ScoreBuckets)
}
