#!/usr/bin/env bash
# `tasker report` on a real run, looked at in a real browser: `tasker run` runs tasks on the
# harness's daemon (three fail, one with a payload that is markup), `tasker report` writes the
# page from its state directory, and headless Chromium loads it. The DOM it builds has one bar per
# task, the failure rows are the run's failed tasks, no markup from a result got through, and a
# screenshot is kept beside the test's output (report.png in the working directory).
set -euo pipefail
tasker=$1
if [ -z "${DOCKER_HOST:-}" ] || [ -z "${TASKER_TEST_IMAGE:-}" ]; then
  if [ "${TASKER_REQUIRE_SERVICES:-}" = 1 ]; then echo "FAIL: harness services missing"; exit 1; fi
  echo "SKIP: run under tests/harness.sh"; exit 77
fi
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  if [ "${TASKER_REQUIRE_SERVICES:-}" = 1 ]; then echo "FAIL: chromium not installed (scripts/install-deps.sh)"; exit 1; fi
  echo "SKIP: no chromium"; exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }
unset Q_TASK Q_RESULTS TASKER_BROKER
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
browser() {
  # No network, no GPU, a profile of its own; under root Chromium needs --no-sandbox.
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --disable-background-networking --no-first-run --user-data-dir="$work/profile" "$@" 2>>"$work/chromium.log"
}

{
  for i in $(seq 1 9); do
    printf '{"id":"ok-%s","image":"%s","arguments":["sh","-c","sleep 0.%s; echo %s"]}\n' "$i" "$TASKER_TEST_IMAGE" "$i" "$i"
  done
  printf '{"id":"bad-1","image":"%s","arguments":["sh","-c","exit 3"]}\n' "$TASKER_TEST_IMAGE"
  printf '{"id":"bad-2","image":"%s","arguments":["sh","-c","exit 4"]}\n' "$TASKER_TEST_IMAGE"
  printf '{"id":"bad-3","image":"%s","arguments":["sh","-c","echo \\"<img src=x onerror=alert(1)>\\" >&2; exit 5"]}\n' "$TASKER_TEST_IMAGE"
} >"$work/tasks.jsonl"
status=0
(cd "$work" && "$tasker" run tasks.jsonl -j 3 --progress none >results.jsonl 2>run.err) || status=$?
[ "$status" = 1 ] || fail "tasker run exited $status (want 1: three tasks fail): $(tail -3 "$work/run.err")"
[ "$(wc -l <"$work/results.jsonl")" = 12 ] || fail "want 12 results: $(cat "$work/results.jsonl")"

(cd "$work" && "$tasker" report -o report.html --joblog joblog.tsv 2>report.err) || fail "tasker report: $(cat "$work/report.err")"
# GNU parallel's joblog: its header, one line per task, the exit values of the failed ones.
[ "$(head -1 "$work/joblog.tsv")" = "$(printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand')" ] \
  || fail "joblog header: $(head -1 "$work/joblog.tsv")"
[ "$(tail -n +2 "$work/joblog.tsv" | wc -l)" = 12 ] || fail "joblog: $(cat "$work/joblog.tsv")"
exits=$(awk -F'\t' 'NR > 1 && $7 != 0 {print $9 "=" $7}' "$work/joblog.tsv" | sort | tr '\n' ' ')
[ "$exits" = "bad-1=3 bad-2=4 bad-3=5 " ] || fail "joblog exit values: '$exits'"
grep -q '^report: 12 tasks of run ' "$work/report.err" || fail "report said: $(cat "$work/report.err")"
browser --dump-dom "file://$work/report.html" >"$work/dom.html" || fail "chromium could not load the report: $(tail -5 "$work/chromium.log")"
bars=$(grep -o '<rect class="task [a-z]*" data-id="[^"]*"' "$work/dom.html" | sort -u | wc -l)
[ "$bars" = 12 ] || fail "want one bar per task (12), the DOM has $bars"
failed_bars=$(grep -o '<rect class="task failed"' "$work/dom.html" | wc -l)
[ "$failed_bars" = 3 ] || fail "want 3 red bars, found $failed_bars"
rows=$(grep -o '<tr class="failure" data-id="[^"]*"' "$work/dom.html" | sed 's/.*data-id="//; s/"$//' | sort | tr '\n' ' ')
want=$(python3 -c 'import json,sys; print(" ".join(sorted(r["id"] for r in map(json.loads, open(sys.argv[1])) if not r["isSuccess"])) + " ")' "$work/results.jsonl")
[ "$rows" = "$want" ] || fail "failure rows '$rows', want the run's failed tasks '$want'"
grep -q '<img' "$work/dom.html" && fail "markup from a result reached the DOM"
grep -q '&lt;img src=x onerror=alert(1)&gt;' "$work/dom.html" || fail "the markup payload is not shown as text"
grep -q '<span id="total">12 tasks</span>' "$work/dom.html" || fail "summary: $(grep -o '<p class="summary">.*</p>' "$work/dom.html" | head -c 300)"
browser --screenshot="$PWD/report.png" --window-size=1300,1000 "file://$work/report.html" >/dev/null \
  || fail "chromium could not take a screenshot"
[ -s "$PWD/report.png" ] || fail "no screenshot"
echo "PASS: report of 12 tasks checked in $("$chromium" --version 2>/dev/null | head -c 40); screenshot $PWD/report.png"
