"""YAML in and out through libyaml when PyYAML has it (it ships in PyYAML's wheels).

The pure-Python loader took ~6 s to read a 5,000-rule alert file (2 MB); libyaml reads
the same safe subset (plain data: no tags that build Python objects) several times
faster, with the same errors (``yaml.YAMLError`` with a line and column).
"""

from __future__ import annotations

from typing import Any

import yaml

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load``, faster."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506  # a safe loader, C or Python


def dump_yaml(data: Any, **options: Any) -> str:
    """``yaml.safe_dump`` to a string, faster."""
    return str(yaml.dump(data, Dumper=_Dumper, **options))
