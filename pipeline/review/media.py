"""Which audio file belongs to a call: looked up by call id, never taken from the request.

The calls table stores each recording's path relative to the batch input folder, and the run
manifests (OUT/runs/*.json) name that folder. A stored path that would leave the folder (`..`,
absolute, a symlink out) is refused as well, so a crafted Parquet row cannot serve /etc/passwd.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

CALL_ID = re.compile(r"^[0-9a-zA-Z_-]{1,64}$")
AUDIO_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".amr": "audio/amr",
}


def input_root(out: Path) -> Path | None:
    """The input folder of the newest run recorded in OUT."""
    for manifest in sorted((out / "runs").glob("*.json"), reverse=True):
        try:
            root = json.loads(manifest.read_text(encoding="utf-8")).get("input")
        except (OSError, ValueError):
            continue
        if root:
            return Path(root)
    return None


def audio_path(conn: sqlite3.Connection, root: Path | None, call_id: str) -> Path | None:
    if root is None or not CALL_ID.match(call_id):
        return None
    row = conn.execute("SELECT source FROM calls_index WHERE call_id = ?", (call_id,)).fetchone()
    if row is None or not row["source"] or Path(row["source"]).is_absolute():
        return None
    base = root.resolve()
    path = (base / row["source"]).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path


def media_type(path: Path) -> str:
    return AUDIO_TYPES.get(path.suffix.lower(), "application/octet-stream")
