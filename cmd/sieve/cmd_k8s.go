package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"

	"github.com/sieve-data/sieve/pipeline"
)

func init() { extraCommands = append(extraCommands, k8sCommand) }

func k8sCommand() *cli.Command {
	return &cli.Command{
		Name:  "k8s",
		Usage: "write Kubernetes Indexed Job manifests for a run split into N tasks (one Job per phase) and a script that applies them in order",
		Description: "Writes RUN_DIR/k8s/NN-<phase>.yaml, one Indexed Job per phase (completions = the phase's tasks;\n" +
			"each pod runs its task from $JOB_COMPLETION_INDEX), and RUN_DIR/k8s/run.sh, which applies the Jobs\n" +
			"in order and waits for each to complete before the next (Kubernetes has no dependencies between\n" +
			"Jobs). The pods must see the config, the inputs and the run directory at the same paths as here:\n" +
			"mount a shared volume (--pvc) at --mount, by default the current directory.",
		Flags: append(planFlags(),
			&cli.StringFlag{Name: "image", Value: "sieve:latest", Usage: "container `IMAGE` holding the sieve binary"},
			&cli.StringFlag{Name: "sieve", Value: "sieve", Usage: "path of the sieve binary in the image"},
			&cli.StringFlag{Name: "namespace", Usage: "namespace of the Jobs"},
			&cli.StringFlag{Name: "pvc", Usage: "PersistentVolumeClaim holding config, inputs and run directory"},
			&cli.StringFlag{Name: "mount", Usage: "where the volume is mounted in the pods (default: the current directory)"},
			&cli.IntFlag{Name: "parallelism", Usage: "pods of a phase running at once (default: all)"},
			&cli.StringFlag{Name: "cpu", Usage: "CPU request and limit per pod, e.g. 4; also the workers of each task"},
			&cli.StringFlag{Name: "memory", Usage: "memory request and limit per pod, e.g. 8Gi"},
			&cli.IntFlag{Name: "backoff-limit", Value: 3, Usage: "retries per index (a retried task resumes: finished work is kept)"},
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
			js.sieve = c.String("sieve")
			dir := filepath.Join(js.runDir, "k8s")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return cli.Exit(err.Error(), 1)
			}
			base := dnsLabel("sieve-" + filepath.Base(js.runDir))
			var files []string
			for k, ph := range p.Phases {
				m := js.indexedJob(c, base, ph)
				b, err := yaml.Marshal(m)
				if err != nil {
					return cli.Exit(err.Error(), 1)
				}
				f := filepath.Join(dir, fmt.Sprintf("%02d-%s.yaml", k, ph.Name))
				if err := os.WriteFile(f, b, 0o644); err != nil {
					return cli.Exit(err.Error(), 1)
				}
				files = append(files, f)
			}
			ns := ""
			if v := c.String("namespace"); v != "" {
				ns = " -n " + shellQuote(v)
			}
			var run strings.Builder
			run.WriteString("#!/bin/bash\n# Applies the sieve run's Jobs in order, each after the one before completed. Written by sieve k8s.\n# A failed phase stops here; fix the cause, delete its Job and run this again: finished tasks are skipped.\nset -euo pipefail\n")
			fmt.Fprintf(&run, "wait_job() {\n  while :; do\n    s=$(kubectl%s get job \"$1\" -o 'jsonpath={.status.conditions[?(@.status==\"True\")].type}')\n", ns)
			run.WriteString("    case \"$s\" in *Complete*) return 0 ;; *Failed*) echo \"job $1 failed\" >&2; return 1 ;; esac\n    sleep 10\n  done\n}\n")
			for k, ph := range p.Phases {
				name := fmt.Sprintf("%s-%s", base, dnsLabel(ph.Name))
				fmt.Fprintf(&run, "kubectl%s apply -f %s\nwait_job %s\necho 'phase %s complete'\n", ns, shellQuote(files[k]), name, ph.Name)
			}
			runPath := filepath.Join(dir, "run.sh")
			if err := os.WriteFile(runPath, []byte(run.String()), 0o755); err != nil {
				return cli.Exit(err.Error(), 1)
			}
			fmt.Fprintf(c.App.Writer, "wrote %d Indexed Job manifests and %s\n", len(files), runPath)
			printPlan(c.App.ErrWriter, p)
			return nil
		},
	}
}

// k8s object shapes, with the fields in the order kubectl prints them.
type (
	k8sJob struct {
		APIVersion string  `yaml:"apiVersion"`
		Kind       string  `yaml:"kind"`
		Metadata   k8sMeta `yaml:"metadata"`
		Spec       struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Parallelism    int    `yaml:"parallelism"`
			BackoffLimit   int    `yaml:"backoffLimitPerIndex"`
			MaxFailed      int    `yaml:"maxFailedIndexes"`
			Template       struct {
				Metadata k8sMeta `yaml:"metadata"`
				Spec     struct {
					RestartPolicy string         `yaml:"restartPolicy"`
					Containers    []k8sContainer `yaml:"containers"`
					Volumes       []k8sVolume    `yaml:"volumes,omitempty"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	k8sMeta struct {
		Name      string            `yaml:"name,omitempty"`
		Namespace string            `yaml:"namespace,omitempty"`
		Labels    map[string]string `yaml:"labels,omitempty"`
	}
	k8sContainer struct {
		Name         string           `yaml:"name"`
		Image        string           `yaml:"image"`
		Command      []string         `yaml:"command"`
		WorkingDir   string           `yaml:"workingDir"`
		Resources    *k8sResources    `yaml:"resources,omitempty"`
		VolumeMounts []k8sVolumeMount `yaml:"volumeMounts,omitempty"`
	}
	k8sResources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	}
	k8sVolumeMount struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	}
	k8sVolume struct {
		Name string `yaml:"name"`
		PVC  struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	}
)

func (js *jobSpec) indexedJob(c *cli.Context, base string, ph pipeline.PhaseInfo) *k8sJob {
	j := &k8sJob{APIVersion: "batch/v1", Kind: "Job"}
	labels := map[string]string{"app.kubernetes.io/name": "sieve", "sieve/run": base, "sieve/phase": dnsLabel(ph.Name)}
	j.Metadata = k8sMeta{Name: base + "-" + dnsLabel(ph.Name), Namespace: c.String("namespace"), Labels: labels}
	j.Spec.CompletionMode = "Indexed"
	j.Spec.Completions = ph.Tasks
	j.Spec.Parallelism = ph.Tasks
	if p := c.Int("parallelism"); p > 0 && p < ph.Tasks {
		j.Spec.Parallelism = p
	}
	j.Spec.BackoffLimit = c.Int("backoff-limit")
	j.Spec.MaxFailed = 0 // an index that fails all its retries fails the phase
	j.Spec.Template.Metadata = k8sMeta{Labels: labels}
	j.Spec.Template.Spec.RestartPolicy = "Never"
	workers := js.workers
	cmd := []string{js.sieve, "run", "-c", js.config, "-o", js.runDir, "--phase", ph.Name}
	if ph.Kind != pipeline.PhaseMerge {
		// The task index comes from $JOB_COMPLETION_INDEX, which Indexed Jobs set.
		cmd = append(cmd, "--task-count", fmt.Sprint(ph.Tasks))
	}
	if js.split != "" {
		cmd = append(cmd, "--split-bytes", js.split)
	}
	ct := k8sContainer{Name: "sieve", Image: c.String("image"), Command: cmd, WorkingDir: js.workDir}
	if cpu, mem := c.String("cpu"), c.String("memory"); cpu != "" || mem != "" {
		ct.Resources = &k8sResources{Requests: map[string]string{}, Limits: map[string]string{}}
		if cpu != "" {
			ct.Resources.Requests["cpu"], ct.Resources.Limits["cpu"] = cpu, cpu
			if n, err := fmt.Sscanf(cpu, "%d", &workers); n == 1 && err == nil && workers > 0 {
				ct.Command = append(ct.Command, "--workers", fmt.Sprint(workers))
			}
		}
		if mem != "" {
			ct.Resources.Requests["memory"], ct.Resources.Limits["memory"] = mem, mem
		}
	} else if workers > 0 {
		ct.Command = append(ct.Command, "--workers", fmt.Sprint(workers))
	}
	if pvc := c.String("pvc"); pvc != "" {
		mount := c.String("mount")
		if mount == "" {
			mount = js.workDir
		}
		ct.VolumeMounts = []k8sVolumeMount{{Name: "data", MountPath: mount}}
		v := k8sVolume{Name: "data"}
		v.PVC.ClaimName = pvc
		j.Spec.Template.Spec.Volumes = []k8sVolume{v}
	}
	j.Spec.Template.Spec.Containers = []k8sContainer{ct}
	return j
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsLabel turns s into a Kubernetes name: lower case letters, digits and '-', at most 50
// characters (room for the phase suffix and the pods' own suffixes).
func dnsLabel(s string) string {
	s = strings.Trim(notDNS.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 50 {
		s = strings.TrimRight(s[:50], "-")
	}
	if s == "" {
		s = "sieve"
	}
	return s
}
