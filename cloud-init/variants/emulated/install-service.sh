#!/usr/bin/env bash
# Step `service` of the emulated variant: the runner runs as a systemd service whose ExecStart
# enters the arm64 root filesystem (run-as-runner.sh). Not svc.sh: its unit would start the runner
# on the x86_64 host itself, where every job step would be an x86_64 process.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
systemctl_cmd=${ARM64_RUNNER_SYSTEMCTL:-systemctl}
unit_dir=${ARM64_RUNNER_UNIT_DIR:-/etc/systemd/system}

if [[ "${RUNNER_EPHEMERAL:-0}" == 1 ]]; then
  # arm64-runner-jit.service runs jit-run.sh, which starts run.sh through run-as-runner.sh.
  unit=arm64-runner-jit.service
else
  unit=arm64-runner-emulated.service
  if ! cmp -s "$here/$unit" "$unit_dir/$unit"; then
    install -m 0644 "$here/$unit" "$unit_dir/$unit"
    "$systemctl_cmd" daemon-reload
  fi
fi
"$systemctl_cmd" enable --now "$unit"
