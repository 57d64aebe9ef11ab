"""`--engine ray` runs the same per-call function on a local Ray with 2 workers: same results."""

import shutil

import pandas as pd
import pytest

from pipeline import config, scorecard
from pipeline.batch import Engine, run
from pipeline.cli import DEFAULT_SCORECARD
from tests.conftest import SAMPLE_CALLS

pytestmark = pytest.mark.slow


def table(out, name, drop=()):
    df = pd.read_parquet(out / name).drop(columns=list(drop))
    return df.sort_values(list(df.columns[:3])).reset_index(drop=True)


def test_ray_engine_equals_local_engine(tmp_path):
    pytest.importorskip("ray")
    src = tmp_path / "calls"
    src.mkdir()
    for p in sorted(SAMPLE_CALLS.glob("c0[13]*.*[3vc]")):
        shutil.copy(p, src / p.name)
    engine = Engine(config.load(), scorecard.load(DEFAULT_SCORECARD))
    local = run(src, tmp_path / "local", engine, workers=2)
    ray = run(src, tmp_path / "ray", engine, workers=2, engine_name="ray")
    assert local.processed == ray.processed == 2 and not local.failed and not ray.failed
    pd.testing.assert_frame_equal(table(tmp_path / "local", "turns"), table(tmp_path / "ray", "turns"))
    pd.testing.assert_frame_equal(table(tmp_path / "local", "findings"), table(tmp_path / "ray", "findings"))
    volatile = ("processed_at", "timings")
    pd.testing.assert_frame_equal(table(tmp_path / "local", "calls", volatile),
                                  table(tmp_path / "ray", "calls", volatile))
