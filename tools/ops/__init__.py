"""Operator commands over a stack's runners: `python -m tools.ops <command> --stack <stack>`.

status, wait-online, validate and gc talk to the GitHub REST API with the stack's own credential;
stacks and expired pick the stacks the delivery workflows act on.
"""
