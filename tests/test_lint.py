"""`callqa check` reports every problem at once, each with its file:line (issue 16)."""

from pipeline import lint
from pipeline.cli import main
from tests.conftest import ROOT


def setup(tmp_path, forbidden: str, greetings: str = "您好\n", items: str = ""):
    lex = tmp_path / "lexicons"
    lex.mkdir()
    (lex / "forbidden.txt").write_text(forbidden, encoding="utf-8")
    (lex / "greetings.txt").write_text(greetings, encoding="utf-8")
    card = tmp_path / "scorecard.yaml"
    card.write_text(f"lexicons: {lex}\nitems:\n" + (items or
                    "  - {id: w.f, title: 忌语, rule: forbidden_phrase, points: 1, params: {phrases: forbidden}}\n"),
                    encoding="utf-8")
    return card, lex


FORBIDDEN = """\
# comment
不知道 | severity=extreme
你烦不烦 | colour=red
 | severity=high
不清楚 | except=不明白
没办法
没办法
我没办法
不關我事
您好 | severity=low
"""


def test_every_lexicon_problem_is_reported_with_its_line(tmp_path):
    card, lex = setup(tmp_path, FORBIDDEN)
    got = {(p.line, p.error): p.message for p in lint.check(card) if p.path.endswith("forbidden.txt")}
    messages = "\n".join(f"{line}:{m}" for (line, _), m in got.items())
    assert "2:格式错误：severity 'extreme'" in messages
    assert "3:格式错误：unknown option 'colour'" in messages
    assert "4:格式错误：empty phrase" in messages
    assert "5:格式错误：exception" in messages  # except= that never overlaps its phrase
    assert (7, True) in got and "重复词条" in got[(7, True)]
    assert (8, False) in got and "多余" in got[(8, False)]  # 我没办法 always comes with 没办法
    assert (9, False) in got and "简体应为 不关我事" in got[(9, False)]
    assert (10, True) in got and "greetings.txt 第 1 行" in got[(10, True)]


def test_every_scorecard_item_problem_is_reported(tmp_path):
    items = ("  - {id: a, title: t, rule: silence_gap, points: 1, params: {max_gap: 3}}\n"
             "  - {id: b, title: t, rule: no_such_rule, points: 1}\n"
             "  - {id: c, title: t, rule: closing}\n")
    card, _ = setup(tmp_path, "不知道\n", items=items)
    problems = [p for p in lint.check(card) if p.path.endswith("scorecard.yaml")]
    assert [p.line for p in problems] == [3, 4, 5]
    assert "max_gap" in problems[0].message and "no_such_rule" in problems[1].message
    assert "points" in problems[2].message


def test_check_command_lists_all_and_fails(tmp_path, capsys):
    card, _ = setup(tmp_path, FORBIDDEN)
    assert main(["check", "--scorecard", str(card)]) == 2
    err = capsys.readouterr().err
    for line in (2, 3, 4, 5, 7, 8, 9, 10):
        assert f"forbidden.txt:{line}:" in err
    assert "发现 6 个错误、2 条提示" in err


def test_the_shipped_lexicons_have_no_errors(capsys):
    assert main(["check"]) == 0
    assert "配置正确" in capsys.readouterr().out
    assert not [p for p in lint.check(ROOT / "configs" / "scorecard.yaml") if p.error]
