"""The base of every dynamic resource of the project: Pulumi's, minus a recursion leak.

`pulumi.dynamic.Resource` serializes its provider with `serialize_provider` (pulumi 3.x,
pulumi/dynamic/dynamic.py), which sorts dictionaries by replacing `pickle._Pickler._batch_setitems` with
a sorting wrapper around the current one — and never puts the original back. Every dynamic resource a
process declares adds one wrapper, so a program that declares about a thousand of them (a few hundred
runners) fails with `RecursionError` inside pickle. Putting the original back before each declaration
keeps exactly one wrapper: the serialization stays sorted (deterministic) and depth stays constant.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pulumi.dynamic


def _unwrapped(method: Callable[..., Any]) -> Callable[..., Any]:
    """The standard library's method under any sorting wrappers already installed."""
    while getattr(method, "__qualname__", "") != "_Pickler._batch_setitems" and method.__closure__:
        inner = [c.cell_contents for c in method.__closure__ if callable(c.cell_contents)]
        if not inner:
            break
        method = inner[0]
    return method


_BATCH_SETITEMS = _unwrapped(pickle._Pickler._batch_setitems)  # type: ignore[attr-defined]


def reset_pickler() -> None:
    """Undo the wrappers `serialize_provider` left behind (it installs a fresh one on each call)."""
    pickle._Pickler._batch_setitems = _BATCH_SETITEMS  # type: ignore[attr-defined]


class DynamicResource(pulumi.dynamic.Resource):
    """`pulumi.dynamic.Resource` whose provider serialization never deepens the pickler's wrapper chain."""

    def __init__(
        self,
        provider: pulumi.dynamic.ResourceProvider,
        name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        reset_pickler()
        super().__init__(provider, name, props, opts)
