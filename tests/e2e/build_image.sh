#!/usr/bin/env bash
# Build (once per recipe) the arm64 Debian disk image the e2e scenarios boot under QEMU.
#
# Output: $E2E_CACHE/<recipe sha>/{rootfs.raw.zst,vmlinuz,initrd.img,recipe.sha256}
# The recipe sha covers this script and every file under image/, so changing the recipe
# builds a new image and an unchanged recipe costs nothing (idempotent; safe to re-run).
# Prints the image directory on stdout as its last line (`--recipe`: print it without building).
#
# Follows the measured recipe in /work/shared/reference/qemu-arm64-boot.md: debootstrap
# minbase under qemu-user-static, kernel installed afterwards with MODULES=list (a small
# initrd built once), disk made with mkfs.ext4 -d (no loop devices, no mounts).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
suite="${E2E_SUITE:-trixie}"
mirror="${E2E_MIRROR:-http://deb.debian.org/debian}"
cache_root="${E2E_CACHE:-/var/cache/arm64-runners-e2e}"
disk_size="${E2E_DISK_SIZE:-3G}"

# What the guest needs offline: cloud-init and its hidden dependency python3-cffi-backend,
# systemd + udev, what the bootstrap scripts call (curl jq git iptables sudo tar gzip
# ca-certificates procps iproute2), e2fsprogs for cc_resizefs, dbus for hostnamectl.
packages="systemd-sysv,udev,dbus,cloud-init,python3-cffi-backend,sudo,ifupdown,iproute2,netbase"
packages+=",ca-certificates,procps,openssh-server,e2fsprogs,kmod,curl,jq,git,iptables,tar,gzip"

recipe_sha="$(
  {
    printf 'suite=%s\nmirror=%s\nsize=%s\npackages=%s\n' "$suite" "$mirror" "$disk_size" "$packages"
    # Relative names only: the same recipe in another checkout (CI's clone) must find the same image.
    cd "$here"
    sha256sum build_image.sh
    find image -type f -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
)"
out="$cache_root/$recipe_sha"

log() { printf 'build_image: %s\n' "$*" >&2; }

# --recipe: print where this recipe's image lives (built or not) and stop.
if [[ "${1:-}" == --recipe ]]; then
  printf '%s\n' "$out"
  exit 0
fi

if [[ -f "$out/recipe.sha256" && -f "$out/rootfs.raw.zst" && -f "$out/vmlinuz" && -f "$out/initrd.img" ]]; then
  log "cached image $out"
  printf '%s\n' "$out"
  exit 0
fi

if [[ $EUID -ne 0 ]]; then
  log "must run as root (debootstrap, chroot)"
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
if [[ -f "$out/recipe.sha256" ]]; then
  log "cached image $out (built by a concurrent run)"
  printf '%s\n' "$out"
  exit 0
fi

work="$(mktemp -d "${cache_root}/build.XXXXXX")"
root="$work/root"
cleanup() {
  local m
  for m in "$root/proc" "$root/sys" "$root/dev/pts" "$root/dev"; do
    if mountpoint -q "$m" 2>/dev/null; then umount -l "$m"; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

enable_binfmt
start=$SECONDS

log "debootstrap $suite arm64 into $root"
debootstrap --arch=arm64 --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 40 "$work/debootstrap.log" >&2
  exit 1
}
log "debootstrap done after $((SECONDS - start)) s"

# Kernel with a small initrd: list the modules the virt machine needs instead of MODULES=most.
install -d "$root/etc/initramfs-tools/conf.d"
printf 'MODULES=list\n' >"$root/etc/initramfs-tools/conf.d/e2e-modules"
install -m 0644 "$here/image/initramfs-modules" "$root/etc/initramfs-tools/modules"
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
log "installing linux-image-arm64"
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y --no-install-recommends linux-image-arm64 \
  >"$work/kernel.log" 2>&1 || {
  tail -n 40 "$work/kernel.log" >&2
  exit 1
}
chroot "$root" apt-get clean
umount -l "$root/dev/pts" "$root/dev" "$root/sys" "$root/proc"
rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
log "kernel done after $((SECONDS - start)) s"

# First-boot identity and cloud-init configuration.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' >"$root/etc/fstab"
install -m 0644 "$here/image/90-e2e.cfg" "$root/etc/cloud/cloud.cfg.d/90-e2e.cfg"
# A persistent journal so scenarios can scan it after the guest is off.
install -d -m 2755 "$root/var/log/journal"
# No network beyond the harness: apt timers would only wait on it.
for t in apt-daily.timer apt-daily-upgrade.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$t"
done

kernel="$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | tail -n 1)"
initrd="$(find "$root/boot" -maxdepth 1 -name 'initrd.img-*' | sort | tail -n 1)"
if [[ -z "$kernel" || -z "$initrd" ]]; then
  log "no kernel/initrd under $root/boot"
  exit 1
fi

staging="$work/out"
mkdir -p "$staging"
cp "$kernel" "$staging/vmlinuz"
cp "$initrd" "$staging/initrd.img"
mkfs.ext4 -q -L rootfs -d "$root" "$work/rootfs.raw" "$disk_size"
zstd -q -T0 -3 "$work/rootfs.raw" -o "$staging/rootfs.raw.zst"
printf '%s\n' "$recipe_sha" >"$staging/recipe.sha256"
chroot "$root" dpkg-query -W -f "\${Package} \${Version}\n" >"$staging/packages.txt"

rm -rf "$out"
mv "$staging" "$out"
log "image $out built in $((SECONDS - start)) s"
printf '%s\n' "$out"
