"""Property: whatever bytes a stack file holds, the loader ends in a valid configuration or in
ConfigError with messages naming the file and a key path — never another exception — and the offline
path (`read_stack_bytes` -> validate) and the engine path (values as Pulumi hands them to the program,
`tools.mockengine.flatten_config`) agree on which it is.

Documents are generated two ways: structural mutations of a valid stack (a hostile value at a random
key path, a key removed) dumped as YAML, and textual mutations of its YAML (hostile fragments spliced
in at a random line, spans cut out, bytes that are not UTF-8).
"""

from __future__ import annotations

import copy
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.config import ConfigError, RawConfig, StackConfig, read_stack_bytes, validate
from tools.mockengine import flatten_config

from .hostile import VALID, dump

EXAMPLES = 2_000
STACK_FILE = "stacks/Pulumi.fuzz.yaml"

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "graviton\n",
            "t4g.lage",
            "c7g.larg",
            "0.0.0.0/1",
            "::/1",
            "0:0::/0",
            "http://ghe.example.com",
            "https://u:p@ghe.example.com",
            "²",
            "--5",
            "2",
            "true",
            "yes",
            "ocid1.compartment.oc1..x",
            "\u200bus-east-1",
            "acme/widgets",
            "_gpu",
            "us-east-1",
            "m7g.large",
            "c7a.large",
            "10000000000000000000",
            "",
        ]
    ),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=10), inner, max_size=4)
    ),
    max_leaves=8,
)
_FRAGMENTS = [
    "!!set {a, b}",
    "!!binary aGVsbG8=",
    "!!python/object:os.system {}",
    "2026-01-01",
    "&a [x, x]",
    "*a",
    "*nope",
    "<<: {x: 1}",
    "yes",
    "0o17",
    "1_000",
    "1:30",
    "---",
    "...",
    "\t",
    "{",
    "[" * 60,
    "9" * 4400,
    "~: x",
    "5: x",
    "? [a]\n: b",
    "count: 3",
    "aws:region: eu-west-1",
    '"\\x00"',
    "\u2028",
    "\ufeff",
]


def _key_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            paths += _key_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            paths += _key_paths(value, (*prefix, index))
    return paths


@st.composite
def structural(draw: st.DrawFn) -> bytes:
    document = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        path = draw(st.sampled_from(_key_paths(document)))
        if not path:
            continue
        parent: Any = document
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "remove" and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(_values)
        else:
            parent[path[-1]] = draw(_values)
    return dump(document)


VALID_LINES = dump(VALID).decode().splitlines()


@st.composite
def textual(draw: st.DrawFn) -> bytes:
    lines = list(VALID_LINES)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        at = draw(st.integers(min_value=0, max_value=len(lines)))
        action = draw(st.sampled_from(["splice", "cut", "indent"]))
        if action == "splice":
            fragment = draw(st.sampled_from(_FRAGMENTS) | st.text(max_size=8))
            line = lines[at] if at < len(lines) else ""
            column = draw(st.integers(min_value=0, max_value=len(line)))
            lines[at : at + 1] = [line[:column] + fragment + line[column:]]
        elif action == "cut" and lines:
            del lines[at : at + draw(st.integers(min_value=1, max_value=3))]
        else:
            lines.insert(at, "  " * draw(st.integers(min_value=0, max_value=4)) + draw(st.sampled_from(_FRAGMENTS)))
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        at = draw(st.integers(min_value=0, max_value=len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xe9", b"\xff\xfe", b"\xc3", b"\x00"])) + data[at:]
    return data


def _checked(error: ConfigError) -> str:
    assert error.problems, "a ConfigError without problems"
    for problem in error.problems:
        assert problem.path and problem.message, problem
        assert problem.render(STACK_FILE).startswith(STACK_FILE), problem
    return "refused"


def outcome(data: bytes) -> str:
    """'valid' or 'refused'; anything else raised fails the property."""
    try:
        raw = read_stack_bytes(data, "fuzz", STACK_FILE)
    except ConfigError as error:
        return _checked(error)
    values, secret_keys = flatten_config(raw.values)
    if "github:token" not in values and raw.environments:
        values["github:token"] = "from-esc"  # as tools.plan stands in for the ESC environment
        secret_keys.append("github:token")
    engine = RawConfig(values, frozenset(secret_keys), raw.stack, raw.stack_file, raw.environments)
    results = []
    for config in (raw, engine):
        try:
            results.append("valid" if isinstance(validate(config), StackConfig) else "?")
        except ConfigError as error:
            results.append(_checked(error))
    assert results[0] == results[1], f"offline and engine paths disagree: {results}"
    return results[0]


def test_every_generated_stack_file_is_valid_or_refused_with_a_message() -> None:
    seen: dict[str, int] = {"valid": 0, "refused": 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.one_of(structural(), textual()))
    def run(data: bytes) -> None:
        seen[outcome(data)] += 1

    start = time.perf_counter()
    run()
    elapsed = time.perf_counter() - start
    total = seen["valid"] + seen["refused"]
    print(f"\nloader fuzz: {total} documents ({seen['valid']} valid, {seen['refused']} refused) in {elapsed:.1f} s")
    assert total >= EXAMPLES
    assert seen["valid"] and seen["refused"], seen


def test_the_unmutated_base_is_valid() -> None:
    assert outcome(dump(VALID)) == "valid"
