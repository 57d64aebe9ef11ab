"""Decode recordings into float32 channels at a fixed rate — streamed, so any length fits in memory.

PyAV (FFmpeg) decodes WAV, MP3, FLAC and whatever else FFmpeg knows; its resampler converts any rate
(8 kHz telephone audio included) to the rate Whisper and the VAD use. `blocks` yields the audio a
block at a time, so a 3-hour recording is processed in bounded memory; `load` joins the blocks for
short clips and tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import AudioError
from pipeline.model import Seconds


@dataclass(frozen=True, slots=True)
class Info:
    channels: int
    source_rate: int  # the file's own rate, recorded in the calls table
    codec: str


@dataclass(frozen=True, slots=True)
class Audio:
    channels: np.ndarray  # shape (n_channels, n_samples), float32 in [-1, 1]
    sample_rate: int
    source_rate: int
    codec: str

    @property
    def duration(self) -> Seconds:
        return self.channels.shape[1] / self.sample_rate


def _open(path: Path):
    import av  # imported here: PyAV loads FFmpeg, which tests of rules never need

    try:
        size = path.stat().st_size
    except OSError as e:
        raise AudioError(path, f"无法读取文件（{e.strerror}）") from None
    if size == 0:
        raise AudioError(path, "空文件（0 字节）")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except PermissionError:
        raise AudioError(path, "无法读取文件（权限不足）") from None
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as e:
        raise AudioError(path, f"不是可解码的音频文件（{_why(e)}）") from None
    if not container.streams.audio:
        container.close()
        raise AudioError(path, "文件中没有音频流")
    stream = container.streams.audio[0]
    info = Info(
        stream.codec_context.channels or len(stream.layout.channels),
        int(stream.codec_context.sample_rate or stream.rate or 0),
        stream.codec_context.name,
    )
    if info.channels < 1 or info.source_rate <= 0:
        container.close()
        raise AudioError(path, f"音频流无效：{info.channels} 个声道，采样率 {info.source_rate} Hz")
    return container, stream, info


def probe(path: str | Path) -> Info:
    """Channels, rate and codec, from the container header (decodes nothing)."""
    container, _, info = _open(Path(path))
    container.close()
    return info


def blocks(path: str | Path, sample_rate: int = 16000, block_s: Seconds = 30.0) -> Iterator[np.ndarray]:
    """Consecutive (n_channels, n) float32 blocks of about `block_s`, resampled to `sample_rate`.

    A file that breaks off mid-way (truncated) ends early: what decoded is kept. A file of which
    nothing decodes raises AudioError.
    """
    import av

    path = Path(path)
    container, stream, _ = _open(path)
    target = max(1, int(block_s * sample_rate))
    pending: list[np.ndarray] = []
    have = 0
    produced = False
    with container:
        resampler = None
        try:
            for frame in container.decode(stream):
                if resampler is None:
                    # Keep every channel apart ("fltp" is planar); custom layouts keep their count.
                    resampler = av.AudioResampler(format="fltp", layout=frame.layout, rate=sample_rate)
                for out in resampler.resample(frame):
                    pending.append(out.to_ndarray())
                    have += pending[-1].shape[1]
                if have >= target:
                    produced = True
                    yield _join(pending)
                    pending, have = [], 0
            if resampler is not None:
                pending += [out.to_ndarray() for out in resampler.resample(None)]
        except (av.FFmpegError, ValueError) as e:
            if not produced and not pending:
                raise AudioError(path, f"音频解码失败（{_why(e)}）") from None
            # Truncated: keep what decoded; the calls table records the duration we got.
    if pending:
        produced = True
        yield _join(pending)
    if not produced:
        raise AudioError(path, "没有解码出任何音频数据")


def _join(planes: list[np.ndarray]) -> np.ndarray:
    data = np.concatenate(planes, axis=1).astype(np.float32, copy=False)
    if not np.isfinite(data).all():
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    return data


def load(path: str | Path, sample_rate: int = 16000) -> Audio:
    """The whole recording in memory (short clips, tests); the batch streams with `blocks`."""
    info = probe(path)
    data = np.concatenate(list(blocks(path, sample_rate)), axis=1)
    return Audio(data, sample_rate, info.source_rate, info.codec)


def _why(e: Exception) -> str:
    text = getattr(e, "strerror", None) or str(e).split(": '")[0]
    return str(text)[:200] or type(e).__name__
