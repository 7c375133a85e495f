"""A small checked reader over the stack file's nested mappings.

Each read names the key path, so every problem says exactly where it is; keys nobody asked for are
reported with a did-you-mean. Problems are collected, not raised, so one run shows all of them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    hint: str = ""
    #: 1-based line in the stack file, when the problem was found while reading the YAML.
    line: int = 0

    def render(self, stack_file: str) -> str:
        hint = f"\n    hint: {self.hint}" if self.hint else ""
        where = f"{stack_file}:{self.line}" if self.line else stack_file
        return f"{where}: {self.path}: {self.message}{hint}"


class ConfigError(Exception):
    """The stack file is invalid; `problems` lists every problem found, in file order."""

    def __init__(self, stack_file: str, problems: Sequence[Problem]):
        self.stack_file = stack_file
        self.problems = list(problems)
        super().__init__("\n".join(p.render(stack_file) for p in self.problems))


_TYPE_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}
_EXAMPLES = {bool: "true", int: "2", float: "0.5", str: "text"}
#: Plain top-level values reach a Pulumi program as strings; these are the ones taken as numbers.
_INT_TEXT = re.compile(r"-?[0-9]{1,18}\Z")
_FLOAT_TEXT = re.compile(r"-?([0-9]{1,18}(\.[0-9]{0,18})?|\.[0-9]{1,18})([eE][-+]?[0-9]{1,3})?\Z")


def type_name(kind: type) -> str:
    return _TYPE_NAMES.get(kind, kind.__name__)


def suggest(key: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(sorted(known))}"


class Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, path: str, message: str, hint: str = "") -> None:
        self.items.append(Problem(path, message, hint))


_MISSING: Any = object()


class Section:
    """Reads the keys of one mapping at `path`; call `done()` to report keys that were not read."""

    def __init__(self, problems: Problems, path: str, data: Any, *, sep: str = ".", plain_strings: bool = False):
        self.problems = problems
        self.path = path
        self.sep = sep
        #: True for the top-level keys: Pulumi hands plain values to the program as strings ("48"),
        #: so "48" is a number there. Inside objects (JSON) a quoted "2" is a string and refused.
        self.plain_strings = plain_strings
        self.read_keys: list[str] = []
        self.valid = isinstance(data, Mapping)
        if data is not None and not self.valid:
            problems.add(path, f"must be a mapping of keys, got {type(data).__name__}")
        self.data: Mapping[str, Any] = data if self.valid else {}

    def key_path(self, key: str) -> str:
        return f"{self.path}{self.sep}{key}"

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        self.read_keys.append(key)
        return self.data.get(key)

    def get(
        self,
        key: str,
        kind: type[T],
        default: T = _MISSING,
        *,
        choices: Sequence[T] | None = None,
        check: Callable[[Any], str | None] | None = None,
        hint: str = "",
    ) -> T:
        """The value at `key` if it has the right type (and passes `check`), else `default`.

        Without a default the key is required. `check` returns a problem message or None.
        """
        self.read_keys.append(key)
        path = self.key_path(key)
        if key not in self.data:
            if default is _MISSING:
                self.problems.add(path, "is required but missing", hint)
                return None  # type: ignore[return-value]
            return default
        value = self.data[key]
        if value is None:
            self.problems.add(
                path, "is empty (null)", f"give it a value, e.g. {key}: {_EXAMPLES.get(kind)}, or remove the key"
            )
            return default if default is not _MISSING else None  # type: ignore[return-value]
        value = _coerce(value, kind) if self.plain_strings else _widen(value, kind)
        if not _is_kind(value, kind):
            self.problems.add(
                path, f"must be {type_name(kind)}, got {_shown(value)}", _type_hint(key, kind, value, hint)
            )
            return default if default is not _MISSING else None  # type: ignore[return-value]
        if choices is not None and value not in choices:
            allowed = ", ".join(str(c) for c in choices)
            self.problems.add(path, f"{value!r} is not one of the allowed values: {allowed}", hint)
            return default if default is not _MISSING else None  # type: ignore[return-value]
        if check is not None:
            message = check(value)
            if message:
                self.problems.add(path, message, hint)
                return default if default is not _MISSING else None  # type: ignore[return-value]
        return value

    def get_list(
        self,
        key: str,
        kind: type[T],
        default: Sequence[T] = (),
        *,
        check: Callable[[Any], str | None] | None = None,
        hint: str = "",
        max_items: int | None = None,
    ) -> tuple[T, ...]:
        self.read_keys.append(key)
        path = self.key_path(key)
        if key not in self.data:
            return tuple(default)
        value = self.data[key]
        if value is None:
            self.problems.add(path, "is empty (null)", f"write {key}: [] for an empty list, or remove the key")
            return tuple(default)
        if not isinstance(value, list):
            plural = {bool: "true/false values", int: "whole numbers", str: "strings"}.get(kind, type_name(kind))
            example = f"[{value}]" if _is_kind(value, kind) else f"[{_EXAMPLES.get(kind)}, ...]"
            self.problems.add(
                path,
                f"must be a list of {plural}, got {_shown(value)}",
                f"write a list, even for one item: {key}: {example}",
            )
            return tuple(default)
        if max_items is not None and len(value) > max_items:
            self.problems.add(path, f"has {len(value)} items; at most {max_items}", hint)
            return tuple(default)
        items: list[T] = []
        for i, item in enumerate(value):
            item = _widen(item, kind)
            if not _is_kind(item, kind):
                self.problems.add(
                    f"{path}[{i}]",
                    f"must be {type_name(kind)}, got {_shown(item)}",
                    _type_hint(key, kind, item, hint),
                )
                continue
            message = check(item) if check else None
            if message:
                self.problems.add(f"{path}[{i}]", message, hint)
                continue
            items.append(item)
        return tuple(items)

    def done(self) -> None:
        known = list(dict.fromkeys(self.read_keys))
        for key in self.data:
            if key not in known:
                self.problems.add(self.key_path(str(key)), "is not a known key", suggest(str(key), known))


def _coerce(value: Any, kind: type) -> Any:
    """Plain top-level Pulumi config values arrive as strings; accept "30" for an int and "true" for a bool
    (ASCII digits only: "²" and "--5" pass str.isdigit-style checks and then fail int())."""
    if isinstance(value, str):
        if kind is int and _INT_TEXT.match(value):
            return int(value)
        if kind is bool and value in ("true", "false", "True", "False", "TRUE", "FALSE"):
            return value.lower() == "true"
        if kind is float and _FLOAT_TEXT.match(value):
            return float(value)
    return _widen(value, kind)


def _widen(value: Any, kind: type) -> Any:
    """A whole number where a number is asked for."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_hint(key: str, kind: type, value: Any, hint: str) -> str:
    """A quoted number or boolean gets the one hint that fixes it; otherwise the caller's or a generic one."""
    if isinstance(value, str) and kind in (int, float, bool) and _coerce(value, kind) is not value:
        return f"remove the quotes: {key}: {value} (a quoted value is a string)"
    return hint or f"write it as {type_name(kind)}, e.g. {key}: {_EXAMPLES.get(kind)}"


def _is_kind(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)
