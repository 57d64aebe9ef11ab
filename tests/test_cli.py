"""The command line: help that teaches, rule docs, config checks naming file:line, exit codes."""

import shutil

import numpy as np
import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.rules import RULES
from tests.conftest import ROOT, write_audio


def test_help_lists_commands_and_examples(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for word in ("run", "rescore", "check", "rules", "rule", "eval", "examples:", "findings"):
        assert word in out


def test_rules_and_rule(capsys):
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert all(r.name in out and r.code in out for r in RULES.values())
    assert main(["rule", "T002"]) == 0
    out = capsys.readouterr().out
    assert "silence_gap" in out and "3秒钟是极限" in out and "max_gap_s = 3.0" in out
    assert main(["rule", "nope"]) == 2


def test_check_reports_a_bad_lexicon_line(tmp_path, capsys):
    lex = tmp_path / "lexicons"
    shutil.copytree(ROOT / "lexicons", lex)
    with (lex / "forbidden.txt").open("a", encoding="utf-8") as f:
        f.write("你烦不烦 | severity=extreme\n")
    n = len((lex / "forbidden.txt").read_text(encoding="utf-8").splitlines())
    card = tmp_path / "configs" / "scorecard.yaml"
    card.parent.mkdir()
    card.write_text((ROOT / "configs" / "scorecard.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["check", "--scorecard", str(card)]) == 2
    err = capsys.readouterr().err
    assert f"forbidden.txt:{n}" in err and "severity" in err


def test_check_reports_a_bad_scorecard_item(tmp_path, capsys):
    card = tmp_path / "scorecard.yaml"
    card.write_text(f"lexicons: {ROOT / 'lexicons'}\nitems:\n  - id: a\n    title: t\n    rule: silence_gap\n"
                    "    points: 1\n    params: {max_gap: 3}\n", encoding="utf-8")
    assert main(["check", "--scorecard", str(card)]) == 2
    err = capsys.readouterr().err
    assert "scorecard.yaml:3" in err and "max_gap" in err and "max_gap_s" in err


def test_run_with_only_bad_files_exits_1_and_summarises_in_chinese(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    (src / "empty.wav").write_bytes(b"")
    write_audio(src / "mono.wav", np.zeros((1, 16000 * 3), np.float32), 8000)
    assert main(["run", str(src), "--out", str(tmp_path / "out"), "-j", "1"]) == 1
    out = capsys.readouterr().out
    assert "失败 2 通" in out and "empty.wav" in out
    assert len(pd.read_parquet(tmp_path / "out" / "calls")) == 2
    assert list((tmp_path / "out" / "runs").glob("*.json"))


def test_rescore_needs_an_output_folder(tmp_path, capsys):
    assert main(["rescore", str(tmp_path)]) == 2
    assert "calls" in capsys.readouterr().err
