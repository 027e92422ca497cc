package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// fakeSbatch puts on PATH an sbatch that logs its arguments and prints job ids 101, 102, ...
func fakeSbatch(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	log := filepath.Join(bin, "calls")
	script := "#!/bin/sh\nn=$(( $(cat " + log + ".n 2>/dev/null || echo 100) + 1 ))\necho $n > " + log + ".n\necho \"$*\" >> " + log + "\necho \"$n;cluster\"\n"
	if err := os.WriteFile(filepath.Join(bin, "sbatch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return log
}

// sieve slurm writes one script per phase and submits arrays no larger than the limit,
// each phase depending on every array of the phase before; submit.sh does the same.
func TestSlurmScripts(t *testing.T) {
	dir := t.TempDir()
	inputs := writeTaskCorpus(t, dir, 300, 9)
	cfg := writeConfig(t, dir, "p.yaml", inputs+strings.Replace(taskStages, "MODE", "", 1))
	out := filepath.Join(dir, "run")
	log := fakeSbatch(t)
	code, stdout, stderr := sieve(t, "slurm", "-c", cfg, "-o", out, "--task-count", "2500", "--max-array-size", "1000",
		"--cpus-per-task", "4", "--time", "2:00:00", "--sbatch-option", "--account=lrl", "--submit")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	calls, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSpace(string(calls)), "\n")
	want := []string{
		"--parsable --kill-on-invalid-dep=yes --array=0-999 --export=ALL,SIEVE_TASK_OFFSET=0 " + out + "/slurm/00-signatures.sbatch",
		"--parsable --kill-on-invalid-dep=yes --array=0-999 --export=ALL,SIEVE_TASK_OFFSET=1000 " + out + "/slurm/00-signatures.sbatch",
		"--parsable --kill-on-invalid-dep=yes --array=0-499 --export=ALL,SIEVE_TASK_OFFSET=2000 " + out + "/slurm/00-signatures.sbatch",
		"--parsable --kill-on-invalid-dep=yes --dependency=afterok:101:102:103 --array=0-13 --export=ALL,SIEVE_TASK_OFFSET=0 " + out + "/slurm/01-buckets.sbatch",
		"--parsable --kill-on-invalid-dep=yes --dependency=afterok:104 " + out + "/slurm/02-clusters.sbatch",
		"--parsable --kill-on-invalid-dep=yes --dependency=afterok:105 --array=0-999 --export=ALL,SIEVE_TASK_OFFSET=0 " + out + "/slurm/03-filter.sbatch",
		"--parsable --kill-on-invalid-dep=yes --dependency=afterok:105 --array=0-999 --export=ALL,SIEVE_TASK_OFFSET=1000 " + out + "/slurm/03-filter.sbatch",
		"--parsable --kill-on-invalid-dep=yes --dependency=afterok:105 --array=0-499 --export=ALL,SIEVE_TASK_OFFSET=2000 " + out + "/slurm/03-filter.sbatch",
		"--parsable --kill-on-invalid-dep=yes --dependency=afterok:106:107:108 " + out + "/slurm/04-merge.sbatch",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("sbatch calls:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(stdout, "merge: 109") {
		t.Errorf("stdout does not list the job ids: %s", stdout)
	}
	sig, _ := os.ReadFile(filepath.Join(out, "slurm", "00-signatures.sbatch"))
	for _, w := range []string{"#SBATCH --cpus-per-task=4", "#SBATCH --time=2:00:00", "#SBATCH --account=lrl", "--phase signatures",
		`--task-index "$(( SLURM_ARRAY_TASK_ID + ${SIEVE_TASK_OFFSET:-0} ))" --task-count 2500`, "--workers 4"} {
		if !strings.Contains(string(sig), w) {
			t.Errorf("00-signatures.sbatch lacks %q:\n%s", w, sig)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "tasks", "plan.json")); err != nil {
		t.Errorf("the plan was not stored: %v", err)
	}

	// submit.sh makes the same calls.
	os.Remove(log)
	os.Remove(log + ".n")
	if b, err := exec.Command("bash", filepath.Join(out, "slurm", "submit.sh")).CombinedOutput(); err != nil {
		t.Fatalf("submit.sh: %v\n%s", err, b)
	}
	calls, _ = os.ReadFile(log)
	if got := strings.TrimSpace(string(calls)); got != strings.Join(want, "\n") {
		t.Errorf("submit.sh calls:\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}

	// Running a generated script runs the task it names (here task 1 of a 2-task run).
	out2 := filepath.Join(dir, "run2")
	mustRun(t, "slurm", "-c", cfg, "-o", out2, "--task-count", "2", "--sieve", sieveBinary(t))
	cmd := exec.Command("bash", filepath.Join(out2, "slurm", "00-signatures.sbatch"))
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=1", "SIEVE_TASK_OFFSET=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("00-signatures.sbatch: %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(out2, "tasks", "signatures", "00001-of-00002.done.json")); err != nil {
		t.Errorf("the script did not run task 1: %v", err)
	}
}

// sieve k8s writes one Indexed Job per phase with the phase's completions and a script that
// applies them in order.
func TestK8sManifests(t *testing.T) {
	dir := t.TempDir()
	inputs := writeTaskCorpus(t, dir, 300, 10)
	cfg := writeConfig(t, dir, "p.yaml", inputs+strings.Replace(taskStages, "MODE", "", 1))
	out := filepath.Join(dir, "My Run")
	mustRun(t, "k8s", "-c", cfg, "-o", out, "--task-count", "6", "--image", "ghcr.io/x/sieve:1", "--pvc", "corpus", "--cpu", "2", "--memory", "4Gi")
	files, _ := filepath.Glob(filepath.Join(out, "k8s", "*.yaml"))
	if len(files) != 5 {
		t.Fatalf("%d manifests: %v", len(files), files)
	}
	var job struct {
		Kind     string
		Metadata struct{ Name string }
		Spec     struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int
			Template       struct {
				Spec struct {
					Containers []struct {
						Image   string
						Command []string
					}
					Volumes []struct {
						PersistentVolumeClaim struct {
							ClaimName string `yaml:"claimName"`
						} `yaml:"persistentVolumeClaim"`
					}
				}
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join(out, "k8s", "01-buckets.yaml"))
	if err := yaml.Unmarshal(b, &job); err != nil {
		t.Fatal(err)
	}
	c := job.Spec.Template.Spec.Containers[0]
	cmd := strings.Join(c.Command, " ")
	if job.Kind != "Job" || job.Metadata.Name != "sieve-my-run-buckets" || job.Spec.CompletionMode != "Indexed" || job.Spec.Completions != 6 ||
		c.Image != "ghcr.io/x/sieve:1" || !strings.Contains(cmd, "--phase buckets --task-count 6") || !strings.Contains(cmd, "--workers 2") ||
		strings.Contains(cmd, "--task-index") || job.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "corpus" {
		t.Errorf("01-buckets.yaml:\n%s", b)
	}
	run, _ := os.ReadFile(filepath.Join(out, "k8s", "run.sh"))
	order := []string{"00-signatures.yaml", "01-buckets.yaml", "02-clusters.yaml", "03-filter.yaml", "04-merge.yaml"}
	last := -1
	for _, f := range order {
		i := strings.Index(string(run), f)
		if i < last {
			t.Errorf("run.sh applies %s out of order", f)
		}
		last = i
	}
}
