#!/usr/bin/env python3
"""The cost of making the master's journal durable: results/s a journal can take when each batch
of 10 result records (~200 bytes each, one write(2) per record, as Journal::append does) is
followed by fdatasync (what the master does before deleting the batch from the queue), against no
sync, side by side in interleaved rounds on one file system.

    bench/journal_sync.py [DIR] [RESULTS]     (default: the current directory, 20000)
"""
import os, sys, tempfile, time

directory = sys.argv[1] if len(sys.argv) > 1 else "."
count = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
record = (b'{"result":{"id":"task-000000","isSuccess":true,"payload":"' + b"x" * 120 +
          b'","durationMs":1402,"agent":"node-1","attempt":1,"runId":"0123456789ab"}}\n')

def run(sync):
    fd, path = tempfile.mkstemp(dir=directory, prefix="journal-bench-")
    os.close(fd)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    start = time.perf_counter()
    for i in range(count):
        os.write(fd, record)
        if sync and i % 10 == 9:
            os.fdatasync(fd)
    elapsed = time.perf_counter() - start
    os.close(fd)
    os.unlink(path)
    return count / elapsed

print(f"{count} records in batches of 10 under {os.path.abspath(directory)}")
print("round  no_sync_results/s  fdatasync_results/s  ratio")
for round_ in range(1, 4):
    plain, synced = run(False), run(True)
    print(f"{round_}  {plain:,.0f}  {synced:,.0f}  {synced / plain:.3f}")
