#!/usr/bin/env bash
# Register QEMU user-mode emulation for aarch64 ELF binaries with the kernel's binfmt_misc, with
# the fix-binary (F) and credentials (C) flags.
#
# F: the kernel opens the interpreter once, at registration, and keeps the open file. Any arm64
#    binary is then emulated wherever it runs -- inside the arm64 root filesystem too, where no
#    qemu binary exists -- so nothing is copied into the rootfs.
# C: setuid arm64 binaries (sudo in a job step) get their credentials from the binary, not from
#    the interpreter; without it `sudo` inside the rootfs refuses to work.
# P: argv[0] preserved -- only with Debian/Ubuntu's `*-binfmt-P` wrapper, which tells QEMU so.
#
# The distribution's own entry (qemu-aarch64, often registered without C) is left alone: our entry
# has its own name and, being registered later, is matched first (binfmt_misc tries the newest
# entry first). Replacing the packaged entry would leave a window where arm64 binaries fail.
#
# Idempotent, run on every boot. Settings (environment, all optional):
#   QEMU_AARCH64   interpreter (default: the packaged -binfmt-P wrapper, else qemu-aarch64-static;
#                  qemu-user-static is installed when neither exists)
#   BINFMT_NAME    entry name (default: arm64-runner-aarch64)
set -euo pipefail

readonly BINFMT_DIR=/proc/sys/fs/binfmt_misc
readonly BINFMT_NAME="${BINFMT_NAME:-arm64-runner-aarch64}"
readonly PACKAGED_WRAPPER=/usr/libexec/qemu-binfmt/aarch64-binfmt-P
# ELF64 little-endian, e_type EXEC or DYN, e_machine 183 (EM_AARCH64).
readonly AARCH64_MAGIC='\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
readonly AARCH64_MASK='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'

log() { printf 'binfmt: %s\n' "$*" >&2; }

choose_interpreter() {
  if [[ -n "${QEMU_AARCH64:-}" ]]; then
    [[ -x "$QEMU_AARCH64" ]] || { log "QEMU_AARCH64=$QEMU_AARCH64 is not executable"; exit 1; }
    return
  fi
  if [[ ! -x "$PACKAGED_WRAPPER" ]] && ! command -v qemu-aarch64-static >/dev/null 2>&1; then
    log "installing qemu-user-static"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends qemu-user-static
  fi
  if [[ -x "$PACKAGED_WRAPPER" ]]; then
    QEMU_AARCH64="$PACKAGED_WRAPPER"
  else
    QEMU_AARCH64="$(command -v qemu-aarch64-static)"
  fi
}

flags_for() {
  # The P flag is only safe with an interpreter that knows argv[0] is preserved.
  case "$1" in
    *-binfmt-P) echo FPC ;;
    *) echo FC ;;
  esac
}

ensure_binfmt_mounted() {
  if [[ ! -e "$BINFMT_DIR/register" ]]; then
    log "mounting binfmt_misc"
    mount -t binfmt_misc binfmt_misc "$BINFMT_DIR"
  fi
  echo 1 >"$BINFMT_DIR/status"
}

entry_is_ready() {
  local entry="$BINFMT_DIR/$BINFMT_NAME"
  [[ -e "$entry" ]] || return 1
  grep -qx 'enabled' "$entry" || return 1
  grep -qx "interpreter $QEMU_AARCH64" "$entry" || return 1
  local flags
  flags="$(sed -n 's/^flags: *//p' "$entry")"
  [[ "$flags" == *F* && "$flags" == *C* ]]
}

register() {
  local entry="$BINFMT_DIR/$BINFMT_NAME"
  if entry_is_ready; then
    return
  fi
  if [[ -e "$entry" ]]; then
    log "re-registering $BINFMT_NAME (disabled, other interpreter or flags)"
    echo -1 >"$entry"
  fi
  printf ':%s:M::%s:%s:%s:%s\n' "$BINFMT_NAME" "$AARCH64_MAGIC" "$AARCH64_MASK" \
    "$QEMU_AARCH64" "$(flags_for "$QEMU_AARCH64")" >"$BINFMT_DIR/register"
  entry_is_ready || { log "registration of $BINFMT_NAME did not take"; exit 1; }
}

main() {
  choose_interpreter
  ensure_binfmt_mounted
  register
  log "$BINFMT_NAME: $(tr '\n' ' ' <"$BINFMT_DIR/$BINFMT_NAME")"
}

main "$@"
