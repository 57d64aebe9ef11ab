"""hallucinations.clean (also pipeline.asr.clean): hallucinated phrases and decoding loops leave the transcript, real speech stays."""

from pipeline.asr import clean
from pipeline.model import Word


def ws(*texts: str) -> list[Word]:
    return [Word(t, i * 0.2, i * 0.2 + 0.2, 0.9) for i, t in enumerate(texts)]


def text(words) -> str:
    return "".join(w.text for w in words)


def test_a_one_word_loop_keeps_three_repeats():
    assert text(clean(ws("好的", *["好的"] * 9, "再见"))) == "好的好的好的再见"


def test_a_multi_word_loop_is_cut_wherever_it_starts():
    looped = ws("真", "认", *["真", "认"] * 20)
    assert text(clean(looped)) == "真认真认真认"
    digits = ws("卡号", "-1", *["-*"] * 15, "-1", "-1", "-1", "-1", "-1")
    assert text(clean(digits)) == "卡号-1-*-*-*-1-1-1"


def test_speech_that_repeats_a_few_times_is_kept():
    said = ws("对", "对", "对", "，", "喂", "你好", "喂", "你好")
    assert text(clean(said)) == "对对对，喂你好喂你好"
    assert [w.start for w in clean(said)] == [w.start for w in said]
