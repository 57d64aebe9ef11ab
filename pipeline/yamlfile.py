"""Strict YAML → typed dataclasses: the one reader behind run.yaml, the scorecard and rule params.

A wrong type or an unknown key is a ValueError naming where it is (`run.asr.beam_size`); a file
that is missing, not UTF-8 or not YAML is a ConfigError with its line.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError

Hook = Callable[[str, Any, Any], Any]


def coerce(where: str, hint: Any, value: Any, special: Hook | None = None) -> Any:
    """Check and convert one YAML value to a dataclass field's type (ValueError if it can't)."""
    if special is not None:
        done = special(where, hint, value)
        if done is not None:
            return done
    if dataclasses.is_dataclass(hint):
        return build(hint, value, where, special)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}: expected a whole number, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{where}: expected text, got {value!r}")
        return value
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        (item,) = {a for a in typing.get_args(hint) if a is not Ellipsis}
        return tuple(coerce(where, item, v, special) for v in value)
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected a mapping, got {value!r}")
        kh, vh = typing.get_args(hint)
        return {coerce(where, kh, k, special): coerce(where, vh, v, special) for k, v in value.items()}
    raise TypeError(f"{where}: unsupported type {hint!r}")  # a bug in the dataclass, not the config


def build(cls: type, raw: Any, where: str, special: Hook | None = None) -> Any:
    """Strictly build dataclass `cls` from a mapping; missing keys take the defaults."""
    if isinstance(raw, cls):
        return raw
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = set(raw) - set(fields)
    if unknown:
        raise ValueError(f"{where}: unknown key {', '.join(sorted(map(str, unknown)))} "
                         f"(known: {', '.join(fields)})")
    values = {}
    for name, f in fields.items():
        if name in raw:
            values[name] = coerce(f"{where}.{name}", hints[name], raw[name], special)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValueError(f"{where}: {name} is required")
        elif special is not None:  # defaults may need resolving too (e.g. lexicon file names)
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            values[name] = coerce(f"{where}.{name}", hints[name], default, special)
    return cls(**values)


def read_yaml(path: Path, what: str) -> tuple[str, Any]:
    """(text, parsed) of a YAML file; a missing or malformed file is a ConfigError with its line."""
    try:
        text = path.read_text(encoding="utf-8")
        return text, yaml.safe_load(text)
    except FileNotFoundError:
        raise ConfigError(path, f"{what} not found") from None
    except UnicodeDecodeError as e:
        raise ConfigError(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ConfigError(path, f"not valid YAML: {getattr(e, 'problem', e)}",
                          mark.line + 1 if mark else None) from None
