"""The cached arm64 base image: built once per recipe by build_image.sh, outside the repo."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

BUILD_SCRIPT = Path(__file__).with_name("build_image.sh")


@dataclass(frozen=True)
class BaseImage:
    directory: Path

    @property
    def kernel(self) -> Path:
        return self.directory / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.directory / "initrd.img"

    @property
    def compressed(self) -> Path:
        return self.directory / "rootfs.raw.zst"

    @property
    def mirror(self) -> Path:
        """The flat apt repository of the package step's .debs (mirror.py), served under /debian/."""
        return self.directory / "mirror"

    @property
    def raw(self) -> Path:
        """Decompressed (sparse) disk, made on first use and kept next to the compressed one."""
        return self.directory / "rootfs.raw"


def ensure_image() -> BaseImage:
    """Build the image if its recipe changed (minutes the first time), else return the cache."""
    done = subprocess.run([str(BUILD_SCRIPT)], check=True, stdout=subprocess.PIPE, text=True, env=_build_env())
    image = BaseImage(Path(done.stdout.strip().splitlines()[-1]))
    _decompress_once(image)
    return image


def _build_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    if "/usr/sbin" not in env["PATH"].split(":"):
        env["PATH"] += ":/usr/sbin:/sbin"
    return env


def _decompress_once(image: BaseImage) -> None:
    if image.raw.exists():
        return
    with open(image.directory / ".raw.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image.raw.exists():
            return
        partial = image.raw.with_suffix(".partial")
        subprocess.run(
            ["zstd", "-q", "-d", "-f", "--sparse", str(image.compressed), "-o", str(partial)],
            check=True,
        )
        partial.rename(image.raw)


def copy_disk(image: BaseImage, dest: Path) -> Path:
    """A private, sparse copy of the base disk for one scenario (the cache is never booted)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    cp = shutil.which("cp") or "/bin/cp"
    subprocess.run([cp, "--sparse=always", str(image.raw), str(dest)], check=True)
    return dest
