"""How the registration token reaches an OCI runner: a custom instance-metadata key, read over IMDSv2.

What OCI offers: a secret store an instance can read (Vault secrets) needs an *instance principal* — a
tenancy-level dynamic group and IAM policy, which a compartment-scoped stack cannot create and which
would give every job on the host the same read access. What every instance has is its metadata service
(169.254.169.254, link-local, reachable only from the instance itself). So the token goes into the
instance's `metadata` under `arm64_runner_token` (its expiry under `arm64_runner_token_expires_at`),
never into user data, and `cloud-init/handoff/oci-metadata.sh` reads it once over the v2 endpoint
(`Authorization: Bearer Oracle`; the legacy v1 endpoints are disabled on the instance).

The window that remains, exactly:
- On the host, until the `harden` step blocks the metadata service for the runner user and for
  containers (BLOCK_METADATA): no job can run yet — the runner is not registered before that step's
  predecessor, `register`, and jobs start only after `service`. Root on the host can read it at any time,
  and so can a job that becomes root: the block is an iptables owner match, which a member of the
  `docker` group defeats with `docker run --network host` (container root is uid 0 on the host).
- Through the OCI API: anyone allowed to read the instance (`inspect`/`read instances` in the
  compartment) sees the metadata, token included. A registration token expires one hour after it was
  minted (the script refuses an expired one), and the key cannot be removed from inside the instance
  (that needs an API credential), so it stays readable there after use — harmless once expired.
- Ephemeral runners get an encoded JIT config instead: bound to this one runner, used at first start;
  it has no expiry to check, so it remains readable through the OCI API for the life of the instance.
- In the Pulumi state, the metadata is a secret (encrypted with the stack's secrets provider).
"""

from __future__ import annotations

from components.bootstrap import TokenHandoff

TOKEN_KEY = "arm64_runner_token"
EXPIRES_KEY = "arm64_runner_token_expires_at"

HANDOFF = TokenHandoff(
    script="oci-metadata.sh",
    settings={"TOKEN_METADATA_KEY": TOKEN_KEY, "EXPIRES_METADATA_KEY": EXPIRES_KEY},
)


def instance_metadata(user_data_base64: str, token: str, expires_at: str, ssh_public_key: str | None) -> dict[str, str]:
    """The instance's metadata map: cloud-init's user data, the hand-off keys, the optional ssh key.

    The expiry key is left out when the registration has no expiry (a JIT config)."""
    metadata = {"user_data": user_data_base64, TOKEN_KEY: token}
    if expires_at:
        metadata[EXPIRES_KEY] = expires_at
    if ssh_public_key:
        metadata["ssh_authorized_keys"] = ssh_public_key
    return metadata
