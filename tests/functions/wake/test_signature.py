"""X-Hub-Signature-256 against GitHub's published test vector (docs: "Validating webhook deliveries")."""

from __future__ import annotations

from functions.wake.signature import sign, verify

SECRET = b"It's a Secret to Everybody"
PAYLOAD = b"Hello, World!"
EXPECTED = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_githubs_published_vector() -> None:
    assert sign(SECRET, PAYLOAD) == EXPECTED
    assert verify(SECRET, PAYLOAD, EXPECTED)


def test_anything_else_is_refused() -> None:
    assert not verify(SECRET, PAYLOAD, None)
    assert not verify(SECRET, PAYLOAD, "")
    assert not verify(SECRET, PAYLOAD, EXPECTED.removeprefix("sha256="))  # no algorithm prefix
    assert not verify(SECRET, PAYLOAD, EXPECTED.replace("sha256=", "sha1="))
    assert not verify(SECRET, PAYLOAD + b" ", EXPECTED)  # another body
    assert not verify(b"It's a secret to everybody", PAYLOAD, EXPECTED)  # another secret
    assert not verify(SECRET, PAYLOAD, EXPECTED[:-1] + "f")  # one digit off
    assert not verify(b"", PAYLOAD, sign(b"", PAYLOAD))  # an empty secret verifies nothing


def test_compare_is_constant_time(monkeypatch) -> None:
    """The comparison goes through hmac.compare_digest, never `==` on the strings."""
    import functions.wake.signature as module

    calls: list[tuple[bytes, bytes]] = []

    def recording(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return a == b

    monkeypatch.setattr(module.hmac, "compare_digest", recording)
    assert verify(SECRET, PAYLOAD, EXPECTED)
    assert calls == [(EXPECTED.encode(), EXPECTED.encode())]
