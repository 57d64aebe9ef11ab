"""What `callqa run` and `rescore` tell the operator: a progress line per call, then a summary.

Both in Simplified Chinese; a live bar on a terminal, plain lines in a log (cron, CI).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any


class Progress:
    """A live bar on a terminal (calls, audio hours, ETA); one plain line per call otherwise."""

    LABELS = {"ok": "完成", "error": "失败", "skipped": "已完成，跳过", "rescored": "重新评分",
              "duplicate": "重复文件，未重复评分"}

    def __init__(self, stream=sys.stderr):
        self.stream, self.tty = stream, stream.isatty()
        self.t0, self.audio_s, self.worked = time.monotonic(), 0.0, 0

    def __call__(self, i: int, n: int, row: Any, what: str) -> None:  # row: rows.CallRow
        if what in ("ok", "error"):
            self.worked += 1
            self.audio_s += row.duration_s or 0.0
        if what == "error" or not self.tty:
            detail = row.error if what == "error" else (
                f"{row.duration_s:.0f} 秒音频，建议扣分 {row.n_findings} 条" if row.duration_s else "")
            if self.tty:
                self.stream.write("\r\033[K")
            print(f"[{i:>{len(str(n))}}/{n}] {row.source}  {self.LABELS[what]}  {detail}",
                  file=self.stream, flush=True)
        if self.tty:
            elapsed = time.monotonic() - self.t0
            eta = ""
            if self.worked and i < n:
                left = elapsed / self.worked * (n - i)
                eta = f" · 预计剩余 {left / 60:.0f} 分钟" if left >= 60 else f" · 预计剩余 {left:.0f} 秒"
            filled = int(24 * i / max(n, 1))
            bar = "█" * filled + "░" * (24 - filled)
            self.stream.write(f"\r\033[K{bar} {i}/{n} 通 · 音频 {self.audio_s / 3600:.2f} 小时{eta}")
            if i == n:
                self.stream.write("\n")
            self.stream.flush()


def summary(s, out: Path) -> str:
    import pandas as pd

    lines = [f"callqa 处理完成：共 {s.files} 个录音文件"]
    lines.append(f"  新处理 {s.processed} 通，跳过（已完成）{s.skipped} 通，重新评分 {s.rescored} 通，"
                 f"失败 {len(s.failed)} 通" + (f"，重复文件 {len(s.duplicates)} 个" if s.duplicates else ""))
    if s.audio_s:
        lines.append(f"  新处理音频 {s.audio_s / 60:.1f} 分钟，用时 {s.wall_s:.1f} 秒（{s.speed:.1f} 倍实时）")
    findings_dir = out / "findings"
    if any(findings_dir.rglob("*.parquet")):
        df = pd.read_parquet(findings_dir, columns=["rule_name", "item", "points"])
        by = Counter(df["rule_name"])
        lines.append(f"  建议扣分共 {len(df)} 条，合计 {df['points'].sum():g} 分：")
        lines += [f"    {rule:<18}{n:>4} 条" for rule, n in sorted(by.items())]
    for row in s.failed:
        lines.append(f"  失败：{row.error}")
    originals = _sources(out) if s.duplicates else {}
    for row in s.duplicates:
        lines.append(f"  重复：{row.source} 与 {originals.get(row.duplicate_of, row.duplicate_of)} 内容完全相同，"
                     "只评分一次（calls 中 status=duplicate，duplicate_of 为原通话）")
    lines.append(f"  结果：{out}/calls、{out}/turns、{out}/findings（Parquet）")
    return "\n".join(lines)


def _sources(out: Path) -> dict[str, str]:
    from pipeline.store import Store

    return {r["call_id"]: r["source"] for r in Store(out).calls()}
