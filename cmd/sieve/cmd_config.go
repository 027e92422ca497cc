package main

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"

	"github.com/sieve-data/sieve/formats"
	"github.com/sieve-data/sieve/pipeline"
)

// defaultStageOrder is the order of the embedded default pipeline: cheap, high-yield stages
// first. Kinds not registered in this build are left out.
var defaultStageOrder = []string{"normalize", "length", "langid", "exact_dedup", "minhash_dedup", "gopher_quality", "gopher_repetition", "c4_quality", "fineweb_quality", "toxicity", "pii"}

// defaultStageSkip lists kinds left out of the default pipeline because they need files
// only the user can provide.
var defaultStageSkip = map[string]bool{"toxicity": true}

// defaultPipelineYAML is the pipeline `sieve run INPUT... -o DIR` runs: every registered
// stage in defaultStageOrder with its defaults.
func defaultPipelineYAML() string {
	reg := pipeline.DefaultRegistry()
	var b strings.Builder
	b.WriteString("# sieve default pipeline: every stage with its defaults. Edit and run with\n# sieve run -c FILE\n")
	b.WriteString("inputs: []          # e.g. [{path: corpus/*.jsonl.zst, text_field: text}]\n")
	b.WriteString("stages:\n")
	for _, kind := range defaultStageOrder {
		spec, ok := reg.Lookup(kind)
		if !ok || defaultStageSkip[kind] {
			continue
		}
		b.WriteString("  - " + kind + ":")
		params := yamlIndent(spec.Config(), 6)
		if strings.TrimSpace(params) == "{}" {
			b.WriteString(" {}\n")
		} else {
			b.WriteString("\n" + params)
		}
	}
	def := pipeline.Default()
	def.Output.Dir = "out"
	b.WriteString("output:\n" + yamlIndent(&def.Output, 2))
	b.WriteString("rejects:\n" + yamlIndent(&def.Rejects, 2))
	b.WriteString("workers: 0          # 0 = number of CPUs\n")
	fmt.Fprintf(&b, "batch_size: %d\n", def.BatchSize)
	return b.String()
}

func yamlIndent(v any, n int) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return strings.Repeat(" ", n) + "# " + err.Error() + "\n"
	}
	pad := strings.Repeat(" ", n)
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		b.WriteString(pad + line + "\n")
	}
	return b.String()
}

func configCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "print configurations",
		Subcommands: []*cli.Command{{
			Name:  "default",
			Usage: "print the embedded default pipeline as YAML, to start from",
			Action: func(c *cli.Context) error {
				_, err := fmt.Fprint(c.App.Writer, defaultPipelineYAML())
				return err
			},
		}},
	}
}

func lintCommand() *cli.Command {
	return &cli.Command{
		Name:      "lint",
		Usage:     "check pipeline files: every problem with file:line:col; input paths must exist",
		ArgsUsage: "FILE...",
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return cli.Exit("usage: sieve lint FILE...", 2)
			}
			bad := 0
			for _, path := range c.Args().Slice() {
				cfg, err := pipeline.LoadFile(path, pipeline.DefaultRegistry())
				if err == nil {
					for _, in := range cfg.Inputs {
						if _, xerr := formats.ExpandInputs(&in, ""); xerr != nil {
							err = pipeline.ConfigErrors{{File: path, Line: in.Line, Col: 1, Path: "inputs", Msg: xerr.Error()}}
							break
						}
					}
				}
				if err != nil {
					bad++
					fmt.Fprintln(c.App.ErrWriter, err)
					continue
				}
				fmt.Fprintf(c.App.Writer, "%s: ok (%d inputs, %d stages)\n", path, len(cfg.Inputs), len(cfg.Stages))
			}
			if bad > 0 {
				return cli.Exit("", 2)
			}
			return nil
		},
	}
}

func stagesCommand() *cli.Command {
	return &cli.Command{
		Name:  "stages",
		Usage: "list every stage kind with its parameters, defaults and an example",
		Action: func(c *cli.Context) error {
			reg := pipeline.DefaultRegistry()
			w := c.App.Writer
			for _, kind := range reg.Kinds() {
				spec, _ := reg.Lookup(kind)
				fmt.Fprintf(w, "%s (%s)\n  %s\n", kind, spec.Mode, spec.Summary)
				cfg := spec.Config()
				v := reflect.ValueOf(cfg).Elem()
				for i := 0; i < v.NumField(); i++ {
					f := v.Type().Field(i)
					name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
					if name == "" || name == "-" {
						continue
					}
					fmt.Fprintf(w, "    %-22s %-10s default %-14s %s\n", name, typeName(f.Type), flowYAML(v.Field(i).Interface()), f.Tag.Get("doc"))
				}
				fmt.Fprintf(w, "  example:\n    - %s: %s\n\n", kind, spec.Example)
			}
			return nil
		},
	}
}

// flowYAML renders v on one line in YAML flow style.
func flowYAML(v any) string {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return "?"
	}
	var setFlow func(*yaml.Node)
	setFlow = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
			n.Style = yaml.FlowStyle
		}
		for _, c := range n.Content {
			setFlow(c)
		}
	}
	setFlow(&n)
	out, err := yaml.Marshal(&n)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice:
		return "list"
	case reflect.Map:
		return "map"
	case reflect.Struct:
		return "object"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint64:
		return "integer"
	}
	return t.Kind().String()
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the sieve version",
		Action: func(c *cli.Context) error {
			_, err := fmt.Fprintf(c.App.Writer, "sieve %s\n", Version)
			return err
		},
	}
}

func sortedReasons(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
