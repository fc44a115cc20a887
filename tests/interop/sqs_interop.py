#!/usr/bin/env python3
"""Independent SQS clients for tasker's interop tests (tests/sqs_interop_test.cc, sqs_auth_test.cc).

  sqs_interop.py send ENDPOINT QUEUE_URL FILE      boto3 sends FILE's UTF-8 text as one message
  sqs_interop.py receive ENDPOINT QUEUE_URL FILE   boto3 receives one message (5 s long poll),
                                                   writes its body to FILE as UTF-8, deletes it
  sqs_interop.py iam-user ENDPOINT                 creates an IAM user allowed everything and an
                                                   access key for it (moto); prints "KEY SECRET"
  sqs_interop.py least-privilege ENDPOINT REGION AGENT_POLICY MASTER_POLICY
                                                   creates queues tasks and results, and users agent
                                                   and master each with the policy in its JSON file
                                                   (moto); prints "AGENT_KEY AGENT_SECRET MASTER_KEY
                                                   MASTER_SECRET"
  sqs_interop.py send-signed ENDPOINT QUEUE FILE   boto3 sends FILE's bytes as one message to the
                                                   queue named QUEUE, signed as a tasker master
                                                   signs tasks (HMAC-SHA256 with TASKER_SIGNING_KEY,
                                                   attribute tasker-signature = v1=<hex>)
  sqs_interop.py receive-verified ENDPOINT QUEUE FILE
                                                   boto3 receives one message from the queue named
                                                   QUEUE, exits non-zero unless its tasker-signature
                                                   verifies with TASKER_SIGNING_KEY; writes the body
                                                   to FILE and deletes the message

Credentials and region come from the environment (AWS_ACCESS_KEY_ID, ...).
"""
import hashlib
import hmac
import json
import os
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


def signature(body):
    key = os.environ["TASKER_SIGNING_KEY"].encode("utf-8")
    return "v1=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def send_signed(endpoint, queue_name, path):
    with open(path, "rb") as f:
        body = f.read()
    sqs = client("sqs", endpoint)
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody=body.decode("utf-8"),
        MessageAttributes={"tasker-signature": {"DataType": "String", "StringValue": signature(body)}},
    )


def receive_verified(endpoint, queue_name, path):
    sqs = client("sqs", endpoint)
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    answer = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=5, MessageAttributeNames=["All"]
    )
    messages = answer.get("Messages", [])
    if not messages:
        sys.exit("no message arrived within 5 s")
    message = messages[0]
    body = message["Body"].encode("utf-8")
    claimed = message.get("MessageAttributes", {}).get("tasker-signature", {}).get("StringValue", "")
    if not hmac.compare_digest(claimed, signature(body)):
        sys.exit("tasker-signature %r does not verify for the body" % claimed)
    with open(path, "wb") as f:
        f.write(body)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


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


# moto authorises a batch call by its own action name and GetQueueUrl against "*"; AWS authorises
# batch calls by the single actions and GetQueueUrl against the queue. The policies are written
# for AWS; these are the grants moto needs on top, and nothing more.
MOTO_BATCH_NAMES = {
    "sqs:SendMessage": "sqs:SendMessageBatch",
    "sqs:DeleteMessage": "sqs:DeleteMessageBatch",
    "sqs:ChangeMessageVisibility": "sqs:ChangeMessageVisibilityBatch",
}


def for_moto(policy):
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        statement["Action"] = actions + [MOTO_BATCH_NAMES[a] for a in actions if a in MOTO_BATCH_NAMES]
    policy["Statement"].append({"Effect": "Allow", "Action": "sqs:GetQueueUrl", "Resource": "*"})
    return policy


def least_privilege(endpoint, region, agent_policy, master_policy):
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=region)
    iam = boto3.client("iam", endpoint_url=endpoint, region_name=region)
    for name in ("tasks", "results"):
        sqs.create_queue(QueueName=name)
    keys = []
    for user, path in (("agent", agent_policy), ("master", master_policy)):
        with open(path, encoding="utf-8") as f:
            policy = for_moto(json.load(f))
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName=user, PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        keys += [key["AccessKeyId"], key["SecretAccessKey"]]
    print(" ".join(keys))


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    {
        "send": send,
        "receive": receive,
        "iam-user": iam_user,
        "least-privilege": least_privilege,
        "send-signed": send_signed,
        "receive-verified": receive_verified,
    }[command](*arguments)
