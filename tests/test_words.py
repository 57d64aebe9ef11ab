"""pipeline/rules/words.py: jieba's words and parts of speech, read from caches."""

import os
import subprocess
import sys

import yaml

from tests.conftest import ROOT, SAMPLE_CALLS

EDGES = ["ABC 123 你好", "G网络5G套餐a b", "  空格\r\n换行", "100%满意-吧", "3.5元", "iPhone15 Pro", "",
         "那个那个，您的订单啊", "嗯嗯好的好的", "我不怎么坐飞机，拥不上"]


def texts() -> list[str]:
    out = set(EDGES)
    for p in SAMPLE_CALLS.glob("*.labels.yaml"):
        out.update(t["text"] for t in yaml.safe_load(p.read_text(encoding="utf-8"))["turns"])
    for p in (ROOT / "tests" / "rules").glob("*.yaml"):
        for case in yaml.safe_load(p.read_text(encoding="utf-8"))["cases"]:
            out.update(line.split(" ", 3)[3] for line in (case.get("turns") or "").splitlines()
                       if len(line.split(" ", 3)) == 4)
    return sorted(out)


def test_parts_of_speech_are_jieba_posseg_without_hmm():
    import jieba.posseg

    from pipeline.rules.words import pos_words

    every = texts()
    assert len(every) > 500
    for t in every:
        pos = 0
        want = []
        for w, flag in jieba.posseg.cut(t, HMM=False):
            want.append((pos, pos + len(w), w, flag))
            pos += len(w)
        assert pos_words(t) == tuple(want), t


def test_tag_cache_is_built_once_then_read(tmp_path):
    probe = ("from pipeline.rules.words import pos_words; "
             "print(pos_words('您好，我帮您查一下这个套餐'))")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True)
            for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert len(list(tmp_path.glob("callqa-jieba-tags-*.marshal"))) == 1
    assert runs[0].stdout == runs[1].stdout and "'n'" in runs[0].stdout


def test_jieba_reads_its_cache_or_builds_it(tmp_path):
    """The fast path (marshal.loads of jieba's cache) gives jieba's own dictionary; with no cache
    (a fresh machine) jieba builds and writes it, and the next process reads it."""
    probe = ("from pipeline.rules.words import word_bounds; import jieba; "
             "cut = sorted(word_bounds('请您稍等一下我帮您查询')); print(jieba.dt.total, len(jieba.dt.FREQ), cut)")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True)
    assert (tmp_path / "jieba.cache").exists(), first.stderr
    second = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True)
    assert first.returncode == second.returncode == 0, second.stderr
    assert first.stdout == second.stdout and first.stdout.split()[0] != "0"
