"""Read and write an ext4 disk image with debugfs: no mounts, no loop devices, no root-only
kernel features, and a powered-off guest's disk is exactly what it left behind."""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

DEBUGFS = "/sbin/debugfs" if Path("/sbin/debugfs").exists() else "debugfs"


@dataclass(frozen=True)
class GuestFile:
    """A host file to place at `path` in the guest, root-owned with `mode`."""

    source: Path
    path: str
    mode: int = 0o644


def _debugfs(disk: Path, command: str, *, write: bool = False) -> subprocess.CompletedProcess[bytes]:
    argv = [DEBUGFS, *(["-w"] if write else []), "-R", command, str(disk)]
    return subprocess.run(argv, check=True, capture_output=True)


def read_file(disk: Path, path: str) -> bytes | None:
    """The file's bytes, or None if it does not exist."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "out"
        done = _debugfs(disk, f'dump "{path}" "{target}"')
        if not target.exists() or b"not found" in done.stderr.lower():
            return None
        return target.read_bytes()


def read_text(disk: Path, path: str) -> str | None:
    data = read_file(disk, path)
    return None if data is None else data.decode(errors="replace")


def list_dir(disk: Path, path: str) -> list[str] | None:
    """Entry names of a directory (without . and ..), or None if it does not exist."""
    done = _debugfs(disk, f'ls -p "{path}"')
    if b"not found" in done.stderr.lower():
        return None
    names = []
    for line in done.stdout.decode(errors="replace").splitlines():
        # ls -p: /inode/mode/uid/gid/name/size/
        fields = line.strip().split("/")
        if len(fields) >= 6 and fields[5] not in (".", "..", ""):
            names.append(fields[5])
    return names


def inject(disk: Path, files: list[GuestFile]) -> None:
    """Write root-owned files into the image (parent directories must exist)."""
    commands = []
    for item in files:
        commands += [
            f'rm "{item.path}"',
            f'write "{item.source}" "{item.path}"',
            f'set_inode_field "{item.path}" mode 0{stat.S_IFREG | item.mode:o}',
            f'set_inode_field "{item.path}" uid 0',
            f'set_inode_field "{item.path}" gid 0',
        ]
    with tempfile.NamedTemporaryFile("w", suffix=".debugfs") as script:
        script.write("\n".join(commands) + "\n")
        script.flush()
        subprocess.run([DEBUGFS, "-w", "-f", script.name, str(disk)], check=True, capture_output=True)
    for item in files:
        if read_file(disk, item.path) != item.source.read_bytes():
            raise RuntimeError(f"debugfs did not write {item.path} into {disk}")


def rdump(disk: Path, dest: Path) -> Path:
    """Copy the whole filesystem out (owners and modes kept: run as root)."""
    dest.mkdir(parents=True, exist_ok=True)
    names = list_dir(disk, "/") or []
    commands = [f'rdump "/{name}" "{dest}"' for name in names if name != "lost+found"]
    with tempfile.NamedTemporaryFile("w", suffix=".debugfs") as script:
        script.write("\n".join(commands) + "\n")
        script.flush()
        subprocess.run([DEBUGFS, "-f", script.name, str(disk)], check=True, capture_output=True)
    return dest


def raw_offsets(disk: Path, needle: bytes, chunk: int = 8 << 20) -> list[int]:
    """Byte offsets of `needle` anywhere in the image: files, free blocks, journal, slack.

    Skips holes (SEEK_DATA/SEEK_HOLE) so a sparse 3 GB image scans in seconds.
    """
    hits: list[int] = []
    overlap = len(needle) - 1
    with open(disk, "rb") as f:
        fd = f.fileno()
        end = os.fstat(fd).st_size
        for start, stop in _data_extents(fd, end):
            pos = start
            tail = b""
            while pos < stop:
                f.seek(pos)
                block = f.read(min(chunk, stop - pos))
                window = tail + block
                base = pos - len(tail)
                found = window.find(needle)
                while found != -1:
                    hits.append(base + found)
                    found = window.find(needle, found + 1)
                # A match inside the carried-over tail is found again at the same absolute
                # offset; the set below keeps it once.
                tail = window[-overlap:] if overlap else b""
                pos += len(block)
    return sorted(set(hits))


def _data_extents(fd: int, end: int) -> Iterator[tuple[int, int]]:
    pos = 0
    while pos < end:
        try:
            data = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            return
        hole = os.lseek(fd, data, os.SEEK_HOLE)
        yield data, hole
        pos = hole


@dataclass(frozen=True)
class Account:
    uid: int
    gids: frozenset[int]


def account(root: Path, user: str) -> Account | None:
    """uid and all group ids of `user` from a dumped filesystem's /etc/passwd and /etc/group."""
    passwd = (root / "etc/passwd").read_text().splitlines()
    entry = next((line.split(":") for line in passwd if line.split(":")[0] == user), None)
    if entry is None:
        return None
    gids = {int(entry[3])}
    for line in (root / "etc/group").read_text().splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and user in fields[3].split(","):
            gids.add(int(fields[2]))
    return Account(int(entry[2]), frozenset(gids))


def can_read(root: Path, path: Path, who: Account) -> bool:
    """Whether `who` can open `path` for reading, following the guest's permission bits:
    every ancestor directory searchable, the file readable (owner, then group, then other)."""
    relative = path.relative_to(root)
    current = root
    for part in relative.parts[:-1]:
        current = current / part
        if not _allowed(current.lstat(), who, 0o1):
            return False
    return _allowed(path.lstat(), who, 0o4)


def _allowed(st: os.stat_result, who: Account, bit: int) -> bool:
    if who.uid == 0:
        return True
    if st.st_uid == who.uid:
        return bool(st.st_mode & (bit << 6))
    if st.st_gid in who.gids:
        return bool(st.st_mode & (bit << 3))
    return bool(st.st_mode & bit)


def files_containing(root: Path, needle: bytes) -> list[Path]:
    """Regular files under a dumped tree whose content contains `needle`."""
    found = []
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            if not stat.S_ISREG(path.lstat().st_mode):
                continue
            with open(path, "rb") as f:
                if needle in f.read():
                    found.append(path)
    return found


def guest_path(root: Path, path: Path) -> str:
    return str(PurePosixPath("/") / path.relative_to(root))
