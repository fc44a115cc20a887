#!/usr/bin/env python3
"""A JSON-lines pipeline driven from Python with `tasker submit --wait`.

Python writes tasks as JSON lines to tasker's standard input and reads results as JSON lines from
its standard output as they arrive, reducing them on the fly: any language can do the same.

With Q_TASK and Q_RESULTS set (and the AWS variables), tasks go to SQS for agents anywhere.
Without them, the example makes an embedded queue (sqlite:) in a temporary directory and starts
one local `tasker agent` on it, so it runs on one machine with nothing else set up.

    examples/pipeline.py [--tasker build/tasker] [--image busybox] [--count 20]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasker", default=os.path.join(os.path.dirname(__file__), "..", "build", "tasker"))
    parser.add_argument("--image", default=os.environ.get("PIPELINE_IMAGE", "busybox"))
    parser.add_argument("--count", type=int, default=20)
    args = parser.parse_args()

    agent = None
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as state:
        if "Q_TASK" in env:
            broker = env.get("TASKER_BROKER", "sqs://")
            tasks, results = env["Q_TASK"], env["Q_RESULTS"]
        else:
            broker = "sqlite:" + os.path.join(state, "queue.db")
            tasks, results = "tasks", "results"
            for queue in (tasks, results):
                subprocess.run([args.tasker, "queue", "create", queue, "--broker", broker], check=True,
                               stdout=subprocess.DEVNULL)
            agent = subprocess.Popen([args.tasker, "agent", "--broker", broker, "--tasks", tasks,
                                      "--results", results, "--slots", "4", "--network", "none",
                                      "--log-level", "warn"])

        submit = subprocess.Popen(
            [args.tasker, "submit", "-", "--wait", "--broker", broker, "--tasks", tasks,
             "--results", results, "--progress", "none"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        # Tasks: the squares of 1..count, each computed in its own container.
        for n in range(1, args.count + 1):
            task = {"id": f"square-{n}", "image": args.image,
                    "arguments": ["sh", "-c", f"echo $(({n} * {n}))"]}
            submit.stdin.write(json.dumps(task) + "\n")
        submit.stdin.close()

        total, failed = 0, 0
        for line in submit.stdout:  # one result per task, as each arrives
            result = json.loads(line)
            if result["isSuccess"]:
                total += int(result["payload"])
            else:
                failed += 1
                print(f"{result['id']} failed: {result['payload']}", file=sys.stderr)
        status = submit.wait()
        if agent is not None:
            agent.terminate()
            agent.wait()

    expected = sum(n * n for n in range(1, args.count + 1))
    print(f"sum of squares 1..{args.count}: {total} (expected {expected})")
    return 0 if status == 0 and failed == 0 and total == expected else 1


if __name__ == "__main__":
    sys.exit(main())
