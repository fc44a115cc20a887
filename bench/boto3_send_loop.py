#!/usr/bin/env python3
"""docker-tasker's master as it submits: one boto3 send_message call per task. Sends N tasks to
a queue bench-boto3 at the endpoint AWS_ENDPOINT_URL names and prints the rate (tasks/s).

    bench/boto3_send_loop.py N
"""
import json
import sys
import time

import boto3

n = int(sys.argv[1])
sqs = boto3.client("sqs")
url = sqs.create_queue(QueueName="bench-boto3")["QueueUrl"]
start = time.time()
for i in range(n):
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(
        {"id": f"b{i}", "image": "busybox", "arguments": f"echo {i}"}))
print(f"{n / (time.time() - start):.0f}")
