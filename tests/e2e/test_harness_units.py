"""Fast checks of the e2e harness pieces (no guest boots): server, relay, disk reading,
record parsing, QEMU command line. These run in every `pytest`; the boots need `-m e2e`."""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import stat
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from .disk import GuestFile, account, can_read, files_containing, inject, list_dir, raw_offsets, rdump, read_file
from .handoff_server import HandoffServer
from .image import BUILD_SCRIPT, BaseImage
from .mirror import write_index
from .records import flag_value, parse_call, report_lines
from .scenarios import make_token, tamper
from .stack import build_stand_in_tarball
from .vm import NETWORK_CONFIG, PROBE_FILES, RELAY, make_seed, qemu_argv

HERE = Path(__file__).parent
SHELLCHECK = Path(sys.executable).with_name("shellcheck")


def fetch(server: HandoffServer, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# -- hand-off server ------------------------------------------------------------------------------


def test_server_hands_the_token_out_once_then_answers_gone(tmp_path: Path) -> None:
    with HandoffServer("ATOKEN", None) as server:
        assert server._httpd.server_address[0] == "127.0.0.1"
        assert fetch(server, "/handoff/token") == (200, b"ATOKEN\n")
        assert fetch(server, "/handoff/token")[0] == 410
        assert [r.status for r in server.token_fetches()] == [200, 410]


@pytest.mark.parametrize(("mode", "status"), [("missing", 404), ("expired", 410)])
def test_server_plays_missing_and_expired_tokens(mode: str, status: int) -> None:
    with HandoffServer("ATOKEN", None, mode) as server:  # type: ignore[arg-type]
        code, body = fetch(server, "/handoff/token")
    assert code == status and b"ATOKEN" not in body


def test_server_serves_the_tarball_by_its_release_name_only(tmp_path: Path) -> None:
    tarball = tmp_path / "actions-runner-linux-arm64-9.9.9.tar.gz"
    tarball.write_bytes(b"tar bytes")
    with HandoffServer("ATOKEN", tarball) as server:
        assert fetch(server, f"/runner/v9.9.9/{tarball.name}") == (200, b"tar bytes")
        assert fetch(server, "/runner/v9.9.9/other.tar.gz")[0] == 404
        assert [r.status for r in server.tarball_fetches()] == [200, 404]


# -- relay (what QEMU's guestfwd runs per connection) ---------------------------------------------


def test_relay_carries_one_http_exchange_over_stdio() -> None:
    with HandoffServer("ATOKEN", None) as server:
        guest, qemu_side = socket.socketpair()
        with qemu_side:
            relay = subprocess.Popen(
                [sys.executable, str(RELAY), "127.0.0.1", str(server.port)],
                stdin=qemu_side.fileno(),
                stdout=qemu_side.fileno(),
            )
        guest.sendall(b"GET /ping HTTP/1.0\r\nHost: 10.0.2.100\r\n\r\n")
        answer = b""
        while chunk := guest.recv(4096):
            answer += chunk
        guest.close()
        assert relay.wait(timeout=10) == 0
    assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(b"pong\n")


def test_relay_refuses_a_non_loopback_target() -> None:
    done = subprocess.run([sys.executable, str(RELAY), "10.0.2.2", "80"], capture_output=True, text=True, timeout=10)
    assert done.returncode != 0 and "refusing non-loopback" in done.stderr


# -- disk reading with debugfs --------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> tuple[Path, str]:
    """A 16 MiB ext4 image made like the real one (mkfs.ext4 -d), with a secret in a private file."""
    if os.geteuid() != 0:
        pytest.skip("needs root to give files other owners inside the image")
    token = make_token()
    root = tmp_path / "tree"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("root:x:0:0::/root:/bin/bash\nrunner:x:1000:1000::/home/runner:/bin/bash\n")
    (root / "etc/group").write_text("root:x:0:\nrunner:x:1000:\ndocker:x:999:runner\n")
    (root / "secret").mkdir(mode=0o700)
    (root / "secret/token").write_text(f"token={token}\n")
    (root / "shared").mkdir()
    (root / "shared/notes").write_text("nothing here\n")
    (root / "shared/docker-only").write_text(f"{token}\n")
    os.chown(root / "shared/docker-only", 0, 999)
    (root / "shared/docker-only").chmod(0o640)
    image = tmp_path / "disk.raw"
    subprocess.run(["mkfs.ext4", "-q", "-d", str(root), str(image), "16M"], check=True)
    return image, token


def test_raw_scan_finds_every_copy_of_a_secret(small_disk: tuple[Path, str]) -> None:
    image, token = small_disk
    hits = raw_offsets(image, token.encode(), chunk=4096)
    assert len(hits) == 2
    with open(image, "rb") as f:
        for offset in hits:
            f.seek(offset)
            assert f.read(len(token)) == token.encode()
    assert raw_offsets(image, make_token().encode()) == []


def test_read_list_and_inject_without_mounting(small_disk: tuple[Path, str], tmp_path: Path) -> None:
    image, token = small_disk
    assert read_file(image, "/secret/token") == f"token={token}\n".encode()
    assert read_file(image, "/secret/absent") is None
    assert sorted(list_dir(image, "/shared") or []) == ["docker-only", "notes"]
    assert list_dir(image, "/nowhere") is None
    script = tmp_path / "probe"
    script.write_text("#!/bin/sh\necho probe\n")
    inject(image, [GuestFile(script, "/etc/probe", 0o755)])
    assert read_file(image, "/etc/probe") == script.read_bytes()
    dumped = rdump(image, tmp_path / "dump")
    mode = (dumped / "etc/probe").stat()
    assert stat.S_IMODE(mode.st_mode) == 0o755 and mode.st_uid == 0


def test_readability_follows_owner_group_other_and_directories(small_disk: tuple[Path, str], tmp_path: Path) -> None:
    image, token = small_disk
    root = rdump(image, tmp_path / "dump")
    runner = account(root, "runner")
    assert runner is not None and runner.uid == 1000 and runner.gids == {1000, 999}
    found = {str(p.relative_to(root)): can_read(root, p, runner) for p in files_containing(root, token.encode())}
    # /secret is 0700 root: unreadable; docker-only is group docker (runner is a member): readable.
    assert found == {"secret/token": False, "shared/docker-only": True}


# -- records and console --------------------------------------------------------------------------


def test_call_records_and_report_lines_parse() -> None:
    call = parse_call(
        "1-2-config.sh",
        "script=config.sh\nuid=1000\nuser=runner\ncwd=/opt/actions-runner\narg=--url\narg=https://x/y\n"
        "env=HOME\nACTIONS_RUNNER_INPUT_TOKEN_present=1\n",
    )
    assert (call.script, call.uid, call.user) == ("config.sh", 1000, "runner")
    assert flag_value(call.args, "--url") == "https://x/y" and flag_value(call.args, "--name") is None
    assert call.env_names == {"HOME"} and call.fields["ACTIONS_RUNNER_INPUT_TOKEN_present"] == "1"
    console = (
        "[  90.1] cloud-init[700]: arm64-runner: READY name=a labels=b\r\n"
        "noise\narm64-runner: FAILED step=x reason=y\n"
        "[  90.3] cloud-init[700]: arm64-runner: FAILED step=x reason=y\n"
    )
    assert report_lines(console) == [("READY", "name=a labels=b"), ("FAILED", "step=x reason=y")]


def test_tampered_tarball_unpacks_but_fails_the_checksum(tmp_path: Path) -> None:
    source = tmp_path / "config.sh"
    source.write_text("#!/bin/sh\n")
    genuine = tmp_path / "a.tar.gz"
    with tarfile.open(genuine, "w:gz") as archive:
        archive.add(source, "config.sh")
    tampered = tamper(genuine, tmp_path / "t" / genuine.name)
    assert hashlib.sha256(tampered.read_bytes()).digest() != hashlib.sha256(genuine.read_bytes()).digest()
    subprocess.run(["tar", "-xzf", str(tampered), "-C", str(tmp_path / "t")], check=True)
    assert (tmp_path / "t/config.sh").exists()


# -- guest boot plumbing --------------------------------------------------------------------------


def test_qemu_network_reaches_only_the_loopback_server(tmp_path: Path) -> None:
    image = BaseImage(tmp_path)
    argv = qemu_argv(image, tmp_path / "d", tmp_path / "s", tmp_path / "c", server_port=4242, kernel_args=["x=1"])
    netdev = argv[argv.index("-netdev") + 1]
    assert netdev.startswith("user,id=net0,") and ",restrict=on," in netdev
    assert netdev.endswith(f"guestfwd=tcp:10.0.2.100:80-cmd:{sys.executable} {RELAY} 127.0.0.1 4242")
    assert "hostfwd" not in netdev and "-nic" not in argv and argv.count("-netdev") == 1
    # One NIC, without the iPXE option ROM (ipxe-qemu is not installed by CI; the guest boots -kernel).
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-device"] == ["virtio-net-pci,netdev=net0,romfile="]
    assert argv[argv.index("-cpu") + 1] == "cortex-a72" and "-no-reboot" in argv
    assert argv[argv.index("-append") + 1].endswith("net.ifnames=0 x=1")


def test_seed_is_a_nocloud_disk_with_a_static_network(tmp_path: Path) -> None:
    seed = make_seed(tmp_path, "#cloud-config\n{}\n", instance_id="i-1", hostname="h")
    assert seed.stat().st_size > 0
    assert stat.S_IMODE((tmp_path / "user-data").stat().st_mode) == 0o600
    with open(seed, "rb") as f:
        f.seek(32768)
        assert f.read(6)[1:6] == b"CD001"  # ISO9660, which cloud-localds labels cidata
    network = (tmp_path / "network-config").read_text()
    assert yaml.safe_load(network) == NETWORK_CONFIG and "10.0.2.15/24" in network


HOOKS = sorted((HERE / "image").glob("*.sh"))


@pytest.mark.parametrize("script", [BUILD_SCRIPT, *HOOKS, *(f.source for f in PROBE_FILES if f.mode & 0o111)])
def test_harness_shell_is_shellcheck_clean(script: Path) -> None:
    done = subprocess.run([str(SHELLCHECK), "-x", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_image_recipe_key_changes_with_the_recipe() -> None:
    def recipe(**env: str) -> str:
        done = subprocess.run(
            [str(BUILD_SCRIPT), "--recipe"], capture_output=True, text=True, check=True, env={**os.environ, **env}
        )
        return done.stdout.strip()

    assert recipe() == recipe()
    assert recipe(E2E_SUITE="bookworm") != recipe()
    assert recipe(E2E_CACHE="/elsewhere").startswith("/elsewhere/")


def test_stand_in_tarball_lets_root_and_runner_both_record(tmp_path: Path) -> None:
    """What the bootstrap does with the tarball (unpack as root, chown to the runner, run
    installdependencies.sh as root, config.sh as the runner): both calls get recorded."""
    if os.geteuid() != 0:
        pytest.skip("needs root to unpack and switch users like the bootstrap")
    path, sha256 = build_stand_in_tarball(tmp_path / "dl", "9.9.9")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    assert build_stand_in_tarball(tmp_path / "again", "9.9.9")[1] == sha256, "not deterministic"
    # pytest's tmp_path sits under a 0700 directory the other user cannot traverse.
    with tempfile.TemporaryDirectory(dir="/var/tmp") as shared:
        Path(shared).chmod(0o755)
        _unpack_and_register(path, Path(shared) / "runner-root")


def _unpack_and_register(path: Path, root: Path) -> None:
    root.mkdir()
    subprocess.run(["tar", "-xzf", str(path), "-C", str(root)], check=True)
    assert stat.S_IMODE((root / "_fake/calls").stat().st_mode) == 0o1777
    subprocess.run(["chown", "-R", "nobody:", str(root)], check=True)
    subprocess.run([str(root / "bin/installdependencies.sh")], check=True, capture_output=True)
    configured = subprocess.run(
        ["runuser", "-u", "nobody", "--", "./config.sh", "--unattended", "--url", "u", "--name", "n"],
        cwd=root,
        env={**os.environ, "ACTIONS_RUNNER_INPUT_TOKEN": "T"},
        capture_output=True,
        text=True,
    )
    assert configured.returncode == 0, configured.stderr
    scripts = sorted(name.split("-", 2)[2] for name in os.listdir(root / "_fake/calls"))
    assert scripts == ["config.sh", "installdependencies.sh"]


# -- local package mirror -------------------------------------------------------------------------


def make_deb(directory: Path, name: str, version: str) -> Path:
    tree = directory / f"{name}-tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN/control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: arm64\nMaintainer: e2e <e2e@example.invalid>\n"
        f"Description: test package {name}\n"
    )
    deb = directory / f"{name}_{version.replace(':', '%3a')}_arm64.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)], check=True, capture_output=True)
    return deb


def test_mirror_index_lists_every_deb_with_its_digest(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    debs = [make_deb(mirror, "docker-cli", "26.1.5+dfsg1-9"), make_deb(mirror, "tini", "1:0.19.0-1")]
    assert write_index(mirror) == ["docker-cli", "tini"]
    stanzas = (mirror / "Packages").read_text().split("\n\n")
    for deb, text in zip(debs, stanzas, strict=True):
        fields = dict(line.split(": ", 1) for line in text.strip().splitlines() if ": " in line)
        assert fields["Filename"] == f"./{deb.name}"
        assert fields["SHA256"] == hashlib.sha256(deb.read_bytes()).hexdigest()
        assert fields["Size"] == str(deb.stat().st_size)
    assert gzip.decompress((mirror / "Packages.gz").read_bytes()) == (mirror / "Packages").read_bytes()
    release = (mirror / "Release").read_text()
    for name in ("Packages", "Packages.gz"):
        data = (mirror / name).read_bytes()
        assert f" {hashlib.sha256(data).hexdigest()} {len(data)} {name}\n" in release


def test_server_serves_the_mirror_directory_and_nothing_outside_it(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "Packages").write_text("Package: x\n")
    (mirror / "tini_1%3a0.19_arm64.deb").write_bytes(b"deb bytes")
    (tmp_path / "secret").write_text("outside")
    with HandoffServer("ATOKEN", None, mirror=mirror) as server:
        assert fetch(server, "/debian/./Packages") == (200, b"Package: x\n")
        assert fetch(server, "/debian/tini_1%253a0.19_arm64.deb") == (200, b"deb bytes")  # apt quotes '%'
        assert fetch(server, "/debian/../secret")[0] == 404
        assert fetch(server, "/debian/%2e%2e/secret")[0] == 404
        assert fetch(server, "/debian/Release")[0] == 404
        assert [r.status for r in server.mirror_fetches()] == [200, 200, 404, 404, 404]
    with HandoffServer("ATOKEN", None) as server:
        assert fetch(server, "/debian/Packages")[0] == 404


def test_mirror_holds_the_package_steps_own_list() -> None:
    """build_image.sh reads install-packages.sh's `required`/`optional` lists: the mirror cannot miss
    a package the step installs (Debian 13 needs docker-cli and docker-buildx next to docker.io)."""
    listed = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--mirror-packages"], capture_output=True, text=True, check=True
    ).stdout.split()
    step = (HERE.parents[1] / "cloud-init/scripts/install-packages.sh").read_text()
    for array in ("required", "optional"):
        words = step.split(f"\n{array}=(", 1)[1].split(")", 1)[0].split()
        assert set(words) <= set(listed), array
    assert {"docker.io", "docker-cli", "docker-buildx", "busybox-static"} <= set(listed)
