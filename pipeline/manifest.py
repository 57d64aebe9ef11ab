"""What a run did: the Summary the CLI prints and the manifest OUT/runs/<start>.json it leaves."""

from __future__ import annotations

import contextlib
import json
import os
import platform
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.rows import CallRow, Status
from pipeline.store import output_error


@dataclass
class Summary:
    """Counts of one run, built up as its rows come in (so: mutable, unlike the rows)."""

    files: int = 0
    processed: int = 0
    skipped: int = 0
    rescored: int = 0
    duplicates: list[CallRow] = field(default_factory=list)  # one per copy, naming the original
    failed: list[CallRow] = field(default_factory=list)
    audio_s: float = 0.0
    wall_s: float = 0.0
    findings: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # summed seconds per stage

    @property
    def speed(self) -> float:
        return self.audio_s / self.wall_s if self.wall_s else 0.0

    def add(self, row: CallRow) -> None:
        """A row a worker just wrote."""
        self.processed += 1
        if row.status == Status.OK:
            self.audio_s += row.duration_s or 0.0
            self.findings += row.n_findings
        else:
            self.failed.append(row)
        for stage, sec in json.loads(row.timings or "{}").items():
            self.timings[stage] = round(self.timings.get(stage, 0.0) + sec, 3)


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("callqa", "faster-whisper", "ctranslate2", "av", "webrtcvad-wheels", "jieba", "pyarrow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "?"
    return out


def write(out: Path, s: Summary, about: dict[str, Any], started: datetime,
          sources: dict[str, str]) -> Path:
    """OUT/runs/<start>.json: what ran, with what, how long each stage took, what failed and
    which files were copies of which. `about` carries the engine's settings; `sources` maps a
    call id to its file, to name a duplicate's original."""
    manifest = {
        "started": started.isoformat(), "finished": datetime.now(started.tzinfo).replace(microsecond=0).isoformat(),
        **about,
        "versions": versions(),
        "counts": {"files": s.files, "processed": s.processed, "skipped": s.skipped, "rescored": s.rescored,
                   "duplicates": len(s.duplicates), "failed": len(s.failed), "findings": s.findings},
        "audio_s": round(s.audio_s, 1), "wall_s": round(s.wall_s, 1), "speed_x_realtime": round(s.speed, 2),
        "stage_s": s.timings,
        "failures": [{"source": r.source, "error": r.error} for r in s.failed],
        "duplicates": [{"source": r.source, "duplicate_of": r.duplicate_of,
                        "original": sources.get(r.duplicate_of, "")} for r in s.duplicates],
    }
    path = out / "runs" / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise output_error(path, e) from e
    return path
