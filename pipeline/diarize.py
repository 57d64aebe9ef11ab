"""Who spoke when in a mono call: the VAD's speech regions split between two voices.

Short overlapping windows of speech (1.5 s long as in 3D-Speaker's and senko's
diarisation recipes, every 1.0 s) are embedded with CAM++ (`campplus`), the embeddings clustered into two
voices, and every 50 ms of each region labelled by the windows that cover it (a vote weighted by
how clearly each window belongs to its voice). Label runs shorter than `min_piece_s` join their
neighbours: a turn of a few hundred ms is more often a misheard window than a real turn. When
the two clusters are as alike as one voice's own windows, the call has one speaker.

Overlapped speech cannot be split in one channel: it goes to whichever voice dominates, so
`overtalk` does not run on mono calls (README). The audio is streamed (bounded memory).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from pipeline import campplus, fbank
from pipeline.model import Seconds

Region = tuple[Seconds, Seconds]
STEP_S = 0.05


@dataclass(frozen=True, slots=True)
class Options:
    window_s: Seconds = 1.5  # 3D-Speaker / senko subsegment length
    shift_s: Seconds = 1.0  # AMI clips (../shared/realspeech/ami): 1.0 s attributes as well as 0.75 s at 3/4 of the cost
    min_window_s: Seconds = 0.4  # shorter regions get no embedding of their own
    min_piece_s: Seconds = 0.6  # shorter label runs join a neighbour
    one_voice_cos: float = 0.8  # centroids this alike are one speaker
    batch: int = 32


@dataclass(frozen=True, slots=True)
class Piece:
    start: Seconds
    end: Seconds
    speaker: int  # 0 or 1, in order of first appearance


@dataclass(frozen=True, slots=True)
class Diarization:
    pieces: tuple[Piece, ...]
    speakers: int  # 1 or 2
    similarity: float  # cosine of the two voices' centroids: near 1 = hard to tell apart


def windows(regions: Iterable[Region], opts: Options = Options()) -> list[Region]:
    """Embedding windows over each region; a region's last window ends at the region's end."""
    out: list[Region] = []
    for s, e in regions:
        if e - s < opts.min_window_s:
            continue
        if e - s <= opts.window_s:
            out.append((s, e))
            continue
        t = s
        while t + opts.window_s < e:
            out.append((round(t, 3), round(t + opts.window_s, 3)))
            t += opts.shift_s
        out.append((round(e - opts.window_s, 3), e))
    return out


def embed_stream(blocks: Iterable[np.ndarray], sample_rate: int, wins: list[Region], weights: campplus.Weights,
                 opts: Options = Options()) -> np.ndarray:
    """Unit-length CAM++ embeddings of `wins` (sorted by start) from mono (n,) or (1, n) blocks."""
    out = np.zeros((len(wins), 192), np.float32)
    pending: list[tuple[int, np.ndarray]] = []

    def flush() -> None:
        by_len: dict[int, list[tuple[int, np.ndarray]]] = {}
        for i, f in pending:
            by_len.setdefault(len(f), []).append((i, f))
        for group in by_len.values():
            for k in range(0, len(group), opts.batch):
                part = group[k : k + opts.batch]
                e = campplus.embed(weights, np.stack([f for _, f in part]))
                out[[i for i, _ in part]] = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-9)
        pending.clear()

    from threadpoolctl import threadpool_limits

    # One BLAS thread, as in the ASR (asr.py): sums in another order change the last bits of an
    # embedding, and a call's diarisation must not depend on the machine's core count.
    with threadpool_limits(limits=1, user_api="blas"):
        for i, samples in _cut(blocks, sample_rate, wins):
            feats = fbank.fbank(samples, sample_rate)
            if len(feats):
                pending.append((i, feats - feats.mean(axis=0)))
            if len(pending) >= 4 * opts.batch:
                flush()
        flush()
    return out


def _cut(blocks: Iterable[np.ndarray], sample_rate: int, wins: list[Region]) -> Iterator[tuple[int, np.ndarray]]:
    """(index, samples) of each window, holding only the audio still needed."""
    buf = np.zeros(0, np.float32)
    buf_start = 0  # sample index of buf[0]
    nxt = 0
    for block in blocks:
        block = block.reshape(-1) if block.ndim == 1 or block.shape[0] == 1 else block.mean(axis=0)
        buf = np.concatenate([buf, block.astype(np.float32, copy=False)])
        end = buf_start + len(buf)
        while nxt < len(wins) and int(wins[nxt][1] * sample_rate) <= end:
            a, b = (int(t * sample_rate) - buf_start for t in wins[nxt])
            yield nxt, buf[max(a, 0) : b]
            nxt += 1
        keep = int(wins[nxt][0] * sample_rate) - buf_start if nxt < len(wins) else len(buf)
        buf, buf_start = buf[max(0, min(keep, len(buf))) :], buf_start + max(0, min(keep, len(buf)))
    while nxt < len(wins):  # the file ended before the VAD's last window did (rounding)
        a, b = (int(t * sample_rate) - buf_start for t in wins[nxt])
        if b - a > 0 and a < len(buf):
            yield nxt, buf[max(a, 0) : b]
        nxt += 1


def cluster(emb: np.ndarray, iterations: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Two-means on the unit sphere → (labels, centroids).

    A window of line noise or a cough is like no other window; started from the two least alike
    windows, two-means would give such an outlier a cluster of its own and lump both voices into
    the other. So the centroids are fitted on the "core" windows only — those whose three most
    alike windows are about as alike as a typical window's (within 0.25 of the median) — started
    from the two least alike core windows; then every window joins its nearest centroid.
    """
    if len(emb) < 2:
        return np.zeros(len(emb), int), np.vstack([emb, emb])[:2] if len(emb) else np.zeros((2, 192))
    sim = emb @ emb.T
    np.fill_diagonal(sim, -1.0)
    density = np.sort(sim, axis=1)[:, -min(3, len(emb) - 1):].mean(axis=1)
    core = np.flatnonzero(density >= np.median(density) - 0.25)
    if len(core) < 2:
        core = np.arange(len(emb))
    np.fill_diagonal(sim, 1.0)
    sub = sim[np.ix_(core, core)]
    a, b = np.unravel_index(np.argmin(sub), sub.shape)
    cent = emb[core[[a, b]]].copy()
    fit = emb[core]
    labels = np.zeros(len(fit), int)
    for _ in range(iterations):
        new = np.argmax(fit @ cent.T, axis=1)
        for k in (0, 1):
            if (new == k).any():
                c = fit[new == k].mean(axis=0)
                cent[k] = c / max(np.linalg.norm(c), 1e-9)
        if (new == labels).all():
            break
        labels = new
    return np.argmax(emb @ cent.T, axis=1), cent


def diarize(regions: list[Region], wins: list[Region], emb: np.ndarray, opts: Options = Options()) -> Diarization:
    """Speaker-labelled pieces of `regions` from the window embeddings."""
    if not wins:
        return Diarization(tuple(Piece(s, e, 0) for s, e in regions), 1, 1.0)
    labels, cent = cluster(emb)
    similarity = float(cent[0] @ cent[1])
    if similarity >= opts.one_voice_cos or len(set(labels.tolist())) < 2:
        return Diarization(tuple(Piece(s, e, 0) for s, e in regions), 1, round(similarity, 3))
    score = emb @ cent.T
    margin = np.abs(score[:, 0] - score[:, 1]) + 1e-3
    starts = np.array([w[0] for w in wins])
    ends = np.array([w[1] for w in wins])
    pieces: list[Piece] = []
    for s, e in regions:
        steps = np.arange(s, e, STEP_S) + STEP_S / 2
        vote = np.zeros((len(steps), 2))
        inside = np.flatnonzero((starts < e) & (ends > s))
        for w in inside:
            cover = (steps >= starts[w]) & (steps < ends[w])
            vote[cover, labels[w]] += margin[w]
        if not vote.any():  # too short for a window of its own: the nearest window's voice
            near = int(np.argmin(np.abs((starts + ends) / 2 - (s + e) / 2)))
            pieces.append(Piece(s, e, int(labels[near])))
            continue
        # A step the two voices tie on (a stray window against its neighbour) takes the nearest
        # decided step's voice: continuity, not an arbitrary pick.
        decided = np.abs(vote[:, 0] - vote[:, 1]) > 0.25 * vote.max(axis=1)
        lab = _fill(np.where(decided, vote.argmax(axis=1), -1)) if decided.any() else vote.argmax(axis=1)
        pieces += _runs(s, e, steps, _smooth(lab, int(round(opts.min_piece_s / STEP_S))))
    return Diarization(tuple(_first_is_zero(pieces)), 2, round(similarity, 3))


def _fill(lab: np.ndarray) -> np.ndarray:
    """Steps no window covers take the label of the nearest covered step."""
    known = np.flatnonzero(lab >= 0)
    idx = known[np.clip(np.searchsorted(known, np.arange(len(lab))), 0, len(known) - 1)]
    prev = known[np.clip(np.searchsorted(known, np.arange(len(lab))) - 1, 0, len(known) - 1)]
    pick = np.where(np.abs(prev - np.arange(len(lab))) <= np.abs(idx - np.arange(len(lab))), prev, idx)
    return lab[pick]


def _smooth(lab: np.ndarray, min_steps: int) -> np.ndarray:
    """Runs shorter than `min_steps` take the label of their longer neighbour (repeat until stable)."""
    lab = lab.copy()
    for _ in range(10):
        edges = np.flatnonzero(np.diff(lab)) + 1
        bounds = np.concatenate(([0], edges, [len(lab)]))
        runs = list(zip(bounds[:-1], bounds[1:]))
        short = [(i, a, b) for i, (a, b) in enumerate(runs) if b - a < min_steps and len(runs) > 1]
        if not short:
            break
        i, a, b = min(short, key=lambda r: r[2] - r[1])
        left = runs[i - 1][1] - runs[i - 1][0] if i > 0 else -1
        right = runs[i + 1][1] - runs[i + 1][0] if i + 1 < len(runs) else -1
        lab[a:b] = lab[a - 1] if left >= right else lab[b]
    return lab


def _runs(s: Seconds, e: Seconds, steps: np.ndarray, lab: np.ndarray) -> list[Piece]:
    out: list[Piece] = []
    edges = np.flatnonzero(np.diff(lab)) + 1
    bounds = [s] + [round(float(steps[i] - STEP_S / 2), 3) for i in edges] + [e]
    for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        out.append(Piece(a, b, int(lab[0 if k == 0 else edges[k - 1]])))
    return out


def _first_is_zero(pieces: list[Piece]) -> list[Piece]:
    if pieces and pieces[0].speaker == 1:
        return [Piece(p.start, p.end, 1 - p.speaker) for p in pieces]
    return pieces
