#!/usr/bin/env bash
# The slow layer of the e2e image (build_image.sh): one mmdebstrap run builds the arm64 tree into
# $1/root and fetches the package mirror's .debs into $1/mirror.
#
# Host apt resolves and downloads; only dpkg and maintainer scripts run under qemu-user (unpacking,
# py_compile, update-ca-certificates: the minutes of this build). The essential hook sets MODULES=list
# before the kernel is installed, so the one initrd built is small. The customize hook downloads, with
# host apt against the tree's own dpkg state, what installing the mirror's list in the guest needs.
# force-unsafe-io (no fsync per file) only while building: configure.sh drops it from the image.
# Settings (environment): E2E_SUITE, E2E_MIRROR, E2E_PACKAGES (comma list), E2E_MIRROR_PACKAGES.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out=$1
mkdir -p "$out/mirror/partial"
# shellcheck disable=SC2016 # expanded by mmdebstrap's hook shell, where APT_CONFIG is unset
download='APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get install --download-only --yes --no-install-recommends \
  -o Dir::Cache::archives="$E2E_MIRROR_OUT/" $E2E_MIRROR_PACKAGES'
E2E_IMAGE_FILES="$here" E2E_MIRROR_OUT="$out/mirror" \
  mmdebstrap --arch=arm64 --variant=apt --include="$E2E_PACKAGES" \
  --dpkgopt=force-unsafe-io \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --essential-hook="$here/essential.sh" \
  --customize-hook="$download" \
  "$E2E_SUITE" "$out/root" "$E2E_MIRROR"
rmdir "$out/mirror/partial"
