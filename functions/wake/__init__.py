"""The wake function: GitHub's `workflow_job` webhook starts a stopped EC2 runner that can take the job.

Runs on AWS Lambda (Python 3.13, arm64) behind a Function URL, with nothing beyond the runtime's boto3
and the standard library. Its archive (components/aws/wake.py) holds this package as `wake/` and the
project's stdlib GitHub client as `components/github/{rest,scope}.py`, so the same code runs in the
tests (as `functions.wake`) and in Lambda (as `wake`): modules here import each other relatively.

- handler.py   Lambda entry: Function URL request -> signature check -> event routing -> response
- signature.py X-Hub-Signature-256 (HMAC-SHA256, constant-time compare)
- jobs.py      the queued job a delivery describes, and which pools can run it
- waker.py     DescribeInstances / claim / re-register hand-off / StartInstances
- settings.py  the function's non-secret settings (one JSON environment variable, written by the stack)
"""
