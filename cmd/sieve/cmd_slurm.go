package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sieve-data/sieve/pipeline"
)

func init() { extraCommands = append(extraCommands, slurmCommand) }

func slurmCommand() *cli.Command {
	return &cli.Command{
		Name:  "slurm",
		Usage: "write sbatch scripts for a run split into N tasks (one job array per phase, chained with afterok), and optionally submit them",
		Description: "Writes RUN_DIR/slurm/NN-<phase>.sbatch for every phase and RUN_DIR/slurm/submit.sh, which submits\n" +
			"them in order, each phase's jobs depending (afterok) on all jobs of the phase before. A phase of\n" +
			"more tasks than --max-array-size is submitted as several arrays; each task finds its index from\n" +
			"SLURM_ARRAY_TASK_ID plus SIEVE_TASK_OFFSET. The plan is stored in RUN_DIR/tasks/plan.json now, so\n" +
			"tasks do not each split the input. With --submit, sieve runs sbatch itself and prints the job ids.\n" +
			"Rerunning the submission after a failure skips the tasks that finished.",
		Flags: append(planFlags(),
			&cli.IntFlag{Name: "max-array-size", Value: 1000, Usage: "largest job array to submit (the cluster's MaxArraySize - 1)"},
			&cli.IntFlag{Name: "array-parallel", Usage: "run at most `K` tasks of an array at once (sbatch --array=...%K)"},
			&cli.StringFlag{Name: "partition", Aliases: []string{"p"}, Usage: "sbatch --partition"},
			&cli.StringFlag{Name: "time", Usage: "sbatch --time limit per task, e.g. 4:00:00"},
			&cli.StringFlag{Name: "mem", Usage: "sbatch --mem per task, e.g. 8G"},
			&cli.IntFlag{Name: "cpus-per-task", Usage: "sbatch --cpus-per-task; also the workers of each task"},
			&cli.StringSliceFlag{Name: "sbatch-option", Usage: "extra `#SBATCH` line, e.g. --account=abc (repeatable)"},
			&cli.StringFlag{Name: "sieve", Usage: "path of the sieve `BINARY` on the compute nodes (default: this one)"},
			&cli.BoolFlag{Name: "submit", Usage: "submit the jobs with sbatch and print their ids"},
		),
		Action: func(c *cli.Context) error {
			p, err := loadPlan(c, true)
			if err != nil {
				return err
			}
			cfg, _, err := loadRunConfig(c)
			if err != nil {
				return err
			}
			js, err := newJobSpec(c, cfg, p)
			if err != nil {
				return err
			}
			dir := filepath.Join(js.runDir, "slurm")
			if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
				return cli.Exit(err.Error(), 1)
			}
			maxArray := c.Int("max-array-size")
			if maxArray < 1 {
				return cli.Exit("--max-array-size must be at least 1", 2)
			}
			var subs []slurmSubmission
			for k, ph := range p.Phases {
				script := filepath.Join(dir, fmt.Sprintf("%02d-%s.sbatch", k, ph.Name))
				if err := os.WriteFile(script, []byte(js.sbatchScript(c, ph, dir)), 0o755); err != nil {
					return cli.Exit(err.Error(), 1)
				}
				subs = append(subs, slurmSubmission{phase: ph, script: script, chunks: arrayChunks(ph.Tasks, maxArray)})
			}
			submit := filepath.Join(dir, "submit.sh")
			if err := os.WriteFile(submit, []byte(submitScript(subs, c.Int("array-parallel"))), 0o755); err != nil {
				return cli.Exit(err.Error(), 1)
			}
			w := c.App.Writer
			fmt.Fprintf(w, "wrote %d sbatch scripts and %s\n", len(subs), submit)
			printPlan(c.App.ErrWriter, p)
			if !c.Bool("submit") {
				fmt.Fprintf(w, "submit with: %s (or sieve slurm ... --submit)\n", submit)
				return nil
			}
			ids, err := submitSlurm(c.Context, subs, c.Int("array-parallel"))
			for i, s := range subs {
				if i < len(ids) {
					fmt.Fprintf(w, "%s: %s\n", s.phase.Name, strings.Join(ids[i], " "))
				}
			}
			if err != nil {
				return cli.Exit(err.Error(), 1)
			}
			last := ids[len(ids)-1]
			fmt.Fprintf(w, "submitted; the run is complete when job %s finishes: sieve verify %s\n", last[len(last)-1], js.runDir)
			return nil
		},
	}
}

// jobSpec is what every generated job needs: absolute paths and the shared arguments.
type jobSpec struct {
	sieve, config, runDir, workDir string
	split                          string
	workers                        int
}

func newJobSpec(c *cli.Context, cfg *pipeline.Config, p *pipeline.RunPlan) (*jobSpec, error) {
	js := &jobSpec{split: c.String("split-bytes"), workers: c.Int("cpus-per-task")}
	var err error
	if js.workDir, err = os.Getwd(); err != nil {
		return nil, cli.Exit(err.Error(), 1)
	}
	if js.config, err = filepath.Abs(c.String("config")); err != nil {
		return nil, cli.Exit(err.Error(), 1)
	}
	if js.runDir, err = filepath.Abs(cfg.Output.Dir); err != nil {
		return nil, cli.Exit(err.Error(), 1)
	}
	js.sieve = c.String("sieve")
	if js.sieve == "" {
		if js.sieve, err = os.Executable(); err != nil {
			return nil, cli.Exit("cannot tell where this sieve binary is; give --sieve PATH", 2)
		}
	}
	if js.workers == 0 && c.IsSet("workers") {
		js.workers = c.Int("workers")
	}
	return js, nil
}

// runArgs is the sieve command line of one task of phase ph; index is a shell expression.
func (js *jobSpec) runArgs(ph pipeline.PhaseInfo, index string) []string {
	args := []string{shellQuote(js.sieve), "run", "-c", shellQuote(js.config), "-o", shellQuote(js.runDir), "--phase", ph.Name}
	if ph.Kind != pipeline.PhaseMerge {
		args = append(args, "--task-index", index, "--task-count", strconv.Itoa(ph.Tasks))
	}
	if js.split != "" {
		args = append(args, "--split-bytes", shellQuote(js.split))
	}
	if js.workers > 0 {
		args = append(args, "--workers", strconv.Itoa(js.workers))
	}
	return args
}

func (js *jobSpec) sbatchScript(c *cli.Context, ph pipeline.PhaseInfo, dir string) string {
	var b strings.Builder
	array := ph.Tasks > 1
	b.WriteString("#!/bin/bash\n")
	fmt.Fprintf(&b, "#SBATCH --job-name=sieve-%s\n", ph.Name)
	logName := ph.Name + "-%j.log"
	if array {
		logName = ph.Name + "-%A_%a.log"
	}
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", filepath.Join(dir, "logs", logName))
	fmt.Fprintf(&b, "#SBATCH --ntasks=1\n")
	if n := c.Int("cpus-per-task"); n > 0 {
		fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", n)
	}
	for _, f := range []string{"partition", "time", "mem"} {
		if v := c.String(f); v != "" {
			fmt.Fprintf(&b, "#SBATCH --%s=%s\n", f, v)
		}
	}
	for _, o := range c.StringSlice("sbatch-option") {
		fmt.Fprintf(&b, "#SBATCH %s\n", o)
	}
	fmt.Fprintf(&b, "# sieve phase %s: %d task(s); submit.sh gives the array range and SIEVE_TASK_OFFSET\n", ph.Name, ph.Tasks)
	b.WriteString("set -euo pipefail\n")
	fmt.Fprintf(&b, "cd %s\n", shellQuote(js.workDir))
	index := "0"
	if array {
		index = `"$(( SLURM_ARRAY_TASK_ID + ${SIEVE_TASK_OFFSET:-0} ))"`
	}
	fmt.Fprintf(&b, "exec %s\n", strings.Join(js.runArgs(ph, index), " "))
	return b.String()
}

// slurmSubmission is one phase's script and its arrays.
type slurmSubmission struct {
	phase  pipeline.PhaseInfo
	script string
	chunks [][2]int // [offset, count]
}

// arrayChunks splits n tasks into arrays of at most max.
func arrayChunks(n, max int) [][2]int {
	var out [][2]int
	for off := 0; off < n; off += max {
		out = append(out, [2]int{off, min(max, n-off)})
	}
	return out
}

// sbatchArgs are the sbatch arguments of one chunk, after the dependency.
func sbatchArgs(s slurmSubmission, chunk [2]int, parallel int) []string {
	var args []string
	if s.phase.Tasks > 1 {
		arr := fmt.Sprintf("--array=0-%d", chunk[1]-1)
		if parallel > 0 {
			arr += fmt.Sprintf("%%%d", parallel)
		}
		args = append(args, arr, fmt.Sprintf("--export=ALL,SIEVE_TASK_OFFSET=%d", chunk[0]))
	}
	return append(args, s.script)
}

func submitScript(subs []slurmSubmission, parallel int) string {
	var b strings.Builder
	b.WriteString("#!/bin/bash\n# Submits every phase of the sieve run in order; each phase's jobs wait (afterok) for all\n# jobs of the phase before. Written by sieve slurm.\nset -euo pipefail\n")
	b.WriteString("submit() { sbatch --parsable --kill-on-invalid-dep=yes \"$@\" | cut -d';' -f1; }\ndeps=\"\"\n")
	for _, s := range subs {
		fmt.Fprintf(&b, "\n# phase %s: %d task(s)\nids=\"\"\n", s.phase.Name, s.phase.Tasks)
		for _, ch := range s.chunks {
			var args []string
			for _, a := range sbatchArgs(s, ch, parallel) {
				args = append(args, shellQuote(a))
			}
			fmt.Fprintf(&b, "id=$(submit ${deps:+--dependency=afterok:$deps} %s)\nids=\"${ids:+$ids:}$id\"\necho \"%s: $id\"\n", strings.Join(args, " "), s.phase.Name)
		}
		b.WriteString("deps=$ids\n")
	}
	return b.String()
}

// submitSlurm submits the phases with sbatch and returns the job ids per phase.
func submitSlurm(ctx context.Context, subs []slurmSubmission, parallel int) ([][]string, error) {
	var out [][]string
	var deps []string
	for _, s := range subs {
		var ids []string
		for _, ch := range s.chunks {
			args := []string{"--parsable", "--kill-on-invalid-dep=yes"}
			if len(deps) > 0 {
				args = append(args, "--dependency=afterok:"+strings.Join(deps, ":"))
			}
			args = append(args, sbatchArgs(s, ch, parallel)...)
			cmd := exec.CommandContext(ctx, "sbatch", args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			b, err := cmd.Output()
			if err != nil {
				return out, fmt.Errorf("sbatch %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
			}
			id, _, _ := strings.Cut(strings.TrimSpace(string(b)), ";")
			if id == "" {
				return out, fmt.Errorf("sbatch %s printed no job id", strings.Join(args, " "))
			}
			ids = append(ids, id)
		}
		out = append(out, ids)
		deps = ids
	}
	return out, nil
}

// shellQuote quotes s for bash when it holds anything but safe characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+%@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
