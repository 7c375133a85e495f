"""Instance metadata: gzipped user data + the token hand-off keys, secret, within OCI's 32,000 bytes."""

from __future__ import annotations

import base64
import gzip

import pytest
import yaml

from components.bootstrap import host_files
from components.config.limits import OCI_METADATA_MAX_BYTES
from components.oci.checks import OciPoolError, check_metadata_size, metadata_bytes
from components.oci.handoff import EXPIRES_KEY, HANDOFF, TOKEN_KEY
from tools.mockengine import is_secret, reveal, run_stack

from .stacks import pool, stack


def instance_and_registration(result):
    (instance,) = result.by_type("oci:Core/instance:Instance")
    (registration,) = [r for r in result.resources if "replacement_fingerprint" in r.inputs]
    return instance, registration


def cloud_config(metadata):
    text = gzip.decompress(base64.b64decode(metadata["user_data"])).decode()
    assert text.startswith("#cloud-config\n")
    return text, yaml.safe_load(text)


def written(text, path):
    return host_files(text)[path]["content"]


def test_metadata_is_secret_and_within_the_oci_limit():
    result = run_stack("dev", stack(pool()))
    instance, _ = instance_and_registration(result)
    assert is_secret(instance.inputs["metadata"]), "user data and token would sit in clear text in state"
    metadata = reveal(instance.inputs["metadata"])
    size = metadata_bytes(metadata)
    assert 2_000 < size <= OCI_METADATA_MAX_BYTES
    print(f"metadata {size} bytes of {OCI_METADATA_MAX_BYTES}")


def test_token_goes_to_its_own_key_never_into_user_data():
    result = run_stack("dev", stack(pool()))
    instance, registration = instance_and_registration(result)
    metadata = reveal(instance.inputs["metadata"])
    token = reveal(registration.outputs["token"])
    assert metadata[TOKEN_KEY] == token
    assert metadata[EXPIRES_KEY] == registration.outputs["expires_at"]
    text, _ = cloud_config(metadata)
    assert token not in text


def test_user_data_installs_the_oci_hand_off_with_the_metadata_keys():
    result = run_stack("dev", stack(pool()))
    instance, _ = instance_and_registration(result)
    text, _ = cloud_config(reveal(instance.inputs["metadata"]))
    lines = written(text, "/etc/arm64-runner/handoff.env").splitlines()
    settings = dict(line.split("=", 1) for line in lines)
    assert {k: v.strip("'") for k, v in settings.items()} == {
        "TOKEN_METADATA_KEY": TOKEN_KEY,
        "EXPIRES_METADATA_KEY": EXPIRES_KEY,
    }
    assert "Bearer Oracle" in written(text, "/usr/local/lib/arm64-runner/handoff.sh")
    assert HANDOFF.script == "oci-metadata.sh"


def test_ephemeral_runners_get_a_jit_config_and_no_expiry_key():
    result = run_stack("dev", stack(pool(), runner={"ephemeral": True}))
    instance, registration = instance_and_registration(result)
    metadata = reveal(instance.inputs["metadata"])
    assert metadata[TOKEN_KEY] == reveal(registration.outputs["token"])
    assert EXPIRES_KEY not in metadata


def test_ssh_key_rides_in_metadata_when_set():
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockKeyMockKeyMockKeyMockKeyMockKey admin@example"
    result = run_stack("dev", stack(pool(), oci={"sshPublicKey": key}))
    instance, _ = instance_and_registration(result)
    assert reveal(instance.inputs["metadata"])["ssh_authorized_keys"] == key


def test_oversized_metadata_is_refused_at_preview_before_any_instance():
    """Failing variant: a long ssh key list pushes the metadata past 32,000 bytes."""
    keys = "\n".join(f"ssh-rsa {'A' * 700} admin{n}@example" for n in range(40))
    with pytest.raises(OciPoolError, match="at most 32000"):
        run_stack("dev", stack(pool(), oci={"sshPublicKey": keys}))


def test_the_size_check_keeps_room_for_a_token_not_yet_minted():
    metadata = {"user_data": "x" * 31_000}
    assert check_metadata_size("r", metadata) == metadata_bytes(metadata)
    with pytest.raises(OciPoolError, match="kept for the token"):
        check_metadata_size("r", metadata, reserve=8192)
