"""Decoding: formats, rates, channels, and a clear error for every kind of bad file."""

import numpy as np
import pytest

from pipeline import audio
from pipeline.errors import AudioError
from tests.conftest import signal, write_audio


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".flac"])
@pytest.mark.parametrize("sr", [8000, 16000, 44100])
def test_formats_and_rates_decode_to_16k_stereo(tmp_path, suffix, sr):
    x = np.stack([signal(3, [(0.5, 1.5)], sr), signal(3, [(2, 2.5)], sr)])
    a = audio.load(write_audio(tmp_path / f"a{suffix}", x, sr))
    assert a.sample_rate == 16000 and a.source_rate == sr
    assert a.channels.shape[0] == 2 and a.channels.dtype == np.float32
    assert abs(a.duration - 3.0) < 0.1
    # channels stay apart: the first is loud early, the second late
    early, late = slice(int(0.6 * 16000), int(1.4 * 16000)), slice(int(2.1 * 16000), int(2.4 * 16000))
    assert np.abs(a.channels[0, early]).mean() > 10 * np.abs(a.channels[1, early]).mean()
    assert np.abs(a.channels[1, late]).mean() > 10 * np.abs(a.channels[0, late]).mean()


def test_mono_decodes_as_one_channel(tmp_path):
    a = audio.load(write_audio(tmp_path / "m.wav", signal(2, [(0.5, 1)])[None, :], 16000))
    assert a.channels.shape[0] == 1


@pytest.mark.parametrize("name, content, reason", [
    ("empty.wav", b"", "空文件"),
    ("text.wav", "这不是音频文件\n".encode() * 50, "不是可解码的音频文件"),
    ("random.mp3", bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)), ""),
])
def test_bad_files_raise_audio_error_naming_the_file(tmp_path, name, content, reason):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(AudioError) as e:
        audio.load(p)
    assert name in str(e.value) and reason in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="无法读取文件"):
        audio.load(tmp_path / "nope.wav")


def test_truncated_wav_keeps_what_decodes(tmp_path):
    p = write_audio(tmp_path / "t.wav", np.stack([signal(4, [(1, 2)])] * 2), 16000)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    a = audio.load(p)
    assert 1.5 < a.duration < 2.5


def test_header_only_wav(tmp_path):
    p = write_audio(tmp_path / "h.wav", np.stack([signal(1, [])] * 2), 16000)
    p.write_bytes(p.read_bytes()[:44])
    with pytest.raises(AudioError, match="h.wav"):
        audio.load(p)
