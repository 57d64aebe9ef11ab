"""Decode a recording into one float32 array per channel at a fixed rate, or say why not.

PyAV (FFmpeg) decodes WAV, MP3, FLAC and whatever else FFmpeg knows; its resampler converts any rate
(8 kHz telephone audio included) to the rate Whisper and the VAD use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import AudioError
from pipeline.model import Seconds


@dataclass(frozen=True, slots=True)
class Audio:
    channels: np.ndarray  # shape (n_channels, n_samples), float32 in [-1, 1]
    sample_rate: int
    source_rate: int  # the file's own rate, recorded in the calls table
    codec: str

    @property
    def duration(self) -> Seconds:
        return self.channels.shape[1] / self.sample_rate


def load(path: str | Path, sample_rate: int = 16000) -> Audio:
    """Decode every channel of the first audio stream, resampled to `sample_rate`.

    Raises AudioError (naming the file) for empty, unreadable, undecodable or stream-less files.
    """
    import av  # imported here: PyAV loads FFmpeg, which tests of rules never need

    path = Path(path)
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
    with container:
        if not container.streams.audio:
            raise AudioError(path, "文件中没有音频流")
        stream = container.streams.audio[0]
        n_channels = stream.codec_context.channels or len(stream.layout.channels)
        source_rate = stream.codec_context.sample_rate or stream.rate or 0
        if n_channels < 1 or source_rate <= 0:
            raise AudioError(path, f"音频流无效：{n_channels} 个声道，采样率 {source_rate} Hz")
        planes: list[np.ndarray] = []
        resampler = None
        try:
            for frame in container.decode(stream):
                if resampler is None:
                    # Keep every channel apart ("fltp" is planar); custom layouts keep their count.
                    resampler = av.AudioResampler(format="fltp", layout=frame.layout, rate=sample_rate)
                for out in resampler.resample(frame):
                    planes.append(out.to_ndarray())
            if resampler is not None:
                for out in resampler.resample(None):
                    planes.append(out.to_ndarray())
        except (av.FFmpegError, ValueError) as e:
            if not planes:
                raise AudioError(path, f"音频解码失败（{_why(e)}）") from None
            # A truncated file: keep what decoded; the batch records the duration it got.
        codec = stream.codec_context.name
    if not planes:
        raise AudioError(path, "没有解码出任何音频数据")
    data = np.concatenate(planes, axis=1).astype(np.float32, copy=False)
    if not np.isfinite(data).all():
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    return Audio(data, sample_rate, int(source_rate), codec)


def _why(e: Exception) -> str:
    text = getattr(e, "strerror", None) or str(e).split(": '")[0]
    return str(text)[:200] or type(e).__name__
