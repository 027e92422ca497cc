package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/sieve-data/sieve/pipeline"
)

func init() { extraCommands = append(extraCommands, planCommand) }

// planFlags are shared by plan, slurm and k8s.
func planFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "pipeline YAML `FILE`", Required: true},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "run `DIR` (overrides output.dir)"},
		&cli.IntFlag{Name: "task-count", Aliases: []string{"tasks", "n"}, Value: 1, Usage: "split the run into `N` tasks"},
		&cli.StringFlag{Name: "split-bytes", Usage: "split uncompressed JSONL and line-mode text files larger than `SIZE` into byte ranges (default: automatic)"},
		&cli.IntFlag{Name: "workers", Aliases: []string{"w"}, Value: -1, Usage: "workers per task (overrides workers)"},
	}
}

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "print the phases of a run split into N tasks, with their task counts and how the input is split",
		Description: "A pipeline without a stage that needs every document runs as one input pass (process) and a\n" +
			"merge. A stage that does (minhash_dedup in mode sharded, or auto with more than one task) adds its\n" +
			"phases: a shard pass over the input (signatures), its global phases (buckets, clusters), and the\n" +
			"final pass becomes filter. Run one task with sieve run -c FILE --phase NAME --task-index I\n" +
			"--task-count TASKS, each phase after the previous one has finished, and merge last.",
		Flags: append(planFlags(),
			&cli.BoolFlag{Name: "write", Usage: "store the plan in the run directory (tasks/plan.json), so the first phase's tasks need not each split the input"},
			&cli.BoolFlag{Name: "json", Usage: "print the plan as JSON"},
		),
		Action: func(c *cli.Context) error {
			p, err := loadPlan(c, c.Bool("write"))
			if err != nil {
				return err
			}
			if c.Bool("json") {
				b, _ := json.MarshalIndent(p, "", "  ")
				fmt.Fprintln(c.App.Writer, string(b))
				return nil
			}
			printPlan(c.App.Writer, p)
			return nil
		},
	}
}

// loadPlan loads the config named by the flags and computes its plan.
func loadPlan(c *cli.Context, write bool) (*pipeline.RunPlan, error) {
	cfg, text, err := loadRunConfig(c)
	if err != nil {
		return nil, err
	}
	var split int64
	if s := c.String("split-bytes"); s != "" {
		if split, err = parseBytes(s); err != nil {
			return nil, cli.Exit("--split-bytes: "+err.Error(), 2)
		}
	}
	opt := runOptions(c, text)
	opt.Logger = nil
	p, err := pipeline.PlanRun(c.Context, cfg, opt, c.Int("task-count"), split, write)
	if err != nil {
		return nil, runError(err)
	}
	return p, nil
}

func printPlan(w io.Writer, p *pipeline.RunPlan) {
	var total int64
	for _, f := range p.Files {
		total += max(f.Size, 0)
	}
	fmt.Fprintf(w, "%s; input: %s, %s, in %s", plural(p.Tasks, "task"), plural(len(p.Files), "file"), humanBytes(total), plural(len(p.Units), "unit"))
	if p.UnitBytes > 0 {
		fmt.Fprintf(w, " (files over %s split into whole lines, records, row groups or batches)", humanBytes(p.UnitBytes))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PHASE\tTASKS\tWHAT")
	for _, ph := range p.Phases {
		what := ""
		switch {
		case ph.Kind == pipeline.PhaseMerge:
			what = "builds the run directory from the tasks' outputs (sieve merge DIR)"
		case ph.Kind == pipeline.PhaseInput && ph.Target >= 0:
			what = "reads the input; writes the shards of " + ph.Stage
		case ph.Kind == pipeline.PhaseInput:
			what = "reads the input; writes the dataset"
		default:
			what = ph.Stage + ": works on the files of the phase before"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", ph.Name, ph.Tasks, what)
	}
	tw.Flush()
	if p.Tasks > 1 {
		lo, hi := int64(-1), int64(0)
		for t := 0; t < p.Tasks; t++ {
			b := p.TaskBytes(t)
			if lo < 0 || b < lo {
				lo = b
			}
			hi = max(hi, b)
		}
		fmt.Fprintf(w, "input per task: %s to %s\n", humanBytes(lo), humanBytes(hi))
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
