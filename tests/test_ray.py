"""`--engine ray` runs the same per-call function on a local Ray with 2 workers: same results."""

import shutil

import pandas as pd
import pytest

from pipeline.batch import run
from tests.conftest import SAMPLE_CALLS

pytestmark = pytest.mark.slow


def table(out, name, sources, drop=()):
    df = pd.read_parquet(out / name)
    df = df[df["source"].isin(sources)].drop(columns=list(drop))
    return df.sort_values(list(df.columns[:3])).reset_index(drop=True)


def test_ray_engine_equals_local_engine(tmp_path, sample_run, sample_engine):
    """Two calls through Ray against the same calls in the suite's local run of the sample calls
    (one worker there, two Ray workers here: threads and workers do not change results, test_e2e)."""
    pytest.importorskip("ray")
    src = tmp_path / "calls"
    src.mkdir()
    for p in sorted(SAMPLE_CALLS.glob("c0[13]*.*[3vc]")):
        shutil.copy(p, src / p.name)
    names = sorted(p.name for p in src.iterdir())
    ray = run(src, tmp_path / "ray", sample_engine, workers=2, engine_name="ray")
    assert ray.processed == 2 and not ray.failed, ray.failed
    for name, volatile in (("turns", ()), ("findings", ()), ("calls", ("processed_at", "timings"))):
        pd.testing.assert_frame_equal(table(sample_run, name, names, volatile),
                                      table(tmp_path / "ray", name, names, volatile))
