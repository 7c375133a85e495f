"""Drive the emulated variant's real hook scripts on this x86_64 machine.

The proof runs the same files cloud-init runs on an emulated runner host (binfmt.sh, rootfs.sh),
only with a Debian mirror instead of Ubuntu ports (the only mirror reachable here). Building the
arm64 tree under emulation takes minutes, so the finished tree is kept outside the repository,
keyed by a hash of the recipe: the script's bytes plus every setting it is given. Any change to
either builds a new tree.

Run by hand to warm the cache: `python -m tests.emulation.harness build`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VARIANT = REPO / "cloud-init" / "variants" / "emulated"
BINFMT_HOOK = VARIANT / "binfmt.sh"
ROOTFS_HOOK = VARIANT / "rootfs.sh"
CACHE_ROOT = Path(os.environ.get("ARM64_EMULATION_CACHE", "/var/cache/arm64-runners-emulation"))
MARKER = ".arm64-runner-rootfs-complete"
#: Account the proof's runner runs as (host + rootfs). Not "runner", to stay clear of other tests.
PROOF_USER = "a64proof"


def rootfs_settings() -> dict[str, str]:
    """The hook's settings for this machine: Debian bookworm arm64 instead of Ubuntu noble.

    The package list keeps what the proof exercises: a C compiler (a job compiles an arm64
    binary), sudo (setuid under binfmt's C flag) and docker.io (the arm64 docker CLI).
    """
    suite = os.environ.get("ARM64_EMULATION_SUITE", "bookworm")
    return {
        "ROOTFS_MIRROR": os.environ.get("ARM64_EMULATION_MIRROR", "http://deb.debian.org/debian"),
        "ROOTFS_SUITE": suite,
        "ROOTFS_APT_SUITES": f"{suite} {suite}-updates",
        "ROOTFS_COMPONENTS": "main",
        "ROOTFS_PACKAGES": "ca-certificates sudo gcc libc6-dev docker.io",
        "RUNNER_USER": PROOF_USER,
    }


def recipe_key(settings: dict[str, str]) -> str:
    digest = hashlib.sha256(ROOTFS_HOOK.read_bytes())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def hook_env(extra: dict[str, str]) -> dict[str, str]:
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def run_binfmt_hook() -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BINFMT_HOOK)], env=hook_env({}), check=True, capture_output=True, text=True)


def cached_rootfs(log=sys.stderr) -> tuple[Path, dict[str, float]]:
    """Return the cached tree for the current recipe, building it with rootfs.sh if missing.

    Also returns timings: {"build_s": ...} for a cold build, {"cached_s": ...} otherwise.
    """
    settings = rootfs_settings()
    entry = CACHE_ROOT / recipe_key(settings)
    entry.mkdir(parents=True, exist_ok=True)
    tree = entry / "rootfs"
    with open(entry / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = time.monotonic()
        if (tree / MARKER).exists():
            return tree, {"cached_s": time.monotonic() - started}
        (entry / "recipe.json").write_text(json.dumps(settings, indent=2, sort_keys=True))
        with open(entry / "build.log", "w") as build_log:
            subprocess.run(
                [str(ROOTFS_HOOK)],
                env=hook_env({**settings, "ROOTFS_DIR": str(tree)}),
                check=True,
                stdout=build_log,
                stderr=subprocess.STDOUT,
            )
        elapsed = time.monotonic() - started
        (entry / "build.json").write_text(json.dumps({"build_s": round(elapsed, 1)}))
        print(f"arm64 rootfs built in {elapsed:.0f} s: {tree}", file=log)
        return tree, {"build_s": elapsed}


def copy_tree(source: Path, target: Path) -> float:
    """Private copy of the cached tree for one test session (tests write into it)."""
    started = time.monotonic()
    if target.exists():
        shutil.rmtree(target)
    subprocess.run(["cp", "-a", "--reflink=auto", str(source), str(target)], check=True)
    return time.monotonic() - started


if __name__ == "__main__":
    if sys.argv[1:] != ["build"]:
        sys.exit("usage: python -m tests.emulation.harness build")
    run_binfmt_hook()
    path, timings = cached_rootfs()
    print(json.dumps({"rootfs": str(path), **{k: round(v, 1) for k, v in timings.items()}}))
