#!/bin/sh
# The cheap layer of the e2e image (build_image.sh), applied to a copy of the base tree ($1): the
# guest's configuration. Seconds; changing it does not rebuild the base.
set -eu
root=$1
files="$(cd "$(dirname "$0")" && pwd)"

# dpkg as the distribution ships it (base.sh only built with force-unsafe-io); the doc/man/locale
# exclusions stay, like a minimal cloud image.
sed -i '/^force-unsafe-io$/d' "$root/etc/dpkg/dpkg.cfg.d/99mmdebstrap"
# First-boot identity and cloud-init configuration; no resolver (mmdebstrap leaves the build
# host's, which the guest cannot reach anyway).
: >"$root/etc/machine-id"
rm -f "$root/etc/resolv.conf"
rm -f "$root/var/lib/dbus/machine-id"
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' >"$root/etc/fstab"
install -m 0644 "$files/90-e2e.cfg" "$root/etc/cloud/cloud.cfg.d/90-e2e.cfg"
# No SSH server in the image (nothing logs in): cloud-init's ssh module would fail to generate host
# keys without ssh-keygen and end every boot "degraded" (exit 2). The module leaves the shipped list.
grep -qx ' - ssh' "$root/etc/cloud/cloud.cfg"
sed -i '/^ - ssh$/d' "$root/etc/cloud/cloud.cfg"
# A persistent journal so scenarios can scan it after the guest is off.
install -d -m 2755 "$root/var/log/journal"
# No network beyond the harness: apt timers would only wait on it.
for timer in apt-daily.timer apt-daily-upgrade.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$timer"
done
# apt sees only the harness's mirror (mirror.py; served on 127.0.0.1, reached as 10.0.2.100).
rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*
printf 'deb [trusted=yes] http://10.0.2.100/debian/ ./\n' >"$root/etc/apt/sources.list.d/e2e-mirror.list"
