"""Lexicon files: the line format, errors with file:line, and ASR-robust matching."""

import pytest

from pipeline import lexicon
from pipeline.errors import ConfigError
from pipeline.rules.registry import RULES  # noqa: F401  (lexicons dir below is the product's)
from tests.conftest import ROOT


def lex(*lines):
    return lexicon.inline(list(lines))


def phrases(lx, text):
    return [(h.entry.phrase, h.via) for h in lx.find(text)]


def test_exact_and_longest_first():
    lx = lex("不知道", "我不知道")
    assert phrases(lx, "这个我不知道啊") == [("我不知道", "exact")]


def test_traditional_text_matches_simplified_entry():
    assert phrases(lex("请稍等"), "請稍等一下") == [("请稍等", "exact")]


def test_pinyin_rescues_homophones_but_not_single_characters():
    assert phrases(lex("久等"), "让您就等了") == [("久等", "pinyin")]
    assert phrases(lex("喂"), "为您服务") == []


def test_exceptions_cover_the_polite_forms():
    lx = lex("不知道 | except=不知道您,不知道是否")
    assert phrases(lx, "不知道您现在方便吗") == []
    assert phrases(lx, "我也不知道") == [("不知道", "exact")]


@pytest.mark.parametrize("at, text, hit", [
    ("start", "喂，你好", True), ("start", "你好喂", False),
    ("end", "好的呀。", True), ("alone", "嗯。好的", True), ("alone", "嗯好的", False),
])
def test_positions(at, text, hit):
    only = "喂" if "喂" in text else ("呀" if "呀" in text else "嗯")
    assert bool(lex(f"{only} | at={at}").find(text)) is hit


def test_punctuation_and_spaces_do_not_block_a_match():
    assert phrases(lex("感谢您的来电"), "感谢您的，来电") == [("感谢您的来电", "exact")]


@pytest.mark.parametrize("line, message", [
    ("不知道 | severity=huge", "severity"),
    ("不知道 | colour=red", "unknown option"),
    ("不知道 | except", "key=value"),
    ("不知道 | except=您好", "does not contain"),
    ("  | severity=low", "empty phrase"),
    ("好 | pinyin=maybe", "yes or no"),
])
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    p = tmp_path / "forbidden.txt"
    p.write_text(f"# comment\n好的\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        lexicon.load(p)
    assert f"{p}:3" in str(e.value) and message in str(e.value)


def test_duplicates_and_encoding_errors(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("稍等\n# c\n稍等 # again\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"x.txt:3: duplicate .*line 1"):
        lexicon.load(p)
    p.write_bytes("稍等\n".encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        lexicon.load(p)


@pytest.mark.parametrize("path", sorted((ROOT / "lexicons").glob("*.txt")), ids=lambda p: p.name)
def test_shipped_lexicons_load(path):
    assert lexicon.load(path).entries


def test_nin_and_ni_match_each_other_because_asr_confuses_them():
    assert phrases(lex("麻烦您稍等"), "好的，麻烦你稍等") == [("麻烦您稍等", "exact")]
    assert phrases(lex("您好", "你好"), "你好") in ([("您好", "exact")], [("你好", "exact")])


def test_a_scorecard_reads_each_lexicon_file_once_and_shares_it():
    from pipeline import scorecard

    card = scorecard.load(ROOT / "configs" / "scorecard.yaml")
    by_name: dict[str, set[int]] = {}
    for item in card.items:
        for value in vars(item.params).values():
            if isinstance(value, lexicon.Lexicon):
                by_name.setdefault(value.name, set()).add(id(value))
    assert len(by_name["emotion"]) == 1 and len(by_name["closings"]) == 1
    assert all(len(ids) == 1 for ids in by_name.values()), by_name


def test_identity_cache_recomputes_for_an_equal_but_other_object():
    from pipeline.memo import by_identity

    calls = []

    @by_identity(maxsize=2)
    def size(x):
        calls.append(x)
        return len(x)

    a, b = (1, 2), tuple([1, 2])
    assert size(a) == size(a) == 2 and len(calls) == 1
    assert size(b) == 2 and len(calls) == 2  # equal, not the same: computed again
    size((3,)), size((4,))  # the oldest entries leave first
    assert size(a) == 2 and len(calls) == 5

