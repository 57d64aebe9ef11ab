"""A small OUT without audio processing or ASR, for the workbench's tests, demo and bench.

Calls are written from `pipeline.testing` turn specs through the real Store and scorecard, with a
quiet stereo WAV per call (so the player and Range requests have a real file to serve) and a run
manifest naming the audio folder, exactly where `callqa run` would leave them.
"""

from __future__ import annotations

import json
import struct
import wave
from pathlib import Path

from pipeline import emotion, rows, scorecard
from pipeline.config import ROOT
from pipeline.store import Store
from pipeline.testing import call as make_call

SCORECARD = ROOT / "configs" / "scorecard.yaml"

# A call with several findings: late answer, dead air, forbidden phrases, no closing.
BUSY = """
A 6.5 8.0 喂
C 8.5 11.0 我的快递三天了还没到
A 16.0 19.0 不知道，这个我不清楚
C 19.5 22.0 那你帮我查一下好吗
A 22.5 26.0 你等着吧我看看
C 27.0 28.0 <script>alert(1)</script>好的
"""

# A polite call: greeting, prompt replies, closing (few or no findings).
CALM = """
A 0.5 3.0 您好很高兴为您服务请问有什么可以帮您
C 3.5 6.0 我想查一下我的账单
A 6.5 10.0 好的请您稍等我帮您查询一下
C 10.5 12.0 好的谢谢
A 12.5 16.0 您的账单已经发到您的邮箱了请查收
C 16.5 17.5 好的
A 18.0 21.0 感谢您的来电祝您生活愉快再见
"""


def quiet_wav(path: Path, seconds: float, sr: int = 8000) -> Path:
    """A stereo 16-bit WAV of near-silence (a faint tick each second, so it is not empty)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = int(seconds * sr)
    frames = bytearray()
    for i in range(n):
        v = 600 if i % sr < 40 else 0
        frames += struct.pack("<hh", v, v // 2)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(bytes(frames))
    return path


def make_out(
    out: Path,
    audio: Path | None = None,
    calls: list[tuple[str, str, str, str]] | None = None,
    card: scorecard.Scorecard | None = None,
    first: int = 0,
) -> list[str]:
    """Write calls (name, turn spec, call_date, agent_id) into OUT; returns their call ids
    (numbered from `first`, so a second batch into the same OUT adds calls)."""
    card = card or scorecard.load(SCORECARD)
    calls = calls or [
        ("2026-11-21/A001_busy.wav", BUSY, "2026-11-21", "A001"),
        ("2026-11-21/A002_calm.wav", CALM, "2026-11-21", "A002"),
    ]
    store = Store(out)
    store.recover()  # creates the table folders
    stamp = rows.Stamp("synthetic", "test", card.version, "test")
    ids = []
    for i, (name, spec, date, agent) in enumerate(calls, first):
        cid = f"{i:06d}" + "ab" * 7
        c = make_call(spec, id=cid)
        c = emotion.annotate(type(c)(cid, c.duration, c.turns, name))  # as ingest stores turns
        findings, failures = scorecard.evaluate(c, card)
        row = rows.new(cid, name, {"agent_id": agent, "call_date": date}, stamp)
        row = rows.scored(row, c, findings, failures)
        from dataclasses import replace

        store.save_call(
            replace(row, duration_s=c.duration, channels=2, sample_rate=8000), c, findings
        )
        if audio is not None:
            quiet_wav(audio / name, c.duration)
        ids.append(cid)
    if audio is not None:
        (out / "runs").mkdir(exist_ok=True)
        (out / "runs" / "20261121T000000Z.json").write_text(
            json.dumps({"input": str(audio), "output": str(out)}), encoding="utf-8"
        )
    return ids
