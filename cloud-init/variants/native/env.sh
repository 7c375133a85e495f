# shellcheck shell=bash
# Native variant: the runner is unpacked and runs directly on the host.
RUNNER_ROOT=${RUNNER_ROOT:-/opt/actions-runner}
