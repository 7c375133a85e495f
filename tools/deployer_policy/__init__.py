"""`make deployer-policy STACK=…`: the least privilege of whoever runs `pulumi up`/`destroy` on a stack.

    python -m tools.deployer_policy --stack NAME [--account 123456789012] [--oci-group NAME]
                                    [--part all|aws|oci|sources]

Plans the stack offline (tools.plan), then derives from the resource types and invokes of that plan
the AWS IAM policy (JSON: one document, or a list of documents when one would exceed IAM's managed
policy size) and, for stacks with OCI pools, the OCI policy statements. `--part sources` prints which
plan item needs what, and where that comes from. Exit status: 0 printed, 2 the stack is
invalid or holds a resource type the tables do not know.
"""
