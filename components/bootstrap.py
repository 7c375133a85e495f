"""Renders a runner's cloud-init user-data from the real files under cloud-init/.

`cloud-init/cloud-config.yaml` is the skeleton. The runner's settings (runner.env, handoff.env) are
`write_files` entries of their own; every script, unit and hook goes into one archive entry
(`FILES_ARCHIVE`, a tar, gzip+base64), which the first-boot unit unpacks before it starts. One entry
instead of forty: cloud-init parses the user-data with a pure-Python YAML parser in each of its stages,
which on a small or emulated host took seconds per stage for forty literal blocks (docs/boot-times.md).
`host_files` is the inverse: what a host ends up with, for tests and tools. Nothing secret is ever
rendered: the token
reaches the host at boot through the cloud's hand-off script (see cloud-init/README.md), so the rendered
text can be checked, sized and diffed freely — it is still wrapped in `Output.secret` by `secret_user_data`
because clouds store user-data in clear text.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import io
import re
import shlex
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pulumi
import yaml

from components.config import rules
from components.config.model import RunnerSettings

CLOUD_INIT_DIR = Path(__file__).resolve().parent.parent / "cloud-init"
LIB = "/usr/local/lib/arm64-runner"
ETC = "/etc/arm64-runner"
UNIT_DIR = "/etc/systemd/system"
#: Written by write_files after everything else; bootcmd's path unit starts the bootstrap when it appears.
WRITTEN_TRIGGER = "/run/arm64-runner/user-data-written"
#: Every script, unit and hook, as one tar: unpacked to / by the first-boot unit (cloud-config.yaml).
FILES_ARCHIVE = "/run/arm64-runner/files.tar"

Variant = Literal["native", "emulated"]

_SETTING_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")
#: Setting names that would mean a secret is being rendered into user-data.
_SECRET_KEY = re.compile(r"(^|_)(TOKEN|SECRET|PASSWORD|JITCONFIG)$")


@dataclass(frozen=True)
class TokenHandoff:
    """The per-cloud piece: which cloud-init/handoff/ script fetches the token, and its settings."""

    script: str
    #: Non-secret KEY=VALUE for the script (parameter name, region, URL), written to handoff.env.
    settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BootstrapSpec:
    runner_name: str
    registration_url: str
    labels: tuple[str, ...]
    runner: RunnerSettings
    runner_group: str | None
    handoff: TokenHandoff
    variant: Variant = "native"
    #: False only for images that already carry the packages (offline test guests).
    install_packages: bool = True


def render_user_data(spec: BootstrapSpec, *, source_dir: Path | None = None, canonical: bool = False) -> str:
    """The `#cloud-config` document for one runner (valid for `cloud-init schema --config-file`).

    `canonical`: the archive base64 of the plain tar instead of its gzip, the same text whatever zlib
    this Python links (zlib and zlib-ng compress differently): what the replacement key hashes."""
    source = source_dir or CLOUD_INIT_DIR
    _validate(spec, source)
    document: dict[str, Any] = yaml.safe_load((source / "cloud-config.yaml").read_text())
    files = [
        _entry("/etc/docker/daemon.json", (source / "files" / "daemon.json").read_text(), "0644"),
        _entry(f"{LIB}/handoff.sh", rendered_content(source / "handoff" / spec.handoff.script), "0700"),
    ]
    files += [_entry(f"{LIB}/{p.name}", rendered_content(p), _mode(p)) for p in _files(source / "scripts")]
    files += [_entry(f"{UNIT_DIR}/{p.name}", rendered_content(p), "0644") for p in _files(source / "units")]
    hooks = _variant_files(source, spec.variant)
    files += [_entry(f"{LIB}/variant/{name}", rendered_content(p), _mode(p)) for name, p in hooks]
    entries = [
        _entry(f"{ETC}/runner.env", _env_file(runner_env(spec)), "0644"),
        _entry(f"{ETC}/handoff.env", _env_file(dict(spec.handoff.settings)), "0600"),
        _archive_entry(files, compress=not canonical),
        # Last, so that it exists only once every other file does: its appearance starts the first-boot
        # bootstrap (the path unit bootcmd queues, cloud-init/cloud-config.yaml).
        _entry(WRITTEN_TRIGGER, "write_files is done: starts arm64-runner-bootstrap.service\n", "0644"),
    ]
    document["write_files"] = list(document.get("write_files") or []) + entries
    return "#cloud-config\n" + yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=4096)


def host_files(user_data: str) -> dict[str, dict[str, str]]:
    """Every file a host gets from `user_data`, by path: the write_files entries, with the archive's
    members in place of the archive (each as {"path", "permissions", "content"})."""
    files: dict[str, dict[str, str]] = {}
    for entry in yaml.safe_load(user_data)["write_files"]:
        if entry["path"] != FILES_ARCHIVE:
            files[entry["path"]] = entry
            continue
        data = base64.b64decode(entry["content"])
        if entry.get("encoding") == "gz+b64":
            data = gzip.decompress(data)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for member in archive.getmembers():
                extracted = archive.extractfile(member)
                assert extracted is not None, f"{member.name}: not a regular file"
                path = "/" + member.name
                files[path] = _entry(path, extracted.read().decode(), f"{member.mode:04o}")
    return files


def runner_env(spec: BootstrapSpec) -> dict[str, str]:
    """The non-secret settings the scripts read from /etc/arm64-runner/runner.env."""
    runner = spec.runner
    return {
        "RUNNER_NAME": spec.runner_name,
        "RUNNER_URL": spec.registration_url,
        "RUNNER_LABELS": ",".join(spec.labels),
        "RUNNER_GROUP": spec.runner_group or "",
        "RUNNER_VERSION": runner.version,
        "RUNNER_SHA256": runner.sha256,
        "RUNNER_DOWNLOAD_BASE": runner.download_base_url,
        "RUNNER_EPHEMERAL": _flag(runner.ephemeral),
        "RUNNER_DISABLE_UPDATE": _flag(runner.disable_update),
        "IDLE_TIMEOUT_MINUTES": str(runner.idle_timeout_minutes),
        "IDLE_ACTION": runner.idle_action,
        "BLOCK_METADATA": _flag(runner.block_metadata),
        "PRUNE_THRESHOLD_GB": str(runner.docker_prune_threshold_gb),
        "INSTALL_PACKAGES": _flag(spec.install_packages),
        "RUNNER_VARIANT": spec.variant,
        "RUNNER_USER": "runner",
    }


def template_digest(variant: str = "native", *, source_dir: Path | None = None) -> str:
    """sha256 over every file a render of `variant` may use: a change means instances must be replaced."""
    source = source_dir or CLOUD_INIT_DIR
    digest = hashlib.sha256()
    paths = [source / "cloud-config.yaml"]
    for part in ("scripts", "units", "files", "handoff"):
        paths += _files(source / part)
    paths += [p for _, p in _variant_files(source, variant)]
    for path in paths:
        digest.update(path.relative_to(source).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def gzip_base64(text: str) -> str:
    """gzip (deterministic: no timestamp) then base64, for EC2 `user_data_base64` and OCI metadata."""
    return _gzip_b64(text.encode())


def _gzip_b64(data: bytes) -> str:
    return _b64(gzip.compress(data, compresslevel=9, mtime=0))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def secret_user_data(spec: BootstrapSpec) -> pulumi.Output[str]:
    """The rendered user-data as a secret Output (clouds keep user-data in clear text in state)."""
    return pulumi.Output.secret(render_user_data(spec))


def _validate(spec: BootstrapSpec, source: Path) -> None:
    problem = rules.runner_name_problem(spec.runner_name)
    if problem:
        raise ValueError(problem)
    problems = [p for p in map(rules.label_problem, spec.labels) if p] or ([] if spec.labels else ["no labels"])
    if problems:
        raise ValueError(f"labels {list(spec.labels)!r}: {problems[0]}")
    if not re.fullmatch(r"[0-9a-f]{64}", spec.runner.sha256):
        raise ValueError(f"runner sha256 {spec.runner.sha256!r} is not a SHA-256 hex digest")
    if not (source / "handoff" / spec.handoff.script).is_file() or "/" in spec.handoff.script:
        raise ValueError(f"hand-off script {spec.handoff.script!r} is not a file under cloud-init/handoff/")
    if spec.variant != "native" and not (source / "variants" / spec.variant).is_dir():
        raise ValueError(f"bootstrap variant {spec.variant!r} has no directory cloud-init/variants/")
    for key, value in spec.handoff.settings.items():
        if not _SETTING_KEY.fullmatch(key) or _SECRET_KEY.search(key):
            raise ValueError(f"hand-off setting {key!r}: an UPPER_CASE name that does not denote a secret")
        if not isinstance(value, str):
            # A pulumi Output here would be a secret (or unknown) leaking into user-data.
            raise TypeError(f"hand-off setting {key!r} must be a plain str, got {type(value).__name__}")
    for key, value in {**runner_env(spec), **spec.handoff.settings}.items():
        if "\n" in value or "\0" in value:
            raise ValueError(f"setting {key!r} contains a newline or NUL")


def rendered_content(path: Path) -> str:
    """The file without its whole-line comments (they are for readers of the repo, not the host).

    User-data is size-limited (EC2: 16 KiB). The shebang stays; a file with a heredoc is left whole,
    since a line starting with `#` inside it is data. tests/components/test_bootstrap.py checks with
    bash's own parser that no shell script changes meaning.
    """
    stat = path.stat()
    return _rendered_content(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _rendered_content(path: Path, _mtime_ns: int, _size: int) -> str:
    """Cached per file version: a stack renders one document per runner from the same files."""
    text = path.read_text()
    if "<<" in text:
        return text
    markers = ("#", ";") if path.suffix in (".service", ".timer") else ("#",)
    lines = text.splitlines(keepends=True)
    kept = lines[:1] + [line for line in lines[1:] if not line.lstrip().startswith(markers)]
    return "".join(kept)


def _archive_entry(files: list[dict[str, str]], *, compress: bool) -> dict[str, str]:
    """`files` as one tar (no directories, root-owned, fixed times: the same bytes for the same files)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for file in files:
            data = file["content"].encode()
            member = tarfile.TarInfo(file["path"].lstrip("/"))
            member.size, member.mode = len(data), int(file["permissions"], 8)
            member.uname = member.gname = "root"
            archive.addfile(member, io.BytesIO(data))
    data = buffer.getvalue()
    encoding, content = ("gz+b64", _gzip_b64(data)) if compress else ("b64", _b64(data))
    return {"path": FILES_ARCHIVE, "permissions": "0600", "encoding": encoding, "content": content}


def _env_file(values: Mapping[str, str]) -> str:
    return "".join(f"{key}={shlex.quote(value)}\n" for key, value in values.items())


def _entry(path: str, content: str, permissions: str) -> dict[str, str]:
    return {"path": path, "permissions": permissions, "content": content}


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file()) if directory.is_dir() else []


def _variant_files(source: Path, variant: str) -> Iterator[tuple[str, Path]]:
    """Native hooks, overlaid by the variant's files of the same name (see README: variant hooks)."""
    chosen = {p.name: p for p in _files(source / "variants" / "native")}
    if variant != "native":
        chosen.update({p.name: p for p in _files(source / "variants" / variant)})
    yield from sorted(chosen.items())


def _mode(path: Path) -> str:
    return "0755" if path.stat().st_mode & 0o111 else "0644"


def _flag(value: bool) -> str:
    return "1" if value else "0"


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Multi-line strings (the scripts) as literal blocks: readable and smaller than escaped strings.

    libyaml's emitter when PyYAML has it: the same bytes, about 8x faster (a 100-runner plan renders
    100 documents)."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)
