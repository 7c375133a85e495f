"""Strict reading of a stack file: plain YAML values only, bounded in size, every refusal with its line.

PyYAML's `safe_load` is lenient where a stack file must not be: it keeps the last of two duplicate keys
(Pulumi's own parser refuses them), builds sets, bytes and dates that reach `json.dumps`, follows YAML
1.1 (`yes` is true, `017` is 15, `1:30` is 90) and expands alias bombs and 1000-deep nesting until time
or the recursion limit runs out. Here one iterative pass over the parser's events checks everything
before a single object is built: size, nesting depth, the expanded node count (aliases counted each
time they are used), tags, key types, duplicate keys and integer lengths — and says where, as a line
and a key path. Only then is the document constructed, with YAML 1.2 core scalars (`true`/`false`
only; `0o17`, `0x1f` and decimal integers; dates, `1_000`, `017` and `1:30` stay strings, which the
validator then refuses where a number is expected).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from components.config import limits

_TAG = "tag:yaml.org,2002:"
#: Explicit tags a stack file may use: the plain JSON-like types.
_PLAIN_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map"))
_MERGE = _TAG + "merge"
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z|0o[0-7]+\Z|0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z|[-+]?\.(inf|Inf|INF)\Z|\.(nan|NaN|NAN)\Z")


@dataclass(frozen=True)
class YamlRefusal(Exception):
    """The file is refused: `line` (1-based, 0 = the file as a whole), key `path`, message and hint."""

    line: int
    path: str
    message: str
    hint: str = ""


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader (libyaml's parser when PyYAML has it) with YAML 1.2 core-schema resolution."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}


for _tag, _regexp, _first in (
    ("bool", re.compile(r"(true|True|TRUE|false|False|FALSE)\Z"), "tTfF"),
    ("int", _INT, "-+0123456789"),
    ("float", _FLOAT, "-+.0123456789"),
    ("null", re.compile(r"(~|null|Null|NULL|)\Z"), ["~", "n", "N", ""]),
    ("merge", re.compile(r"<<\Z"), "<"),
):
    _Loader.add_implicit_resolver(_TAG + _tag, _regexp, list(_first))


def _construct_bool(loader: _Loader, node: yaml.ScalarNode) -> bool:
    text = str(loader.construct_scalar(node))
    if text.lower() not in ("true", "false"):
        raise yaml.constructor.ConstructorError(None, None, f"{text!r} is not true or false", node.start_mark)
    return text.lower() == "true"


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if not _INT.match(text) or len(text) > limits.MAX_YAML_INT_DIGITS:
        raise yaml.constructor.ConstructorError(None, None, f"{text[:40]!r} is not a whole number", node.start_mark)
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text)


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node))
    if not _FLOAT.match(text) or len(text) > limits.MAX_YAML_INT_DIGITS:
        raise yaml.constructor.ConstructorError(None, None, f"{text[:40]!r} is not a number", node.start_mark)
    special = {"inf": float("inf"), "nan": float("nan")}
    stripped = text.lstrip("+-").lstrip(".").lower()
    value = special.get(stripped)
    if value is None:
        return float(text)
    return -value if text.startswith("-") else value


_Loader.add_constructor(_TAG + "bool", _construct_bool)
_Loader.add_constructor(_TAG + "int", _construct_int)
_Loader.add_constructor(_TAG + "float", _construct_float)


@dataclass
class _Frame:
    """One open mapping or sequence during the event scan."""

    kind: str  # "map" | "seq"
    anchor: str | None
    line: int
    key_path: str
    size: int = 1
    index: int = 0
    #: Mappings: the scalar key waiting for its value (None = the next node is a key).
    key: str | None = None
    expecting_key: bool = True
    seen: dict[str, int] = field(default_factory=dict)


def _child_path(frame: _Frame, key: str) -> str:
    if frame.kind == "seq":
        return f"{frame.key_path}[{key}]"
    if not frame.key_path:
        return key
    # Keys of the `config:` mapping are whole config keys (`arm64-runners:pools`), as the validator names them.
    if frame.key_path == "config":
        return key
    return f"{frame.key_path}.{key}"


def load(text: str) -> Any:
    """The document as plain Python values, or YamlRefusal (which line, which key, why)."""
    _scan(text)
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:  # the scan caught what it could; the constructor is the safety net
        mark = err.problem_mark or err.context_mark
        raise YamlRefusal(mark.line + 1 if mark else 0, "(file)", f"is not valid YAML: {err.problem}") from None
    except yaml.YAMLError as err:
        raise YamlRefusal(0, "(file)", f"is not valid YAML: {err}") from None


def decode(data: bytes) -> str:
    """UTF-8 text of the file (a UTF-8 byte-order mark is dropped), or YamlRefusal naming the line."""
    if len(data) > limits.MAX_STACK_FILE_BYTES:
        raise YamlRefusal(
            0,
            "(file)",
            f"is {len(data)} bytes; stack files are limited to {limits.MAX_STACK_FILE_BYTES}",
            "a stack file holds a few kilobytes of settings; split large lists into several stacks",
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or (
        b"\0" in data[:4]
    ):
        raise YamlRefusal(1, "(file)", "is UTF-16 or UTF-32 encoded", "save the stack file as UTF-8")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise YamlRefusal(
            line, "(file)", f"is not UTF-8: byte 0x{data[err.start]:02x} on line {line}", "save it as UTF-8"
        ) from None


def _scan(text: str) -> None:
    """Check the event stream (iterative: no recursion, no construction) before anything is built."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as err:
        raise _unreadable(text, err) from None
    stack: list[_Frame] = []
    anchors: dict[str, int] = {}
    total = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
                continue
            line = event.start_mark.line + 1
            if isinstance(event, yaml.DocumentStartEvent):
                if total:
                    raise YamlRefusal(line, "(file)", "holds more than one YAML document", "keep one document")
                continue
            parent = stack[-1] if stack else None
            is_key = parent is not None and parent.kind == "map" and parent.expecting_key
            path = _path_of(parent)
            if isinstance(event, yaml.AliasEvent):
                if is_key:
                    raise YamlRefusal(line, path, "uses an alias as a key", "write keys as plain strings")
                size = anchors.get(event.anchor or "", 0)
                total = _count(total, size, line, path)
                _finish_node(stack, size, line)
                continue
            _check_tag(event, line, path)
            if isinstance(event, yaml.ScalarEvent):
                value = event.value
                resolved = event.tag or loader.resolve(yaml.ScalarNode, value, event.implicit)
                if resolved in (_TAG + "int", _TAG + "float") and len(value) > limits.MAX_YAML_INT_DIGITS:
                    raise YamlRefusal(
                        line,
                        path,
                        f"is a number of {len(value)} characters (at most {limits.MAX_YAML_INT_DIGITS})",
                        "no setting of a stack file needs a number that long",
                    )
                if is_key:
                    assert parent is not None
                    _check_key(parent, value, resolved, line)
                total = _count(total, 1, line, path)
                if event.anchor:
                    anchors[event.anchor] = 1
                _finish_node(stack, 1, line)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if is_key:
                    raise YamlRefusal(line, path, "uses a mapping or list as a key", "write keys as plain strings")
                if len(stack) >= limits.MAX_YAML_DEPTH:
                    raise YamlRefusal(
                        line,
                        path if len(path) <= 80 else path[:77] + "…",
                        f"nests deeper than {limits.MAX_YAML_DEPTH} levels",
                        "a stack file needs about five levels",
                    )
                total = _count(total, 1, line, path)
                kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
                stack.append(_Frame(kind, event.anchor, line, path if parent is not None else ""))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                if frame.anchor:
                    anchors[frame.anchor] = frame.size
                _finish_node(stack, frame.size, line)
    except yaml.reader.ReaderError as err:
        raise _unreadable(text, err) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = _path_of(stack[-1]) if stack else "(file)"
        if "nesting depth" in str(err.problem):  # libyaml's own limit, met while it looks ahead
            message, hint = f"nests deeper than {limits.MAX_YAML_DEPTH} levels", "a stack file needs about five levels"
        else:
            message, hint = f"is not valid YAML: {err.problem}", ""
        raise YamlRefusal(mark.line + 1 if mark else 0, where, message, hint) from None
    finally:
        loader.dispose()


def _unreadable(text: str, err: yaml.reader.ReaderError) -> YamlRefusal:
    """A character YAML does not allow (control characters, U+FFFE), with its line."""
    line = text[: err.position].count("\n") + 1
    return YamlRefusal(
        line, "(file)", f"contains the character U+{err.character:04X}, which YAML does not allow", "remove it"
    )


def _path_of(parent: _Frame | None) -> str:
    """Key path of the node that comes next inside `parent`."""
    if parent is None:
        return "(document)"
    if parent.kind == "seq":
        return _child_path(parent, str(parent.index))
    if parent.expecting_key:
        return parent.key_path or "(document)"
    return _child_path(parent, parent.key or "?")


def _check_tag(event: Any, line: int, path: str) -> None:
    tag = getattr(event, "tag", None)
    if tag is None or tag == "!" or tag in _PLAIN_TAGS:
        return
    shown = tag.replace(_TAG, "!!")
    raise YamlRefusal(
        line,
        path,
        f"uses the YAML tag {shown}, which a stack file does not take",
        "write plain strings, numbers, true/false, lists and mappings (quote a value that starts with '!')",
    )


def _check_key(frame: _Frame, value: str, resolved: str, line: int) -> None:
    if resolved == _MERGE:
        frame.key = "<<"
        return
    if resolved != _TAG + "str":
        short = resolved.replace(_TAG, "")
        kind = {"int": "number", "float": "number", "bool": "true/false", "null": "null"}.get(short, short)
        raise YamlRefusal(
            line,
            _child_path(frame, value) or "(document)",
            f"is a {kind} key; keys must be strings",
            f"quote it if you meant the text: '{value}':",
        )
    if value in frame.seen:
        raise YamlRefusal(
            line,
            _child_path(frame, value),
            f"is given twice (first on line {frame.seen[value]})",
            "remove one of them: Pulumi refuses duplicate keys",
        )
    frame.seen[value] = line
    frame.key = value


def _count(total: int, size: int, line: int, path: str) -> int:
    total += size
    if total > limits.MAX_YAML_NODES:
        raise YamlRefusal(
            line,
            path,
            f"makes the document larger than {limits.MAX_YAML_NODES} values (aliases count each time they are used)",
            "a stack file has a few hundred values; remove the repeated aliases",
        )
    return total


def _finish_node(stack: list[_Frame], size: int, line: int) -> None:
    """A node of `size` expanded values is complete: account it to its parent and advance the parent."""
    if not stack:
        return
    parent = stack[-1]
    parent.size += size
    if parent.kind == "seq":
        parent.index += 1
    elif parent.expecting_key:
        parent.expecting_key = False
    else:
        parent.expecting_key = True
        parent.key = None
