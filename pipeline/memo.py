"""A cache keyed by the identity of its arguments, for pure functions of large frozen records.

`functools.lru_cache` hashes its arguments on every call, and a frozen dataclass hashes all of
its fields: a `Call` every turn and word, a `Lexicon` every entry. On a rescore of 1,000 calls
those hashes cost more than the work the caches saved (bench/rescore.py). An entry holds its
arguments, so no other object can take their ids while it is cached.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def by_identity(maxsize: int) -> Callable[[F], F]:
    """Memoise `fn(*args)` on the identity of each positional argument (oldest entry out first)."""

    def wrap(fn: F) -> F:
        cache: dict[tuple[int, ...], tuple[tuple[Any, ...], Any]] = {}

        @functools.wraps(fn)
        def call(*args: Any) -> Any:
            key = tuple(map(id, args))
            got = cache.get(key)
            if got is not None and all(a is b for a, b in zip(got[0], args)):
                return got[1]
            value = fn(*args)
            if len(cache) >= maxsize:
                del cache[next(iter(cache))]
            cache[key] = (args, value)
            return value

        call.cache_clear = cache.clear  # type: ignore[attr-defined]
        return call  # type: ignore[return-value]

    return wrap
