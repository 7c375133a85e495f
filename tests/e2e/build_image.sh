#!/usr/bin/env bash
# Build (once per recipe) the arm64 Debian disk image the e2e scenarios boot under QEMU, and the
# local package mirror the package-step scenario installs Docker from.
#
# Two cached layers under $E2E_CACHE (default /var/cache/arm64-runners-e2e):
#   base-<sha>/{root,mirror}  image/base.sh: one mmdebstrap run (tree + kernel + the mirror's .debs);
#                             the minutes of the build. Key: suite, archive, both package lists and
#                             base.sh, essential.sh, initramfs-modules.
#   <sha>/{rootfs.raw.zst,vmlinuz,initrd.img,packages.txt,mirror/,recipe.sha256}
#                             a copy of the base configured by image/configure.sh, made into a disk
#                             with mkfs.ext4 -d (no loop devices, no mounts), mirror indexed by
#                             mirror.py: seconds. Key: the base's plus this script, mirror.py, every
#                             file under image/ and the disk size.
# An unchanged recipe costs nothing; a changed configuration rebuilds only the cheap layer. Idempotent,
# one build at a time per machine. Prints the image directory on stdout as its last line.
# `--recipe`: print it without building; `--mirror-packages`: print the mirror's package list.
# Measured recipe: /work/shared/reference/qemu-arm64-boot.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
suite="${E2E_SUITE:-trixie}"
mirror="${E2E_MIRROR:-http://deb.debian.org/debian}"
cache_root="${E2E_CACHE:-/var/cache/arm64-runners-e2e}"
disk_size="${E2E_DISK_SIZE:-3G}"
step_script="$here/../../cloud-init/scripts/install-packages.sh"

log() { printf 'build_image: %s\n' "$*" >&2; }

# What the guest needs offline: cloud-init, systemd + udev, what the bootstrap scripts call (curl jq
# git iptables sudo tar gzip ca-certificates procps iproute2), e2fsprogs for cc_resizefs, dbus for
# hostnamectl, build-essential (the package step's C toolchain: in the image, so the Docker scenario
# spends its boot on Docker), and the kernel. No openssh-server: nothing logs in, and its host keys
# cost seconds per boot under TCG.
packages="systemd-sysv,udev,dbus,cloud-init,sudo,ifupdown,iproute2,netbase,ca-certificates,procps"
packages+=",e2fsprogs,kmod,curl,jq,git,iptables,tar,gzip,build-essential,linux-image-arm64"

# The mirror: the package step's own list (install-packages.sh `required` + `optional`), plus
# busybox-static, the arm64 binary the Docker scenario's container image is made of.
step_packages="$(sed -n -E 's/^(required|optional)=\((.*)\)$/\2/p' "$step_script" | tr '\n' ' ')"
if [[ " $step_packages " != *" docker.io "* ]]; then
  log "cannot read the package list (required=(…) optional=(…)) of $step_script"
  exit 1
fi
mirror_packages="${step_packages% } busybox-static"

# Relative names only: the same recipe in another checkout (CI's clone) must find the same cache.
base_sha="$(
  {
    printf 'suite=%s\nmirror=%s\npackages=%s\nmirror-packages=%s\n' "$suite" "$mirror" "$packages" "$mirror_packages"
    cd "$here" && sha256sum image/base.sh image/essential.sh image/initramfs-modules
  } | sha256sum | cut -c1-16
)"
recipe_sha="$(
  {
    printf 'base=%s\nsize=%s\n' "$base_sha" "$disk_size"
    cd "$here" && sha256sum build_image.sh mirror.py && find image -type f -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
)"
base="$cache_root/base-$base_sha"
out="$cache_root/$recipe_sha"

case "${1:-}" in
--recipe)
  printf '%s\n' "$out"
  exit 0
  ;;
--mirror-packages)
  printf '%s\n' "$mirror_packages"
  exit 0
  ;;
esac

complete() { [[ -f "$out/recipe.sha256" && -f "$out/rootfs.raw.zst" && -f "$out/mirror/Release" ]]; }

if complete; then
  log "cached image $out"
  printf '%s\n' "$out"
  exit 0
fi

if [[ $EUID -ne 0 ]]; then
  log "must run as root (mmdebstrap, chroot)"
  exit 1
fi

enable_binfmt() {
  if ! mountpoint -q /proc/sys/fs/binfmt_misc; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
    log "qemu-aarch64 binfmt handler is not registered (install qemu-user-static binfmt-support)"
    exit 1
  fi
}

# One build at a time per machine; a second caller waits, then finds the cache filled.
mkdir -p "$cache_root"
exec 9>"$cache_root/.build.lock"
flock 9
if complete; then
  log "cached image $out (built by a concurrent run)"
  printf '%s\n' "$out"
  exit 0
fi

work="$(mktemp -d "${cache_root}/build.XXXXXX")"
# Whatever a killed build left mounted in its tree is unmounted before anything is removed.
cleanup() {
  awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" || true
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
start=$SECONDS

if [[ ! -f "$base/done" ]]; then
  enable_binfmt
  log "base: mmdebstrap $suite arm64 (log: $work/base.log)"
  E2E_SUITE="$suite" E2E_MIRROR="$mirror" E2E_PACKAGES="$packages" E2E_MIRROR_PACKAGES="$mirror_packages" \
    "$here/image/base.sh" "$work/base" >"$work/base.log" 2>&1 || {
    tail -n 40 "$work/base.log" >&2
    exit 1
  }
  rm -rf "$base"
  mv "$work/base" "$base"
  touch "$base/done"
  log "base $base built in $((SECONDS - start)) s"
fi

root="$work/root"
staging="$work/out"
mkdir -p "$staging"
cp -a "$base/root" "$root"
"$here/image/configure.sh" "$root"
cp -a "$base/mirror" "$staging/mirror"
python3 "$here/mirror.py" "$staging/mirror" >&2

kernel="$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | tail -n 1)"
initrd="$(find "$root/boot" -maxdepth 1 -name 'initrd.img-*' | sort | tail -n 1)"
if [[ -z "$kernel" || -z "$initrd" ]]; then
  log "no kernel/initrd under $root/boot"
  exit 1
fi
cp "$kernel" "$staging/vmlinuz"
cp "$initrd" "$staging/initrd.img"
chroot "$root" dpkg-query -W -f "\${Package} \${Version}\n" >"$staging/packages.txt"
mkfs.ext4 -q -L rootfs -d "$root" "$work/rootfs.raw" "$disk_size"
zstd -q -T0 -3 "$work/rootfs.raw" -o "$staging/rootfs.raw.zst"
printf '%s\n' "$recipe_sha" >"$staging/recipe.sha256"

rm -rf "$out"
mv "$staging" "$out"
log "image $out built in $((SECONDS - start)) s ($(du -sh "$out/mirror" | cut -f1) mirror)"
printf '%s\n' "$out"
