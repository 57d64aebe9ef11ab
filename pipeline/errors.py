"""Errors callqa reports to users. Each message names the file (and line or key) at fault."""

from __future__ import annotations

from pathlib import Path


class CallqaError(Exception):
    """Root of callqa's own errors: the batch records these per call and goes on."""


class AudioError(CallqaError):
    def __init__(self, path: str | Path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


class ConfigError(CallqaError):
    def __init__(self, path: str | Path, reason: str, line: int | None = None):
        self.path, self.reason, self.line = str(path), reason, line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")
