"""CTranslate2's Whisper on a CPU: encode and align one window at a time, decode a batch together.

`BatchedInferencePipeline` hands CTranslate2 a whole batch for each of its three passes. On a CPU
that pays off only in the decoder, where a batch shares each step's weight reads; the encoder and
the alignment pass are already large matrix products per window, and a batch of them runs slower
than the same windows one by one (its activations no longer fit the caches). Measured with
`bench/profile.py` on 6 sample calls, one thread, 2-core AMD EPYC (AVX2), 2026-12-01:

| batch | encode s | generate s | align s |
|---|---|---|---|
| 1 | 32.8 | 22.5 | 4.9 |
| 4 | 40.1 | 15.6 | 6.8 |
| 8 | 41.2 | 15.5 | 7.8 |

`OneByOne` wraps the loaded model so that encode and align go window by window while generate
keeps the batch: the fastest row of each column. The encoder's output is the same either way (a
window's does not depend on the others in its batch: `tests/test_asr.py`), so the text is too;
word times differ only where a batched alignment padded a shorter text to the longest.
"""

from __future__ import annotations

import numpy as np

__all__ = ["OneByOne", "Tap"]


def _host(view) -> np.ndarray:
    """A StorageView's values as a numpy array on the host (a copy)."""
    if str(getattr(view, "device", "cpu")) != "cpu":
        import ctranslate2

        view = view.to_device(ctranslate2.Device.cpu)
    return np.array(view)


class Tap:
    """A stand-in for `ctranslate2.models.Whisper` (the object at `WhisperModel.model`) that keeps
    the last batch's encoder states, so the Cantonese probe (`langid`) reads the encoding the
    transcription paid for instead of encoding each window again."""

    def __init__(self, inner, keep_encoded: bool = True):
        self._inner = inner
        self.keep_encoded = keep_encoded
        self.encoded: np.ndarray | None = None  # (batch, frames, width) of the last encode

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def encode(self, features, to_cpu: bool = False):
        out = self._inner.encode(features, to_cpu=to_cpu)
        if self.keep_encoded:
            self.encoded = _host(out)
        return out


class OneByOne(Tap):
    """`Tap`, and on a CPU each window of a batch encoded and aligned on its own."""

    def __init__(self, inner, keep_encoded: bool = True):
        super().__init__(inner, keep_encoded)
        self._keep: list[np.ndarray] = []  # StorageView.from_array borrows the memory of these

    def encode(self, features, to_cpu: bool = False):
        import ctranslate2

        batch = np.asarray(features)
        if len(batch) == 1:
            return super().encode(features, to_cpu=to_cpu)
        rows = []
        for i in range(len(batch)):
            one = np.ascontiguousarray(batch[i : i + 1])
            rows.append(np.array(self._inner.encode(ctranslate2.StorageView.from_array(one), to_cpu=to_cpu)))
        out = np.concatenate(rows)
        self._keep = [out]
        if self.keep_encoded:
            self.encoded = out
        return ctranslate2.StorageView.from_array(out)

    def align(self, features, start_sequence, text_tokens, num_frames, **kw):
        import ctranslate2

        encoded = np.asarray(features)
        if len(encoded) == 1:
            return self._inner.align(features, start_sequence, text_tokens, num_frames, **kw)
        frames = num_frames if isinstance(num_frames, list) else [num_frames] * len(encoded)
        out = []
        for i in range(len(encoded)):
            one = np.ascontiguousarray(encoded[i : i + 1])
            out += self._inner.align(ctranslate2.StorageView.from_array(one), start_sequence, [text_tokens[i]],
                                     [frames[i]], **kw)
        return out
