#!/usr/bin/env bash
# Slurm integration check (issue 8): installs Debian's slurm-wlm and munge, starts munged,
# slurmctld and slurmd on this machine, runs a MinHash pipeline (signatures, buckets,
# clusters, filter, merge) as job arrays of 4 tasks through `sieve slurm --submit`, and
# checks that the result equals a single-process run on the same input (same kept ids in
# the same order, same stats) and passes `sieve verify`.
#
# Exits 0 with a line starting "slurm check skipped:" when the packages cannot be installed
# (not root, no network) or the daemons do not come up within SLURM_CHECK_START_TIMEOUT
# seconds (default 90): CI machines without the rights to run daemons are not failures.
# Exits 1 when Slurm ran and sieve's result is wrong. Budget: about 2-4 minutes on 2 cores,
# most of it apt-get. Everything it starts is stopped on exit; files go under a temporary
# directory.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
START_TIMEOUT=${SLURM_CHECK_START_TIMEOUT:-90}
RUN_TIMEOUT=${SLURM_CHECK_RUN_TIMEOUT:-300}

say() { printf 'slurm check: %s\n' "$*"; }
skip() {
	printf 'slurm check skipped: %s\n' "$*"
	passed=1
	exit 0
}
fail() { printf 'slurm check FAILED: %s\n' "$*"; exit 1; }

WORK=$(mktemp -d /tmp/sieve-slurm-check.XXXXXX)
STATE=$WORK/state
mkdir -p "$STATE/ctld" "$STATE/d"
started=()
passed=""
cleanup() {
	if command -v scancel >/dev/null 2>&1 && [ -n "${SLURM_CONF:-}" ]; then
		scancel --user="$(id -un)" >/dev/null 2>&1 || true
	fi
	local pids=()
	for pidfile in "${started[@]}"; do
		if [ -s "$pidfile" ]; then
			pids+=("$(cat "$pidfile")")
		fi
	done
	if [ ${#pids[@]} -gt 0 ]; then
		kill "${pids[@]}" 2>/dev/null || true
		for _ in $(seq 20); do
			kill -0 "${pids[@]}" 2>/dev/null || break
			sleep 0.5
		done
	fi
	if [ -n "$passed" ]; then
		rm -rf "$WORK"
	else
		echo "slurm check: files kept in $WORK"
	fi
}
trap cleanup EXIT

# 1. Packages.
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
	[ "$(id -u)" = 0 ] || skip "slurm-wlm and munge are not installed and installing them needs root"
	command -v apt-get >/dev/null 2>&1 || skip "slurm-wlm and munge are not installed and there is no apt-get"
	say "installing slurm-wlm and munge (log: /tmp/sieve-slurm-apt.log)"
	if ! timeout 420 bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge' >/tmp/sieve-slurm-apt.log 2>&1; then
		tail -5 /tmp/sieve-slurm-apt.log
		skip "could not install slurm-wlm and munge (see /tmp/sieve-slurm-apt.log)"
	fi
fi
[ "$(id -u)" = 0 ] || skip "starting munged, slurmctld and slurmd here needs root"

# 2. munge: a key, then the daemon.
MUNGE_SOCKET=$STATE/munge.socket
mkdir -p /etc/munge
if [ ! -s /etc/munge/munge.key ]; then
	mungekey --create --keyfile=/etc/munge/munge.key >/dev/null 2>&1 ||
		dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key
chown root:root /etc/munge /etc/munge/munge.key 2>/dev/null || true
munged --force --socket="$MUNGE_SOCKET" --pid-file="$STATE/munged.pid" --log-file="$STATE/munged.log" \
	--seed-file="$STATE/munged.seed" --key-file=/etc/munge/munge.key >"$STATE/munged.out" 2>&1 ||
	{ cat "$STATE/munged.out"; skip "munged does not start"; }
started+=("$STATE/munged.pid")
munge -n --socket="$MUNGE_SOCKET" | unmunge --socket="$MUNGE_SOCKET" >/dev/null 2>&1 || skip "munge does not work"

# 3. Slurm on this host, with a config of its own (nothing under /etc/slurm is touched).
host=$(hostname -s)
nodeline=$(slurmd -C 2>/dev/null | head -1)
case "$nodeline" in NodeName=*) ;; *) skip "slurmd -C does not describe this machine" ;; esac
nodeline=$(printf '%s' "$nodeline" | sed "s/^NodeName=[^ ]*/NodeName=$host/")
export SLURM_CONF=$STATE/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=sieveci
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MaxArraySize=1001
InactiveLimit=0
KillWait=5
MinJobAge=600
$nodeline State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF" >"$STATE/slurmctld.out" 2>&1 || { cat "$STATE/slurmctld.out"; skip "slurmctld does not start"; }
started+=("$STATE/slurmctld.pid")
slurmd -f "$SLURM_CONF" >"$STATE/slurmd.out" 2>&1 || { cat "$STATE/slurmd.out"; skip "slurmd does not start"; }
started+=("$STATE/slurmd.pid")
say "waiting up to ${START_TIMEOUT}s for node $host"
up=""
for _ in $(seq "$START_TIMEOUT"); do
	state=$(sinfo -h -n "$host" -o %T 2>/dev/null | head -1)
	case "$state" in idle* | mixed* | allocated*) up=1; break ;; esac
	sleep 1
done
if [ -z "$up" ]; then
	tail -5 "$STATE/slurmctld.log" "$STATE/slurmd.log" 2>/dev/null
	skip "the Slurm node did not come up within ${START_TIMEOUT}s (state: ${state:-none})"
fi
say "slurm is up: $(sinfo -h -o '%P %D %T %c CPUs')"

# 4. The pipeline: length filter then MinHash dedup, on a generated corpus of near-duplicates
# in an uncompressed JSONL file (split into byte ranges) and a zstd file.
go build -o "$WORK/sieve" ./cmd/sieve || fail "go build"
go run ./bench/gen -size 12000docs -seed 3 -near 0.08 -out "$WORK/a.jsonl" -quiet || fail "bench/gen"
go run ./bench/gen -size 4000docs -seed 4 -near 0.08 -out "$WORK/b.jsonl.zst" -quiet || fail "bench/gen"
cat >"$WORK/pipeline.yaml" <<'EOF'
inputs:
  - a.jsonl
  - b.jsonl.zst
stages:
  - length: {min_chars: 40, min_words: 5}
  - minhash_dedup: {}
rejects:
  enabled: true
EOF
SIEVE=$WORK/sieve
cd "$WORK"
"$SIEVE" run -c pipeline.yaml -o single -q || fail "single-process run"
"$SIEVE" plan -c pipeline.yaml -o slurm-run --task-count 4 --split-bytes 2MiB
"$SIEVE" slurm -c pipeline.yaml -o slurm-run --task-count 4 --split-bytes 2MiB --cpus-per-task 1 --submit >submit.out 2>&1 ||
	{ cat submit.out; fail "sieve slurm --submit"; }
cat submit.out
grep -q '^signatures: ' submit.out || fail "no signatures job submitted"

say "waiting up to ${RUN_TIMEOUT}s for the jobs"
done=""
for _ in $(seq "$RUN_TIMEOUT"); do
	if [ -z "$(squeue -h -o %i 2>/dev/null)" ]; then
		done=1
		break
	fi
	sleep 1
done
[ -n "$done" ] || { squeue; fail "jobs still queued or running after ${RUN_TIMEOUT}s"; }
if [ ! -s slurm-run/manifest.json ]; then
	for f in slurm-run/slurm/logs/*; do
		echo "== $f"
		tail -20 "$f"
	done
	fail "the merge job did not produce slurm-run/manifest.json"
fi
arrays=$(ls slurm-run/slurm/logs | grep -c '^signatures-.*_[0-9]*\.log$')
[ "$arrays" = 4 ] || fail "expected 4 signatures array tasks, found $arrays logs"
"$SIEVE" verify slurm-run || fail "sieve verify"
cd "$ROOT"
go run .ci/slurm_compare.go "$WORK/single" "$WORK/slurm-run" || fail "the Slurm run differs from the single-process run"
say "ok: 4-task job arrays chained with afterok give the single-process result"
passed=1
