"""The validated stack configuration: `load_from_pulumi()` in the program, `load_stack_file()` in tools."""

from components.config.load import (
    PROJECT,
    RawConfig,
    load_from_pulumi,
    load_stack_file,
    read_stack_bytes,
    read_stack_file,
    validate,
)
from components.config.model import StackConfig
from components.config.reader import ConfigError, Problem

__all__ = [
    "PROJECT",
    "ConfigError",
    "Problem",
    "RawConfig",
    "StackConfig",
    "load_from_pulumi",
    "load_stack_file",
    "read_stack_bytes",
    "read_stack_file",
    "validate",
]
