#!/usr/bin/env bash
# Opens a run's report.html in headless Chromium, takes a screenshot and fails when the page
# logs anything to the console or its charts did not render. Installs nothing: it uses
# $CHROMIUM (default /usr/bin/chromium, Debian package chromium) and exits 0 with "skipped"
# when that is absent.
#
#   .ci/report_check.sh [RUN_DIR] [SCREENSHOT.png]
#
# Without RUN_DIR it runs configs/quickstart.yaml into a temporary directory first.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "report check skipped: no Chromium at $chromium (apt-get install chromium, or set CHROMIUM)"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
run="${1:-}"
if [ -z "$run" ]; then
  run="$work/quickstart"
  go run ./cmd/sieve run -c configs/quickstart.yaml -o "$run" --quiet
fi
page="$(cd "$run" && pwd)/report.html"
shot="${2:-$work/report.png}"
if [ ! -s "$page" ]; then
  echo "report check: $page is missing" >&2
  exit 1
fi

# Flags for a closed network and a root user; a new, empty profile each time.
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --hide-scrollbars --window-size=1280,2400)

log="$work/console.log"
timeout 120 "$chromium" "${flags[@]}" --user-data-dir="$work/profile-shot" \
  --enable-logging=stderr --v=0 --screenshot="$shot" "file://$page" >/dev/null 2>"$log" || {
  echo "report check: Chromium failed to take the screenshot:" >&2
  tail -n 20 "$log" >&2
  exit 1
}
if [ ! -s "$shot" ]; then
  echo "report check: no screenshot written" >&2
  exit 1
fi

# The page has no console output of its own: any CONSOLE line is an error (a script error, a
# blocked request, a chart that did not render).
if grep -E 'CONSOLE|Uncaught|Refused to|net::ERR' "$log" >"$work/errors.txt"; then
  echo "report check: the page logged to the console:" >&2
  cat "$work/errors.txt" >&2
  exit 1
fi

# The page's self-check script records how many charts were laid out: <html data-charts="n/n">.
dom="$work/dom.html"
timeout 120 "$chromium" "${flags[@]}" --user-data-dir="$work/profile-dom" \
  --dump-dom "file://$page" >"$dom" 2>/dev/null || {
  echo "report check: Chromium failed to dump the DOM" >&2
  exit 1
}
charts="$(grep -o 'data-charts="[0-9]*/[0-9]*"' "$dom" | head -n 1 | sed 's/data-charts="\(.*\)"/\1/')"
if [ -z "$charts" ]; then
  echo "report check: the self-check script did not run (no data-charts on <html>)" >&2
  exit 1
fi
drawn="${charts%/*}"
total="${charts#*/}"
if [ "$total" -lt 2 ] || [ "$drawn" != "$total" ]; then
  echo "report check: $drawn of $total charts rendered" >&2
  exit 1
fi
echo "report check: $page rendered $drawn/$total charts with no console output; screenshot $shot ($(wc -c <"$shot") bytes)"
