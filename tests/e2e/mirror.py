"""The e2e guest's local package mirror: a flat apt repository of arm64 `.deb`s fetched on the host.

    python3 tests/e2e/mirror.py DIR     writes DIR/Packages, DIR/Packages.gz and DIR/Release

build_image.sh downloads the packages (Debian's archive, host apt against the image's own package
state, so exactly what the guest lacks) and calls this; the harness server serves DIR under
/debian/ and the guest's only apt source is `deb [trusted=yes] http://10.0.2.100/debian/ ./`.
The Release file carries the SHA-256 of each index, and each index the SHA-256 of each package,
so apt in the guest checks every byte it installs against what the host fetched from Debian
(the repository itself is unsigned: it exists only on loopback, for one test run).
Standard library and dpkg-deb only.
"""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from pathlib import Path


def stanza(deb: Path) -> str:
    control = subprocess.run(["dpkg-deb", "-f", str(deb)], check=True, capture_output=True, text=True).stdout
    data = deb.read_bytes()
    return (
        control.rstrip("\n")
        + f"\nFilename: ./{deb.name}\nSize: {len(data)}\nSHA256: {hashlib.sha256(data).hexdigest()}\n"
    )


def write_index(directory: Path) -> list[str]:
    """Index every .deb in `directory`; returns the package names indexed."""
    debs = sorted(directory.glob("*.deb"))
    if not debs:
        raise SystemExit(f"mirror: no .deb files in {directory}")
    packages = "\n".join(stanza(deb) for deb in debs).encode()
    (directory / "Packages").write_bytes(packages)
    (directory / "Packages.gz").write_bytes(gzip.compress(packages, mtime=0))
    lines = ["Origin: arm64-runners-e2e", "Label: arm64-runners-e2e", "Architectures: arm64", "SHA256:"]
    for name in ("Packages", "Packages.gz"):
        data = (directory / name).read_bytes()
        lines.append(f" {hashlib.sha256(data).hexdigest()} {len(data)} {name}")
    (directory / "Release").write_text("\n".join(lines) + "\n")
    return [deb.name.split("_", 1)[0] for deb in debs]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 tests/e2e/mirror.py DIR")
    names = write_index(Path(sys.argv[1]))
    print(f"mirror: {len(names)} packages indexed in {sys.argv[1]}")
