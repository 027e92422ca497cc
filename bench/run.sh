#!/usr/bin/env bash
# Usage: bench/run.sh SIZE [CONFIG]
#
# Runs a sieve pipeline end to end on a generated corpus and prints documents/s, MB/s and
# peak RSS.
#
#   SIZE    corpus size for bench/gen: 100MB, 1GB, 2GiB (bytes of uncompressed JSONL) or 50000docs
#   CONFIG  pipeline YAML (default bench/passthrough.yaml); its `inputs:` section, if any, is
#           replaced by the generated corpus, and its output dir by a directory under BENCH_DIR.
#
# Environment:
#   BENCH_DIR  cache and run directory (default /tmp/sieve-bench); the corpus is generated once
#              per (SIZE, SEED, DOC_BYTES, generator version) and kept there
#   SEED       generator seed (default 1)
#   DOC_BYTES  mean document size in bytes (default 1024)
#   WORKERS    --workers for sieve (default: the config's, else the number of CPUs)
#   SIEVE_BIN  where to build sieve (default /tmp/sieve)
#   BUILD      0 to run an existing SIEVE_BIN instead of building ./cmd/sieve
#   TIME_BIN   GNU time (default /usr/bin/time); when it is missing, VmHWM is polled instead
#   KEEP_OUT   1 to keep the run directory (default: removed after the figures are read)
#
# Peak RSS comes from GNU time -v when it exists, else from polling VmHWM in /proc.
set -euo pipefail

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 && $1 != -h && $1 != --help ]] || usage

SIZE=$1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONFIG=${2:-$ROOT/bench/passthrough.yaml}
[[ -f $CONFIG ]] || { echo "bench: no such config: $CONFIG" >&2; exit 2; }
CONFIG=$(cd "$(dirname "$CONFIG")" && pwd)/$(basename "$CONFIG")
BENCH_DIR=${BENCH_DIR:-/tmp/sieve-bench}
SEED=${SEED:-1}
DOC_BYTES=${DOC_BYTES:-1024}
SIEVE_BIN=${SIEVE_BIN:-/tmp/sieve}
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)

TIME_BIN=${TIME_BIN:-/usr/bin/time}
if [[ ${BUILD:-1} != 0 ]]; then
	echo "bench: building $SIEVE_BIN" >&2
	(cd "$ROOT" && go build -o "$SIEVE_BIN" ./cmd/sieve)
fi
(cd "$ROOT" && go build -o "$BENCH_DIR/gen" ./bench/gen)

# The corpus name carries everything its bytes depend on, the generator's source included.
GEN_HASH=$(cat "$ROOT"/bench/gen/*.go "$ROOT"/bench/gen/words/*.txt | sha256sum | cut -c1-10)
CORPUS=$BENCH_DIR/corpus-$SIZE-seed$SEED-doc$DOC_BYTES-$GEN_HASH.jsonl.zst
META=${CORPUS%.jsonl.zst}.stats.json
if [[ ! -s $CORPUS || ! -s $META ]]; then
	echo "bench: generating $CORPUS" >&2
	"$BENCH_DIR/gen" -size "$SIZE" -seed "$SEED" -doc-bytes "$DOC_BYTES" -out "$CORPUS" -stats "$META"
fi
json_int() { grep -o "\"$1\": *[0-9]*" "$2" | head -1 | grep -o '[0-9]*$'; }
DOCS=$(json_int docs "$META")
BYTES=$(json_int bytes "$META")
ZBYTES=$(stat -c %s "$CORPUS")

# A copy of CONFIG with its inputs replaced, beside CONFIG so that relative paths in it still
# resolve; the name does not end in .yaml so that globs over config directories skip it.
TMPCFG=$(mktemp "$(dirname "$CONFIG")/.bench-$(basename "$CONFIG").XXXXXX")
OUT=$BENCH_DIR/run-$SIZE-$(basename "$CONFIG" .yaml)
TIMEFILE=$BENCH_DIR/time.txt
ERRFILE=$BENCH_DIR/sieve.stderr
cleanup() {
	rm -f "$TMPCFG"
	[[ ${KEEP_OUT:-0} == 1 ]] || rm -rf "$OUT"
}
trap cleanup EXIT
{
	printf 'inputs:\n  - path: '"'"'%s'"'"'\n    format: jsonl\n' "$CORPUS"
	# Drop the top-level inputs block: from "inputs:" to the next top-level key.
	awk '/^inputs[[:space:]]*:/ { skip = 1; next } skip && /^[^[:space:]#]/ { skip = 0 } !skip' "$CONFIG"
} >"$TMPCFG"
rm -rf "$OUT"

ARGS=(run -c "$TMPCFG" -o "$OUT" --quiet)
[[ -n ${WORKERS:-} ]] && ARGS+=(--workers "$WORKERS")

echo "bench: $SIEVE_BIN ${ARGS[*]}" >&2
LOAD=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || true)
START=$EPOCHREALTIME
RSS_KB=""
USER_S="" SYS_S=""
if [[ -x $TIME_BIN ]]; then
	STATUS=0
	"$TIME_BIN" -v -o "$TIMEFILE" "$SIEVE_BIN" "${ARGS[@]}" 2>"$ERRFILE" || STATUS=$?
	RSS_KB=$(awk -F': *' '/Maximum resident set size/ { print $2 }' "$TIMEFILE")
	USER_S=$(awk -F': *' '/User time \(seconds\)/ { print $2 }' "$TIMEFILE")
	SYS_S=$(awk -F': *' '/System time \(seconds\)/ { print $2 }' "$TIMEFILE")
else
	# No /usr/bin/time: poll the high-water mark of the process's resident set. VmHWM only
	# grows, so the last reading before exit is at most one polling interval short.
	"$SIEVE_BIN" "${ARGS[@]}" 2>"$ERRFILE" &
	PID=$!
	RSS_KB=0
	while kill -0 "$PID" 2>/dev/null; do
		if HWM=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PID/status" 2>/dev/null) && [[ -n $HWM ]]; then
			((HWM > RSS_KB)) && RSS_KB=$HWM
		fi
		sleep 0.05
	done
	STATUS=0
	wait "$PID" || STATUS=$?
	[[ $RSS_KB -gt 0 ]] || RSS_KB=""
fi
END=$EPOCHREALTIME
if [[ $STATUS -ne 0 ]]; then
	echo "bench: sieve exited with status $STATUS:" >&2
	cat "$ERRFILE" >&2
	exit 1
fi

STATS=$OUT/stats.json
READ=$(json_int read "$STATS" || true)
KEPT=$(json_int kept "$STATS" || true)
REJECTED=$(json_int rejected "$STATS" || true)
if [[ -n $READ && $READ != "$DOCS" ]]; then
	echo "bench: warning: sieve read $READ documents, the corpus has $DOCS" >&2
fi

awk -v size="$SIZE" -v config="$(basename "$CONFIG")" -v corpus="$CORPUS" \
	-v docs="$DOCS" -v bytes="$BYTES" -v zbytes="$ZBYTES" -v start="$START" -v end="$END" \
	-v rss="$RSS_KB" -v user="$USER_S" -v sys="$SYS_S" -v read="$READ" -v kept="$KEPT" \
	-v rejected="$REJECTED" -v workers="${WORKERS:-config}" -v load="$LOAD" 'BEGIN {
	wall = end - start
	printf "sieve bench: size %s, config %s, workers %s\n", size, config, workers
	printf "  input     %d docs, %.1f MB JSONL (%.1f MB zstd): %s\n", docs, bytes / 1e6, zbytes / 1e6, corpus
	if (read != "") printf "  result    read %d, kept %d, rejected %d\n", read, kept, rejected
	if (user != "") printf "  time      %.2f s wall, %.2f s user, %.2f s sys\n", wall, user, sys
	else printf "  time      %.2f s wall\n", wall
	if (load != "") printf "  load      %s (1-minute load average at start; docs/s and MB/s are per wall-clock second)\n", load
	printf "  docs/s    %.0f\n", docs / wall
	printf "  MB/s      %.1f (uncompressed JSONL; %.1f compressed)\n", bytes / 1e6 / wall, zbytes / 1e6 / wall
	if (user != "" && user + sys > 0) printf "  per CPU   %.1f MB/s, %.0f docs/s (per second of user+sys time)\n", bytes / 1e6 / (user + sys), docs / (user + sys)
	if (rss != "") printf "  peak RSS  %.1f MB\n", rss * 1024 / 1e6
	else printf "  peak RSS  unknown (no /usr/bin/time and no /proc)\n"
}'
