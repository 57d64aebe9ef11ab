"""The batch never stops on a bad file: each becomes an error row naming the file and the problem.

None of these files reaches the ASR, so the model is never loaded here.
"""

import os

import numpy as np
import pandas as pd
import pytest

from pipeline import config
from pipeline.batch import discover, run
from tests.conftest import signal, write_audio


def bad_corpus(d):
    d.mkdir()
    (d / "empty.wav").write_bytes(b"")
    (d / "notes.wav").write_text("这不是录音\n" * 20, encoding="utf-8")
    (d / "random.mp3").write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 8192, dtype=np.uint8)))
    write_audio(d / "eight_channels.wav", np.stack([signal(3, [(1, 2)], 8000)] * 8), 8000)
    write_audio(d / "short.wav", np.stack([signal(1, [(0.2, 0.8)], 8000)] * 2), 8000)
    nested = d / "2026" / "11" / "客服 一组"
    nested.mkdir(parents=True)
    write_audio(nested / "静音 通话.wav", np.zeros((2, 8000 * 5), np.float32), 8000)
    head = write_audio(d / "header_only.wav", np.zeros((2, 800), np.float32), 8000)
    head.write_bytes(head.read_bytes()[:44])
    os.symlink(d, d / "2026" / "loop")  # a symlink loop must not hang the walk
    os.symlink(d / "gone.wav", d / "dangling.wav")  # a link to nothing: unreadable
    (d / "labels.yaml").write_text("not audio, ignored\n")
    return d


EXPECTED = {
    "empty.wav": "空文件",
    "notes.wav": "不是可解码的音频文件",
    "random.mp3": "",
    "short.wav": "录音过短",
    "eight_channels.wav": "有 8 个声道",
    "dangling.wav": "无法读取文件",
    "2026/11/客服 一组/静音 通话.wav": "没有检测到语音",
    "header_only.wav": "header_only.wav",
}


def test_every_bad_file_is_an_error_row_and_the_batch_goes_on(tmp_path, engine):
    src = bad_corpus(tmp_path / "in")
    summary = run(src, tmp_path / "out", engine)
    calls = pd.read_parquet(tmp_path / "out" / "calls").set_index("source")
    assert sorted(calls.index) == sorted(EXPECTED)
    for source, reason in EXPECTED.items():
        row = calls.loc[source]
        assert row["status"] == "error"
        assert source in row["error"] and reason in row["error"], row["error"]
    assert len(summary.failed) == len(EXPECTED) and summary.processed == len(EXPECTED)
    # a rerun retries them and still has exactly one row per file
    run(src, tmp_path / "out", engine)
    assert len(pd.read_parquet(tmp_path / "out" / "calls")) == len(EXPECTED)


def test_discover_is_sorted_recursive_and_filters_extensions(tmp_path):
    src = bad_corpus(tmp_path / "in")
    found = [p.relative_to(src).as_posix() for p in discover(src, config.AudioOptions().extensions)]
    assert sorted(found) == sorted(EXPECTED) and len(found) == len(set(found))


def test_unreadable_file_is_reported(tmp_path, engine):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    src = tmp_path / "in"
    src.mkdir()
    p = write_audio(src / "locked.wav", np.zeros((2, 16000), np.float32), 8000)
    p.chmod(0)
    run(src, tmp_path / "out", engine)
    row = pd.read_parquet(tmp_path / "out" / "calls").iloc[0]
    assert row["status"] == "error" and "locked.wav" in row["error"]
