"""Words of a transcript by jieba: where words begin and end, and their parts of speech.

jieba loads its dictionaries on first use, before a rescore's processes fork while the other cores
wait, so both are read from caches in one go: jieba's own prefix-dictionary cache, and a cache of
the part-of-speech tags `jieba.posseg` would build by parsing dict.txt on import (0.5 s of a
rescore's 2 s of start-up, bench/README). `pos_words` is `jieba.posseg.cut(text, HMM=False)` on
jieba's own segmentation, with the same tags (tested against jieba.posseg on every sample text).
"""

from __future__ import annotations

import marshal
import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def tokenizer():
    """jieba's default tokenizer, its dictionary loaded.

    jieba reads its cache with `marshal.load` on the open file, which reads it object by object:
    0.75-0.9 s on a 2026 EPYC against 0.2 s for `marshal.loads` of the same bytes. jieba's own
    loading (which also writes the cache when there is none) takes over when the file is missing
    or unreadable.
    """
    import jieba

    jieba.setLogLevel(60)  # jieba logs "Building prefix dict…" to stderr otherwise
    dt = jieba.dt
    if not dt.initialized and dt.dictionary == jieba.DEFAULT_DICT and not dt.cache_file:
        cache = Path(dt.tmp_dir or tempfile.gettempdir()) / "jieba.cache"
        try:
            freq, total = marshal.loads(cache.read_bytes())
            if isinstance(freq, dict) and isinstance(total, int) and freq:
                with dt.lock:
                    dt.FREQ, dt.total, dt.initialized = freq, total, True
        except (OSError, EOFError, ValueError, TypeError):
            pass
    dt.check_initialized()
    return dt


@lru_cache(maxsize=1)
def _tags() -> dict[str, str]:
    """word → part-of-speech flag from jieba's dict.txt ("word freq flag" a line), as
    `jieba.posseg` reads it, cached in the temp folder under the file's size and mtime."""
    import jieba

    src = Path(jieba.__file__).with_name("dict.txt")
    st = src.stat()
    cache = Path(tempfile.gettempdir()) / f"callqa-jieba-tags-{st.st_size}-{st.st_mtime_ns}.marshal"
    try:
        tags = marshal.loads(cache.read_bytes())
        if isinstance(tags, dict) and tags:
            return tags
    except (OSError, EOFError, ValueError, TypeError):
        pass
    tags = {}
    for line in src.read_text(encoding="utf-8").splitlines():
        if line.strip():
            word, _, flag = line.strip().split(" ")
            tags[word] = flag
    try:
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=".callqa-jieba-tags-")
        with os.fdopen(fd, "wb") as f:
            f.write(marshal.dumps(tags))
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only temp folder: parse again next time
    return tags


@lru_cache(maxsize=8192)
def word_bounds(text: str) -> frozenset[int]:
    """Indices into `text` where a jieba word starts or ends (punctuation is its own word).

    A lexicon hit whose both ends are word bounds is a word of its own, not part of a longer word
    (嘛 in 干嘛, 额 in 额度).
    """
    bounds, pos = {0}, 0
    for piece in tokenizer().cut(text, HMM=False):
        pos += len(piece)
        bounds.add(pos)
    return frozenset(bounds)


# jieba.posseg's patterns (re_han_internal, re_skip_internal, re_num, re_eng, re_eng1)
_HAN = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._]+)")
_SKIP = re.compile(r"(\r\n|\s)")
_NUM, _ENG, _ENG1 = re.compile(r"[\.0-9]+"), re.compile("[a-zA-Z0-9]+"), re.compile("^[a-zA-Z0-9]$")


@lru_cache(maxsize=4096)
def pos_words(text: str) -> tuple[tuple[int, int, str, str], ...]:
    """(start, end, word, flag) of `text`, in text indices: `jieba.posseg.cut(text, HMM=False)`."""
    out, pos = [], 0
    for w, flag in _pos_cut(text):
        out.append((pos, pos + len(w), w, flag))
        pos += len(w)
    return tuple(out)


def _pos_cut(text: str):
    dt, tags = tokenizer(), _tags()
    for blk in _HAN.split(text):
        if _HAN.match(blk):
            route: dict[int, tuple[float, int]] = {}
            dt.calc(blk, dt.get_DAG(blk), route)
            x, buf = 0, ""
            while x < len(blk):
                y = route[x][1] + 1
                word = blk[x:y]
                if _ENG1.match(word):  # single Latin letters and digits run together as one word
                    buf += word
                else:
                    if buf:
                        yield buf, "eng"
                        buf = ""
                    yield word, tags.get(word, "x")
                x = y
            if buf:
                yield buf, "eng"
        else:
            for x in _SKIP.split(blk):
                if _SKIP.match(x):
                    yield x, "x"
                else:  # as posseg does: `eng` when the whole run (not the character) is Latin
                    for ch in x:
                        yield ch, "m" if _NUM.match(ch) else "eng" if _ENG.match(x) else "x"
