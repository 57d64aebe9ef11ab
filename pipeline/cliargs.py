"""Arguments several `callqa` commands share, and the Engine they describe (cli.py and the
command modules that `cli._parser()` wires in)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from pipeline.config import ROOT

DEFAULT_CONFIG = ROOT / "configs" / "run.yaml"
DEFAULT_SCORECARD = ROOT / "configs" / "scorecard.yaml"


def common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="engine settings (configs/run.yaml)")
    p.add_argument("--scorecard", type=Path, default=DEFAULT_SCORECARD,
                   help="scorecard items, points and thresholds (configs/scorecard.yaml)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def engine(args: argparse.Namespace):
    from pipeline import config, scorecard
    from pipeline.batch import Engine

    cfg = config.load(args.config)
    overrides = {k: v for k, v in {
        "model": getattr(args, "model", None), "device": getattr(args, "device", None),
        "compute_type": getattr(args, "compute_type", None), "beam_size": getattr(args, "beam_size", None),
        "cpu_threads": getattr(args, "threads", None)}.items() if v is not None}
    if overrides:
        cfg = dataclasses.replace(cfg, asr=dataclasses.replace(cfg.asr, **overrides))
    return Engine(cfg, scorecard.load(args.scorecard))


def output_folder(out: Path) -> str | None:
    """Why `out` is not a callqa output folder, or None when it is one."""
    if not (out / "calls").is_dir():
        return f"错误：{out} 不是 callqa 的输出文件夹（没有 calls/）"
    return None
