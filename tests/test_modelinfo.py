"""modelinfo.describe: which Whisper a CTranslate2 directory holds, read from its files (issue 29.5)."""

import json
import shutil

import pytest

from pipeline import config, modelinfo

BASE = config.AsrOptions().model_path()
needs_model = pytest.mark.skipif(not (BASE / "model.bin").is_file(), reason="run `make model` first")


def fake(tmp_path, heads: list[list[int]], langs: int, yue: bool):
    """A converter's output, with a stand-in model.bin: describe() reads only the small files."""
    d = tmp_path / "m"
    d.mkdir()
    (d / "model.bin").write_bytes(b"\0" * 1000)
    (d / "config.json").write_text(json.dumps({"alignment_heads": heads, "lang_ids": list(range(langs))}))
    vocab = {"<|zh|>": 1} | ({"<|yue|>": 2} if yue else {})
    (d / "tokenizer.json").write_text(json.dumps({"model": {"vocab": vocab}}))
    return d


@needs_model
def test_the_shipped_base_model_uses_the_probe():
    info = modelinfo.describe(BASE)
    assert (info.name, info.languages, info.cantonese_token, info.cantonese) == ("base", 99, False, "probe")
    assert "Whisper base" in info.summary_zh() and "探针" in info.summary_zh()


@pytest.mark.parametrize("heads, langs, yue, name, how", [
    ([[9, 1], [11, 3]], 99, False, "small", "none"),
    ([[20, 1], [31, 4]], 99, False, "large", "none"),
    ([[20, 1], [31, 4]], 100, True, "large-v3", "whisper"),
    ([[2, 4], [3, 1]], 100, True, "large-v3-turbo", "whisper"),
])
def test_bigger_models_are_named_and_large_v3_brings_its_own_cantonese(tmp_path, heads, langs, yue, name, how):
    info = modelinfo.describe(fake(tmp_path, heads, langs, yue))
    assert (info.name, info.cantonese) == (name, how)


def test_a_directory_without_model_bin_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        modelinfo.describe(tmp_path)


@needs_model
def test_a_copy_of_base_elsewhere_is_the_same_model(tmp_path):
    """Any directory works: `asr.model` may point at a converted model anywhere on disk."""
    copy = tmp_path / "whisper"
    shutil.copytree(BASE, copy, ignore=shutil.ignore_patterns("model.bin"))
    (copy / "model.bin").symlink_to(BASE / "model.bin")
    assert modelinfo.describe(copy).name == "base"
