package quality

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"

	"github.com/sieve-data/sieve/lang"
)

// WriteYAML writes the thresholds file: for each calibrated stage kind, the overrides of each
// language that has any. header becomes the file's leading comment.
func (c *Calibration) WriteYAML(w io.Writer, header string) error {
	root := &yaml.Node{Kind: yaml.MappingNode}
	for si, s := range c.Stages {
		sec := &yaml.Node{Kind: yaml.MappingNode}
		for _, lc := range c.Languages {
			if lc.Skipped || len(lc.Overrides[si].Keys) == 0 {
				continue
			}
			ov := lc.Overrides[si]
			m := &yaml.Node{Kind: yaml.MappingNode}
			for i, k := range ov.Keys {
				m.Content = append(m.Content, str(k), valueNode(ov.Vals[i]))
			}
			key := str(lc.Lang)
			key.HeadComment = fmt.Sprintf("%d documents", lc.Docs)
			if lc.Members != nil {
				key.HeadComment = fmt.Sprintf("script %s, for languages without an entry: %d documents of %s", lc.Lang, lc.Docs, strings.Join(lc.Members, ", "))
			}
			sec.Content = append(sec.Content, key, m)
		}
		if len(sec.Content) == 0 {
			sec.Style = yaml.FlowStyle
		}
		root.Content = append(root.Content, str(s.Kind), sec)
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: header, Content: []*yaml.Node{root}}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func valueNode(v any) *yaml.Node {
	switch x := v.(type) {
	case float64:
		v := strconv.FormatFloat(x, 'f', -1, 64)
		if !strings.ContainsAny(v, ".eE") {
			v += ".0"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: v}
	case int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(x, 10)}
	case []string:
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, s := range x {
			seq.Content = append(seq.Content, str(s))
		}
		return seq
	}
	panic(fmt.Sprintf("quality: no YAML form for %T", v))
}

// WriteReport prints, per language, how many sampled documents each rule removes with the
// stages' thresholds and with the calibrated ones.
func (c *Calibration) WriteReport(w io.Writer) error {
	docs := 0
	for _, lc := range c.Languages {
		if lc.Members == nil {
			docs += lc.Docs
		}
	}
	o := c.Options
	scriptOK := map[string]bool{}
	for _, lc := range c.Languages {
		if lc.Members != nil && !lc.Skipped {
			scriptOK[lc.Lang] = true
		}
	}
	langs := 0
	for _, lc := range c.Languages {
		if lc.Members == nil {
			langs++
		}
	}
	fmt.Fprintf(w, "calibrated %d documents in %d languages (quantile %v, mode %s, outliers: beyond %v x IQR on %d thresholds)\n", docs, langs, o.Quantile, o.Mode, o.Fence, o.Outliers)
	for _, lc := range c.Languages {
		if lc.Members != nil {
			fmt.Fprintf(w, "\nscript %s (%s): %d documents", lc.Lang, strings.Join(lc.Members, ", "), lc.Docs)
		} else {
			fmt.Fprintf(w, "\n%s: %d documents sampled", lc.Lang, lc.Docs)
		}
		if lc.Seen > lc.Docs {
			fmt.Fprintf(w, " (of %d)", lc.Seen)
		}
		fmt.Fprintf(w, "; removed by any rule: %d before, %d after calibration", lc.RemovedBefore, lc.RemovedAfter)
		if lc.Outliers > 0 {
			fmt.Fprintf(w, "; %d outliers left out", lc.Outliers)
		}
		if lc.Skipped {
			fmt.Fprintf(w, "; not calibrated: fewer than %d documents", o.MinDocs)
			if sc := lang.LabelScript(lc.Lang); lc.Members == nil && scriptOK[sc] {
				fmt.Fprintf(w, " (the %s entry serves it)", sc)
			}
		}
		fmt.Fprintln(w)
		if len(lc.StopWords) > 0 {
			fmt.Fprintf(w, "  stop words: %s\n", strings.Join(lc.StopWords, " "))
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  rule\tthreshold\tremoved\t")
		for _, r := range lc.Rules {
			changed := r.Before != r.After || r.OffBefore != r.OffAfter
			if !changed && r.RemovedBefore == 0 && r.RemovedAfter == 0 {
				continue
			}
			fmt.Fprintf(tw, "  %s.%s\t%s\t%d -> %d\t\n", r.Kind, r.Rule, r.thresholds(), r.RemovedBefore, r.RemovedAfter)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func (r *RuleResult) thresholds() string {
	show := func(off bool, t float64) string {
		if off {
			return "off"
		}
		if r.Key == "" {
			return "on"
		}
		return formatNum(t, r.Int)
	}
	b, a := show(r.OffBefore, r.Before), show(r.OffAfter, r.After)
	prefix := ""
	if r.Key != "" {
		prefix = r.Key + " "
	}
	if a == b {
		return prefix + b
	}
	return prefix + b + " -> " + a
}
