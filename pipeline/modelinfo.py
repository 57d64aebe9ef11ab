"""Which CTranslate2 Whisper a directory holds and what callqa can do with it, without loading it.

callqa runs on any CTranslate2 Whisper directory (`asr.model` in configs/run.yaml): base ships with
it (models/assemble.py); small … large-v3-turbo are converted on a machine with internet access
(README, "Bigger models"). What changes between them for callqa is read from the files the
converter writes: the decoder's alignment heads give its depth (so the size), `lang_ids` the
languages (100 from large-v3 on, `yue` among them), tokenizer.json whether `<|yue|>` exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ModelInfo", "describe"]

# The deepest decoder layer among a model's alignment heads → its name (openai/whisper's tables).
_DEPTHS = ((3, "tiny"), (5, "base"), (11, "small"), (23, "medium"), (31, "large"))
_PROBE_MODELS = ("base",)  # langid.json was fitted on base's 512-wide encoder


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    name: str  # "base", "small", …, "large-v3", "large-v3-turbo"; "" when not a Whisper directory
    size_mb: int
    languages: int
    cantonese_token: bool  # <|yue|>: Whisper's own language ID can tell Cantonese (large-v3 on)

    @property
    def cantonese(self) -> str:
        """How turns get their zh/yue label with this model (asr.Transcriber decides the same way)."""
        if self.cantonese_token:
            return "whisper"  # its language probabilities, one extra encoder pass per window
        return "probe" if self.name in _PROBE_MODELS else "none"

    def summary_zh(self) -> str:
        how = {"whisper": "由 Whisper 自带的 <|yue|> 语种识别判断（每个窗口多一次编码）",
               "probe": "由编码器探针判断（pipeline/langid.json，无额外计算）",
               "none": "无法判断（该模型没有 <|yue|>，探针只适用于 base）：V003 只能依靠粤语用字"}[self.cantonese]
        name = f"Whisper {self.name}" if self.name else "未知模型"
        return f"模型：{name}（{self.path}，{self.size_mb} MB，{self.languages} 种语言）；粤语{how}"


def describe(path: Path) -> ModelInfo:
    """What the CTranslate2 Whisper at `path` is; raises FileNotFoundError without model.bin."""
    if not (path / "model.bin").is_file():
        raise FileNotFoundError(path / "model.bin")
    size = (path / "model.bin").stat().st_size // 1_000_000
    cfg = json.loads((path / "config.json").read_text(encoding="utf-8")) if (path / "config.json").is_file() else {}
    heads = cfg.get("alignment_heads") or []
    deepest = max((layer for layer, _ in heads), default=-1)
    langs = len(cfg.get("lang_ids") or [])
    name = next((n for depth, n in _DEPTHS if deepest <= depth), "large") if heads else ""
    if langs >= 100:  # large-v3 and its turbo (4 decoder layers) added yue
        name = "large-v3-turbo" if deepest <= 3 else "large-v3"
    tok = path / "tokenizer.json"
    yue = tok.is_file() and '"<|yue|>"' in tok.read_text(encoding="utf-8")
    return ModelInfo(path, name, size, langs, yue)
