"""A 3-hour recording runs in bounded memory. Real ASR: marked slow.

(A batch killed with SIGKILL at any moment resuming with every call exactly once: tests/test_chaos.py.)"""

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, voiced

pytestmark = pytest.mark.slow


def write_long_wav(path: Path, hours: float, sr: int = 8000) -> None:
    """A long stereo call streamed to disk: mostly line noise, a short exchange every 10 minutes."""
    rng = np.random.default_rng(0)
    block = sr * 60
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(sr)
        for minute in range(int(hours * 60)):
            x = rng.normal(0, 0.002, (block, 2)).astype(np.float32)
            if minute % 10 == 0:
                x[sr * 5 : sr * 7, 0] += voiced(2, sr, f0=220)
                x[sr * 8 : sr * 10, 1] += voiced(2, sr, f0=120)
            w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def test_three_hour_recording_runs_in_bounded_memory(tmp_path):
    src = tmp_path / "long"
    src.mkdir()
    write_long_wav(src / "three_hours.wav", 3.0)
    out = tmp_path / "out"
    code = ("import resource, sys; from pipeline.cli import main; rc = main(sys.argv[1:]); "
            "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)")
    res = subprocess.run([sys.executable, "-c", code, "run", str(src), "--out", str(out), "--workers", "1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    peak_mb = int(res.stdout.split("PEAK")[-1]) / 1024
    calls = pd.read_parquet(out / "calls")
    assert calls.iloc[0]["status"] == "ok", calls.iloc[0]["error"]
    assert calls.iloc[0]["duration_s"] == pytest.approx(3 * 3600, abs=1)
    # whole-file decoding would need 3 h × 16 kHz × 2 ch × 4 B = 1.4 GB for the samples alone
    assert peak_mb < 1500, peak_mb
