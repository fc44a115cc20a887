#!/usr/bin/env bash
# Every flag of every subcommand's --help is in the README, so the reference cannot fall behind
# the program: the subcommands are read from `tasker --help`, each one's flags from its own
# --help (the option lines, not the prose), and a flag the README never mentions fails the test.
set -euo pipefail
tasker=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
readme=$root/README.md
subcommands=$("$tasker" --help | awk '/^Subcommands:/ {on = 1; next} on && NF {print $1}')
[ -n "$subcommands" ] || { echo "FAIL: no subcommands in tasker --help"; exit 1; }
missing=()
checked=0
for sub in $subcommands; do
  # Option lines start with two spaces and a dash: "  -j,--slots INT ..." or "  --broker TEXT ...".
  flags=$("$tasker" "$sub" --help | grep -E '^  +-' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
  for flag in $flags; do
    [ "$flag" = --help ] && continue
    checked=$((checked + 1))
    grep -qE -- "(^|[^a-z0-9-])$flag([^a-z0-9-]|\$)" "$readme" || missing+=("tasker $sub $flag")
  done
done
[ "$checked" -gt 20 ] || { echo "FAIL: only $checked flags found in the --help texts"; exit 1; }
if [ ${#missing[@]} -gt 0 ]; then
  printf 'FAIL: not in README.md: %s\n' "${missing[@]}"
  exit 1
fi
echo "PASS: $checked flags of $(echo "$subcommands" | wc -w) subcommands, all in README.md"
