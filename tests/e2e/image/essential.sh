#!/bin/sh
# mmdebstrap essential hook ($1: the image root), run before the kernel is installed: initramfs-tools
# then builds its one initrd with only the modules the virt machine needs (MODULES=list, plus a hook
# adding the modules listed in initramfs-modules): a few MB instead of ~35 MB, built once.
set -eu
root=$1
mkdir -p "$root/etc/initramfs-tools/conf.d" "$root/etc/initramfs-tools/hooks"
printf 'MODULES=list\n' >"$root/etc/initramfs-tools/conf.d/e2e-modules"
{
  # shellcheck disable=SC2016 # the hook's own $1
  printf '#!/bin/sh\n[ "$1" = prereqs ] && exit 0\n. /usr/share/initramfs-tools/hook-functions\n'
  printf 'manual_add_modules %s\n' "$(tr '\n' ' ' <"$E2E_IMAGE_FILES/initramfs-modules")"
} >"$root/etc/initramfs-tools/hooks/e2e-modules"
chmod 0755 "$root/etc/initramfs-tools/hooks/e2e-modules"
