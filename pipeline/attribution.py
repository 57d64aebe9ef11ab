"""How much speech time went to the right party: the measure of role assignment on mono calls.

On a 10 ms grid, reference speech where exactly one party talks (overlaps excluded: one mixed
channel cannot split them) and where the call's turns have speech at all; the share of it whose
turn has the reference's role. Speech the VAD missed is not an attribution error (it is the
turn-edge and lost-speech figures' business), so it is counted apart as `found`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

Span = tuple[float, float, str]  # (start, end, role)
STEP_S = 0.01


@dataclass(frozen=True, slots=True)
class Attribution:
    right_s: float  # single-party reference speech given to that party
    found_s: float  # single-party reference speech covered by some turn
    single_s: float  # single-party reference speech

    @property
    def share(self) -> float:
        return self.right_s / self.found_s if self.found_s else 1.0

    @property
    def coverage(self) -> float:
        return self.found_s / self.single_s if self.single_s else 1.0


def attribution(reference: Iterable[Span], turns: Iterable[Span], duration: float) -> Attribution:
    t = np.arange(0.0, duration, STEP_S)
    count = np.zeros(len(t), int)
    ref = np.full(len(t), "", dtype=object)
    for s, e, role in reference:
        m = (t >= s) & (t < e)
        count[m] += 1
        ref[m] = role
    hyp = np.full(len(t), "", dtype=object)
    for s, e, role in turns:
        hyp[(t >= s) & (t < e)] = role
    single = count == 1
    found = single & (hyp != "")
    right = found & (hyp == ref)
    return Attribution(round(right.sum() * STEP_S, 2), round(found.sum() * STEP_S, 2), round(single.sum() * STEP_S, 2))
