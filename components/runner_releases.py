"""actions/runner releases this project can install, with the SHA-256 of each linux-arm64 tarball.

A stack may only name a version listed here: the bootstrap refuses a tarball whose digest differs, so a
version without a verified digest cannot be deployed. To add one, take the value between
`<!-- BEGIN SHA linux-arm64 -->` markers in that release's notes on github.com/actions/runner/releases and
check it against a downloaded tarball (`sha256sum actions-runner-linux-arm64-<v>.tar.gz`).
"""

from __future__ import annotations

#: version -> sha256 of actions-runner-linux-arm64-<version>.tar.gz
ARM64_SHA256: dict[str, str] = {
    "2.331.0": "f5863a211241436186723159a111f352f25d5d22711639761ea24c98caef1a9a",
}

#: The version example stacks and the built-in default stack use.
DEFAULT_VERSION = "2.331.0"
