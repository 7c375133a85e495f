"""The typed model the stack file becomes: defaults, labels, names, URLs."""

from __future__ import annotations

from components.config import RawConfig, validate
from components.config.limits import is_graviton, is_x86_64

from .test_invalid_stacks import BASE


def build(config):
    secret = {k for k, v in config.items() if isinstance(v, dict) and set(v) == {"secure"}}
    return validate(RawConfig(config, frozenset(secret), "dev", "stacks/Pulumi.dev.yaml"))


def test_defaults_and_labels():
    config = build(BASE)
    pool = config.pools[0]
    assert config.runner.sha256 == "f5863a211241436186723159a111f352f25d5d22711639761ea24c98caef1a9a"
    assert config.runner_labels(pool) == ("self-hosted", "linux", "ARM64", "large")
    assert config.runner_names(pool) == ["arm64-dev-graviton-0"]
    assert config.runner.idle_timeout_minutes == 30
    assert config.github.registration_url == "https://github.com/tzervas/embeddenator"
    assert config.github.api_url == "https://api.github.com"
    assert config.github.scope_path == "/repos/tzervas/embeddenator"


def test_emulated_pool_gets_the_emulated_label_and_duplicates_are_dropped():
    config = build(
        {
            **BASE,
            "arm64-runners:pools": [
                {"name": "qemu", "cloud": "emulated", "instanceType": "c7a.large", "labels": ["ARM64", "large"]}
            ],
        }
    )
    assert config.runner_labels(config.pools[0]) == ("self-hosted", "linux", "ARM64", "large", "emulated")


def test_enterprise_server_org_target():
    config = build(
        {
            **BASE,
            "github:owner": "acme",
            "arm64-runners:github": {"organization": True, "runnerGroup": "arm64", "baseUrl": "https://ghe.acme.test/"},
        }
    )
    target = config.github
    assert target.api_url == "https://ghe.acme.test/api/v3"
    assert target.registration_url == "https://ghe.acme.test/acme"
    assert target.scope_path == "/orgs/acme"
    assert target.repository is None and target.runner_group == "arm64"


def test_plain_top_level_values_arrive_as_strings_from_pulumi():
    config = build({**BASE, "arm64-runners:ttlHours": "48", "arm64-runners:utilisation": "0.5"})
    assert config.ttl_hours == 48 and config.utilisation == 0.5


def test_instance_type_architecture_rules():
    for arm in (
        "t4g.medium",
        "m7g.large",
        "c7gn.xlarge",
        "r8gd.2xlarge",
        "x2gd.large",
        "im4gn.large",
        "is4gen.xlarge",
        "i4g.large",
        "g5g.xlarge",
        "a1.large",
        "hpc7g.4xlarge",
    ):
        assert is_graviton(arm) and not is_x86_64(arm), arm
    for x86 in ("t3.large", "c7a.large", "m5.large", "c6i.xlarge", "g5.xlarge", "x2iedn.xlarge", "m7i-flex.large"):
        assert is_x86_64(x86) and not is_graviton(x86), x86
    assert not is_x86_64("mac2.metal") and not is_graviton("mac2.metal")
