#!/usr/bin/env python3
"""Lists the longest production functions of src/ and include/, measured by universal-ctags.

A report, not a gate: the test command prints it so a function growing past the limit is seen in
review. Tests (*_test.cc), fuzz targets (*_fuzz.cc) and lambdas inside a listed function are not
counted on their own (a lambda's lines are its enclosing function's).

    scripts/longest_functions.py [--top N] [--limit LINES] [PATH ...]
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def functions(paths):
    """Yields (lines, path:line, qualified name) for every function ctags finds in `paths`."""
    command = ["ctags", "--output-format=json", "--languages=C++", "--map-C++=+.h",
               "--c++-kinds=f", "--fields=+ne", "-R", "-f", "-"] + paths
    try:
        output = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        sys.exit("longest_functions: ctags not found (scripts/install-deps.sh installs universal-ctags)")
    for line in output.splitlines():
        tag = json.loads(line)
        path = tag.get("path", "")
        if tag.get("kind") != "function" or "end" not in tag:
            continue
        if path.endswith(("_test.cc", "_fuzz.cc")) or tag["name"].startswith("__anon"):
            continue
        scope = tag.get("scope", "")
        if "__anon" in scope.split("::")[-1]:
            continue  # a function local to a lambda
        name = scope + "::" + tag["name"] if scope else tag["name"]
        yield tag["end"] - tag["line"] + 1, "%s:%d" % (path, tag["line"]), name.replace("tasker::", "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10, help="how many to list (default 10)")
    parser.add_argument("--limit", type=int, default=80, help="the length a function should stay under")
    parser.add_argument("paths", nargs="*", default=["src", "include"])
    args = parser.parse_args()
    found = sorted(functions(args.paths), reverse=True)
    over = [f for f in found if f[0] > args.limit]
    print("longest functions (%d measured; %d over %d lines):" % (len(found), len(over), args.limit))
    for lines, where, name in found[:max(args.top, len(over))]:
        print("  %4d  %-50s %s%s" % (lines, name, where, "  <- over the limit" if lines > args.limit else ""))


if __name__ == "__main__":
    main()
