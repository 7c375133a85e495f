"""components/dynamic.py: declaring dynamic resources never deepens pickle's wrapper chain."""

from __future__ import annotations

import importlib
import pickle
import pkgutil

import pulumi.dynamic
from pulumi.dynamic.dynamic import serialize_provider

import components
from components.dynamic import DynamicResource, reset_pickler
from components.pinned import PinnedValueProvider


def wrapper_depth() -> int:
    method, depth = pickle._Pickler._batch_setitems, 0  # type: ignore[attr-defined]
    while method.__qualname__ != "_Pickler._batch_setitems":
        method = next(c.cell_contents for c in method.__closure__ if callable(c.cell_contents))
        depth += 1
    return depth


def test_a_thousand_serializations_keep_one_wrapper() -> None:
    for _ in range(1100):  # past the ~1,000 frames at which the leak overflows the recursion limit
        reset_pickler()
        serialize_provider(PinnedValueProvider())
    assert wrapper_depth() == 1


def test_without_the_reset_each_serialization_adds_a_wrapper() -> None:
    """The leak the base class works around, in the SDK as installed."""
    reset_pickler()
    for _ in range(5):
        serialize_provider(PinnedValueProvider())
    try:
        assert wrapper_depth() == 5
    finally:
        reset_pickler()
    assert wrapper_depth() == 0


def test_every_dynamic_resource_of_the_project_uses_the_base() -> None:
    for module in pkgutil.walk_packages(components.__path__, "components."):
        imported = importlib.import_module(module.name)
        for value in vars(imported).values():
            if isinstance(value, type) and issubclass(value, pulumi.dynamic.Resource):
                assert value is DynamicResource or issubclass(value, DynamicResource), value
