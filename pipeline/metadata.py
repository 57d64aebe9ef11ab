"""Call metadata from recorder file names: agent, time, direction, caller (masked), call date."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from pipeline.config import MetadataOptions

DIRECTIONS = {"in": "inbound", "out": "outbound", "inbound": "inbound", "outbound": "outbound",
              "呼入": "inbound", "呼出": "outbound"}


@lru_cache(maxsize=16)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def mask_number(number: str) -> str:
    """Keep the first 3 and last 4 digits of a long number (138****8000); short ones keep 2."""
    if len(number) >= 8:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    return "*" * max(len(number) - 2, 0) + number[-2:]


def from_path(rel: str, opts: MetadataOptions) -> dict[str, Any]:
    """Fields for the `calls` row (None where the name doesn't say) and the call's date partition."""
    m = _compiled(opts.pattern).search(rel)
    g = {k: v for k, v in (m.groupdict() if m else {}).items() if v}
    call_time = None
    date = re.sub(r"\D", "", g.get("date", ""))
    if len(date) == 8:
        clock = re.sub(r"\D", "", g.get("time", "")) or "000000"
        try:
            call_time = datetime.strptime(date + clock.ljust(6, "0")[:6], "%Y%m%d%H%M%S")
        except ValueError:
            call_time = None
    caller = g.get("caller")
    if caller and opts.mask_caller:
        caller = mask_number(caller)
    return {
        "agent_id": g.get("agent_id"),
        "call_time": call_time,
        "direction": DIRECTIONS.get(g.get("direction", "").lower(), g.get("direction")),
        "caller": caller,
        "call_date": call_time.strftime("%Y-%m-%d") if call_time else "unknown",
    }
