#!/usr/bin/env python3
"""Independent SQS clients for tasker's interop tests (tests/sqs_interop_test.cc, sqs_auth_test.cc).

  sqs_interop.py send ENDPOINT QUEUE_URL FILE      boto3 sends FILE's UTF-8 text as one message
  sqs_interop.py receive ENDPOINT QUEUE_URL FILE   boto3 receives one message (5 s long poll),
                                                   writes its body to FILE as UTF-8, deletes it
  sqs_interop.py iam-user ENDPOINT                 creates an IAM user allowed everything and an
                                                   access key for it (moto); prints "KEY SECRET"

Credentials and region come from the environment (AWS_ACCESS_KEY_ID, ...).
"""
import sys

import boto3


def client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


def send(endpoint, queue_url, path):
    with open(path, encoding="utf-8", newline="") as f:
        body = f.read()
    client("sqs", endpoint).send_message(QueueUrl=queue_url, MessageBody=body)


def receive(endpoint, queue_url, path):
    sqs = client("sqs", endpoint)
    answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=5)
    messages = answer.get("Messages", [])
    if not messages:
        sys.exit("no message arrived within 5 s")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(messages[0]["Body"])
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])


def iam_user(endpoint):
    iam = client("iam", endpoint)
    iam.create_user(UserName="tasker-test")
    iam.put_user_policy(
        UserName="tasker-test",
        PolicyName="everything",
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
    )
    key = iam.create_access_key(UserName="tasker-test")["AccessKey"]
    print(key["AccessKeyId"], key["SecretAccessKey"])


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    {"send": send, "receive": receive, "iam-user": iam_user}[command](*arguments)
