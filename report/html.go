package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"strings"

	"github.com/sieve-data/sieve/pipeline"
)

// selfCheck is report.html's only script. It checks that every chart was laid out with a
// size and records the count on <html data-charts="drawn/total">, so a headless browser can
// tell that the page rendered (.ci/report_check.sh); a chart that did not is a console error.
const selfCheck = `(function () {
  var charts = document.querySelectorAll("svg.chart");
  var drawn = 0;
  for (var i = 0; i < charts.length; i++) {
    var r = charts[i].getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && charts[i].childElementCount > 1) {
      drawn++;
    } else {
      console.error("sieve report: chart " + charts[i].id + " did not render");
    }
  }
  document.documentElement.setAttribute("data-charts", drawn + "/" + charts.length);
})();`

// contentPolicy forbids every load but inline styles, data: images and the self-check
// script: the page works offline, and a request would show as a console error.
func contentPolicy() string {
	sum := sha256.Sum256([]byte(selfCheck))
	return "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

const pageCSS = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", sans-serif; margin: 0 auto; max-width: 1180px; padding: 0 24px 48px; color: #1f2328; }
h1 { margin-top: 28px; } h2 { margin-top: 36px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13.5px; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; vertical-align: top; }
th { background: #f6f8fa; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; }
.badge { padding: 1px 7px; border-radius: 9px; color: #fff; font-size: 12px; white-space: nowrap; }
.met { background: #2e7d32; } .under { background: #ef6c00; } .missing { background: #c62828; } .none { background: #1565c0; } .und { background: #757575; }
svg.chart { display: block; margin: 12px 0 20px; max-width: 100%; height: auto; }
svg .ct { font-size: 14px; font-weight: 600; fill: #1f2328; }
svg .lbl { font-size: 12px; fill: #1f2328; font-family: ui-monospace, Menlo, Consolas, monospace; }
svg .val { font-size: 12px; fill: #57606a; }
svg .tick { font-size: 10px; fill: #57606a; }
.muted { color: #57606a; }
`

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"num": num, "pct": pct, "pctOf": pctOf, "target": targetText, "status": func(s Status) string { return string(s) },
	"badge": func(l *LangCoverage) string {
		switch {
		case l.Status == StatusMet:
			return "met"
		case l.Status == StatusUnder:
			return "under"
		case l.Status == StatusMissing:
			return "missing"
		case l.Undetermined():
			return "und"
		}
		return "none"
	},
	"removedBy": func(l *LangCoverage, stage string) int64 { return l.RemovedBy(stage) },
	"stageRemoved": func(s pipeline.StageStats) int64 {
		var n int64
		for _, c := range s.Rejected {
			n += c
		}
		return n
	},
	"reasons":   reasonsPlain,
	"params":    func(p map[string]any) string { return strings.ReplaceAll(paramText(p), "`", "") },
	"dash":      dash,
	"fertility": fertility,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.M.Name}}: coverage report</title>
<style>` + pageCSS + `</style>
</head>
<body>
<h1>{{.M.Name}}</h1>
<p>{{num .C.Docs}} documents ({{num .C.Words}} words, {{num .C.Chars}} characters, {{.TokensPhrase}}) in {{.KeptLangs}}, kept from {{num .St.Read}} documents read from {{.Inputs}} by sieve {{.M.Run.Manifest.SieveVersion}}.{{if .C.Targeted}} <strong>{{.C.Met}} of {{.C.Targeted}} targeted languages meet their target.</strong>{{end}}
The dataset card is <a href="README.md">README.md</a>; the figures come from <code>stats.json</code>.</p>

<h2>Languages</h2>
{{.DocsChart}}
{{if .C.Tokenizer}}<p class="muted">{{.TokenizerText}}</p>{{else}}<p class="muted">Estimated tokens are UTF-8 bytes / {{.BPT}}: {{.TokenMethod}}</p>{{end}}
<table>
<tr><th>Language</th><th>Label</th><th>Code</th><th>Documents</th><th>Words</th><th>Characters</th><th>Bytes</th>{{if .C.Tokenizer}}<th>Tokens</th><th>Tokens/word</th>{{else}}<th>Est. tokens</th>{{end}}<th>Share (docs)</th><th>Share (tokens)</th><th>Target</th><th>Status</th><th>Audit</th></tr>
{{range .Langs}}<tr><td>{{.Name}}</td><td><code>{{.Label}}</code></td><td>{{dash .Code}}</td><td class="n">{{num .Docs}}</td><td class="n">{{num .Words}}</td><td class="n">{{num .Chars}}</td><td class="n">{{num .Bytes}}</td><td class="n">{{num .Tokens}}</td>{{if $.C.Tokenizer}}<td class="n">{{fertility .Fertility}}</td>{{end}}<td class="n">{{pct .DocShare}}</td><td class="n">{{pct .TokenShare}}</td><td>{{target .}}</td><td><span class="badge {{badge .}}">{{status .Status}}</span></td><td>{{if call $.Audited .Label}}<a href="audit/{{.Label}}.md">audit/{{.Label}}.md</a>{{else}}–{{end}}</td></tr>
{{end}}<tr class="total"><td>Total</td><td></td><td></td><td class="n">{{num .C.Docs}}</td><td class="n">{{num .C.Words}}</td><td class="n">{{num .C.Chars}}</td><td class="n">{{num .C.Bytes}}</td><td class="n">{{num .C.Tokens}}</td>{{if .C.Tokenizer}}<td class="n">{{fertility .C.Fertility}}</td>{{end}}<td class="n">100%</td><td class="n">100%</td><td></td><td></td><td></td></tr>
</table>

<h2>Removal funnel</h2>
{{.FunnelChart}}
<table>
<tr><th>Stage</th><th>In</th><th>Removed</th><th>Kept</th><th>Share removed</th><th>Reasons</th></tr>
{{range .St.Stages}}{{$r := stageRemoved .}}<tr><td><code>{{.Name}}</code></td><td class="n">{{num .In}}</td><td class="n">{{num $r}}</td><td class="n">{{num .Kept}}</td><td class="n">{{pctOf $r .In}}</td><td>{{reasons .Rejected}}</td></tr>
{{end}}</table>
<p>Per language ({{if .M.LangID}}documents removed before language identification count under <code>und</code>{{else}}no language identification stage ran, so every document counts under <code>und</code>{{end}}):</p>
<table>
<tr><th>Label</th><th>Read</th>{{range .St.Stages}}<th><code>{{.Name}}</code></th>{{end}}<th>Kept</th><th>Share kept</th></tr>
{{range $l := .Langs}}{{if $l.Read}}<tr><td><code>{{$l.Label}}</code></td><td class="n">{{num $l.Read}}</td>{{range $.St.Stages}}<td class="n">{{num (removedBy $l .Name)}}</td>{{end}}<td class="n">{{num $l.Docs}}</td><td class="n">{{pct $l.KeptRate}}</td></tr>
{{end}}{{end}}</table>
<table>
<tr><th>Label</th><th>Stage</th><th>Reason</th><th>Documents</th></tr>
{{range $l := .Langs}}{{range $l.Removed}}<tr><td><code>{{$l.Label}}</code></td><td><code>{{.Stage}}</code></td><td><code>{{.Reason}}</code></td><td class="n">{{num .Docs}}</td></tr>
{{end}}{{end}}</table>

<h2>Distributions</h2>
{{.LengthChart}}
{{if .M.LangID}}{{.ScoreChart}}{{else}}<p class="muted">No language identification stage ran, so there is no confidence distribution.</p>{{end}}

<h2>How the data was processed</h2>
<table>
<tr><th>Input file</th><th>Format</th><th>Compression</th><th>Records</th><th>Bytes</th><th>SHA-256</th></tr>
{{range .M.Run.Manifest.Inputs}}<tr><td><code>{{.Path}}</code></td><td>{{.Format}}</td><td>{{.Compression}}</td><td class="n">{{num .Records}}</td><td class="n">{{num .Size}}</td><td><code>{{.SHA256}}</code></td></tr>
{{end}}</table>
<ol>
<li><code>read</code>: parse the inputs; unreadable records are rejected with a reason.</li>
{{range .M.Run.Stages}}<li><code>{{.Name}}</code>{{if ne .Name .Kind}} (kind <code>{{.Kind}}</code>){{end}}: {{params .Params}}</li>
{{end}}</ol>

<h2>Deduplication</h2>
{{if .Dedup}}<ul>{{range .Dedup}}<li>{{.}}</li>{{end}}</ul>{{else}}<p>No deduplication stage ran: the dataset may hold duplicate documents.</p>{{end}}

<h2>Audit</h2>
{{if .Audits}}<p>Up to {{.M.Run.Coverage.AuditSamples}} kept and {{.M.Run.Coverage.AuditSamples}} rejected documents per language, drawn at random (seed {{.M.Run.Coverage.Seed}}). Tick one box per sample in the file, then run <code>sieve report</code> to count the verdicts here.</p>
<table>
<tr><th>Label</th><th>File</th><th>Kept reviewed</th><th>ok</th><th>wrong language</th><th>poor quality</th><th>Rejected reviewed</th><th>rightly removed</th><th>wrongly removed</th></tr>
{{range .Audits}}<tr><td><code>{{.Label}}</code></td><td><a href="audit/{{.Label}}.md">audit/{{.Label}}.md</a></td><td class="n">{{.KeptReviewed}}/{{.Kept}}</td><td class="n">{{.OK}}</td><td class="n">{{.WrongLanguage}}</td><td class="n">{{.PoorQuality}}</td><td class="n">{{.RejReviewed}}/{{.Rejected}}</td><td class="n">{{.RightlyRejected}}</td><td class="n">{{.WronglyRejected}}</td></tr>
{{end}}</table>{{else}}<p>No audit samples were drawn.</p>{{end}}{{if .Aside}}
<p>{{.Aside}}</p>{{end}}

<h2>Known limitations</h2>
<ul>{{range .Limits}}<li>{{.}}</li>{{end}}</ul>

<h2>Reproduction</h2>
<ul>
<li>sieve version: <code>{{.M.Run.Manifest.SieveVersion}}</code></li>
<li>configuration SHA-256: <code>{{.M.ConfigHash}}</code> (resolved configuration as canonical JSON, without <code>output.dir</code>, <code>workers</code> and <code>coverage</code>)</li>
<li><code>sieve report &lt;dir&gt;</code> rebuilds this page, README.md and audit/ without reprocessing.</li>
</ul>
{{if .M.Run.Manifest.ConfigText}}<pre>{{.M.Run.Manifest.ConfigText}}</pre>{{end}}
<script>` + selfCheck + `</script>
</body>
</html>
`))

// auditRow is one line of the audit table.
type auditRow struct {
	AuditSummary
}

// HTML renders report.html.
func (m *model) HTML() ([]byte, error) {
	var langs []*LangCoverage
	var dist []*LangCoverage
	for i := range m.Cov.Langs {
		l := &m.Cov.Langs[i]
		langs = append(langs, l)
		if l.Docs > 0 {
			dist = append(dist, l)
		}
	}
	audited := map[string]bool{}
	var audits []auditRow
	for _, a := range m.Audits {
		audited[a.Label] = true
		audits = append(audits, auditRow{m.Summaries[a.Label]})
	}
	var dedup []string
	for _, i := range m.dedupStages() {
		s := m.Run.Stats.Stages[i]
		var removed int64
		for _, n := range s.Rejected {
			removed += n
		}
		line := "<code>" + template.HTMLEscapeString(s.Name) + "</code> removed " + num(removed) + " of the " + num(s.In) + " documents it saw (" + pctOf(removed, s.In) + ")."
		if len(s.Extra) > 0 {
			line += " Its figures: " + template.HTMLEscapeString(strings.ReplaceAll(paramText(s.Extra), "`", "")) + "."
		}
		dedup = append(dedup, line)
	}
	var limits []template.HTML
	for _, s := range m.limitations() {
		limits = append(limits, mdInlineHTML(s))
	}
	data := map[string]any{
		"M": m, "C": m.Cov, "St": m.Run.Stats, "Langs": langs, "KeptLangs": plural(m.keptLangs(), "language label"), "Inputs": plural(len(m.Run.Manifest.Inputs), "input file"),
		"CSP":          contentPolicy(),
		"BPT":          fmtFloat(m.Run.Coverage.BytesPerToken),
		"TokenMethod":  tokenMethodShort,
		"TokensPhrase": tokensPhrase(m.Cov),
		"TokenizerText": func() string {
			if m.Cov.Tokenizer == nil {
				return ""
			}
			return tokenizerText(m.Cov.Tokenizer, "")
		}(),
		"DocsChart":   template.HTML(docsChart(m.Cov)),
		"FunnelChart": template.HTML(funnelChart(m.Run.Stats)),
		"LengthChart": template.HTML(lengthChart(dist)),
		"ScoreChart":  template.HTML(scoreChart(dist)),
		"Audits":      audits,
		"Aside":       mdInlineHTML(m.asideNote()),
		"Audited":     func(label string) bool { return audited[label] },
		"Dedup":       toHTML(dedup),
		"Limits":      limits,
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func toHTML(ss []string) []template.HTML {
	out := make([]template.HTML, len(ss))
	for i, s := range ss {
		out[i] = template.HTML(s)
	}
	return out
}

// mdInlineHTML renders the little Markdown the limitation texts use (`code` spans) as HTML,
// escaping everything else.
func mdInlineHTML(s string) template.HTML {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 {
			b.WriteString("<code>" + template.HTMLEscapeString(p) + "</code>")
		} else {
			b.WriteString(template.HTMLEscapeString(p))
		}
	}
	return template.HTML(b.String())
}
