#!/usr/bin/env bash
# Given a file mixing good tasks with each kind of bad input, `tasker validate` should print one
# precise line per bad task, keep going to the end, and exit 1.
set -uo pipefail
tasker=$1
data=$(dirname "$0")/../data
fail() { echo "FAIL: $*"; exit 1; }

out=$("$tasker" validate "$data/tasks_mixed.jsonl" 2>&1)
status=$?
echo "$out"
[ $status -eq 1 ] || fail "exit status $status, want 1"

expect() { grep -qxF -- "$1" <<<"$out" || fail "missing line: $1"; }
expect 'task line 2: "arguments": unbalanced single quote'
expect 'task line 4: not valid JSON at byte 2: syntax error while parsing value - invalid literal; last read: '"'"'no'"'"''
expect 'task line 6: "id": missing (required)'
expect 'task line 7: "id": must be a string, got a number'
expect 'task line 8: "id": is empty'
expect 'task line 10: "timeout": must be greater than 0'
expect 'task line 11: "env.A": must be a string, got a number'
expect "task line 12: \"id\": 'good-1' repeats the id of line 1"
expect 'task line 13: must be a JSON object, got an array'
expect 'task line 14: "arguments": must be a string or an array of strings, got a number'
expect '15 tasks checked, 12 invalid'
grep -q '^task line 9: "image": .Not A Valid/Image. ' <<<"$out" || fail "no image error on line 9"
grep -q '^task line 16: not valid JSON .*UTF-8' <<<"$out" || fail "no UTF-8 error on line 16"
# Good lines and the blank line produce nothing.
for n in 1 3 5 15; do grep -q "^task line $n:" <<<"$out" && fail "line $n reported"; done
[ "$(grep -c '^task line' <<<"$out")" -eq 12 ] || fail "want exactly 12 error lines"

# Standard input works the same, and a clean file exits 0.
printf '%s\n' '{"id":"a","image":"busybox","arguments":"true"}' | "$tasker" validate - || fail "clean stdin"
out=$("$tasker" validate /nonexistent/file 2>&1)
[ $? -eq 2 ] || fail "missing file: want exit 2"
grep -q 'cannot open /nonexistent/file: No such file or directory' <<<"$out" || fail "missing file message: $out"

# A line over the size limit is reported by size, not held whole.
big=$(mktemp)
python3 -c 'import sys; sys.stdout.write("{\"id\":\"big\",\"image\":\"busybox\",\"arguments\":\"" + "x"*300000 + "\"}\n{\"id\":\"after\",\"image\":\"busybox\",\"arguments\":\"true\"}\n")' >"$big"
out=$("$tasker" validate "$big" 2>&1)
rm -f "$big"
grep -qx 'task line 1: task is 300045 bytes, over the 262144-byte limit' <<<"$out" || fail "oversize: $out"
grep -qx '2 tasks checked, 1 invalid' <<<"$out" || fail "oversize summary: $out"

out=$("$tasker" --help)
grep -q validate <<<"$out" || fail "--help lists no validate"
out=$("$tasker" version)
grep -q '^tasker ' <<<"$out" || fail "version"
echo "validate: all checks passed"
