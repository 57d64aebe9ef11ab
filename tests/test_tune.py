"""`callqa tune`'s choice: every candidate uses each core once, the cache is per machine and model,
and `callqa run` applies it only where the config leaves the speed knobs automatic."""

import dataclasses

from pipeline import config, tune


def test_candidates_use_every_core_once():
    for cores in (1, 2, 4, 16):
        got = tune.candidates(cores)
        assert got and all(s.workers * s.threads == cores for s in got)
        assert {s.batch_size for s in got} == {4, 8}


def test_cache_round_trip_and_apply(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cfg = config.load()
    assert tune.cached(cfg) is None
    slow, fast = tune.Setting(1, 2, 4), tune.Setting(2, 1, 8)
    tune.save(cfg, [tune.Result(slow, 60.0, 10.0), tune.Result(fast, 60.0, 5.0)])
    assert tune.cached(cfg) == fast
    tuned = tune.apply(cfg, fast)
    assert (tuned.workers, tuned.asr.cpu_threads, tuned.asr.batch_size) == (2, 1, 8)
    assert tuned.fingerprint() == cfg.fingerprint()  # speed knobs never force a re-transcription


def test_explicit_settings_win_over_the_tuned_ones():
    cfg = config.load()
    pinned = dataclasses.replace(cfg, workers=3, asr=dataclasses.replace(cfg.asr, cpu_threads=2, batch_size=4))
    tuned = tune.apply(pinned, tune.Setting(2, 1, 8))
    assert (tuned.workers, tuned.asr.cpu_threads, tuned.asr.batch_size) == (3, 2, 4)
    gpu = dataclasses.replace(cfg, asr=dataclasses.replace(cfg.asr, device="cuda"))
    assert tune.apply(gpu, tune.Setting(2, 1, 8)) == gpu


def test_another_model_is_another_cache_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cfg = config.load()
    tune.save(cfg, [tune.Result(tune.Setting(2, 1, 8), 60.0, 5.0)])
    other = dataclasses.replace(cfg, asr=dataclasses.replace(cfg.asr, compute_type="float32"))
    assert tune.cached(other) is None
