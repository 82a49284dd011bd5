"""Which HTTP sessions each token holds: the server keeps the book; the session cap (transport/http_limits.py)
reads it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable


class SessionBook:
    """Which sessions each token opened, and its openings still in flight.

    Whether a session is still open is asked of `alive` (the SDK's session manager) when it matters, at the
    token's next opening: a session that ended in any way (DELETE, idle timeout, crash) no longer counts, and
    is dropped from the book then.
    """

    def __init__(self, alive: Callable[[str], bool] = lambda session_id: True) -> None:
        self.alive = alive
        self.opened: dict[str, set[str]] = {}
        self.in_flight: Counter[str] = Counter()

    def admit(self, holder: str, limit: int) -> bool:
        """Reserve a place for one more session of `holder`; False when it holds `limit` already."""
        live = {session_id for session_id in self.opened.get(holder, ()) if self.alive(session_id)}
        if live:
            self.opened[holder] = live
        else:
            self.opened.pop(holder, None)
        if len(live) + self.in_flight[holder] >= limit:
            return False
        self.in_flight[holder] += 1
        return True

    def settle(self, holder: str, session_id: str | None) -> None:
        """The opening reserved by `admit` is answered: it opened `session_id`, or (None) nothing."""
        self.in_flight[holder] -= 1
        if self.in_flight[holder] <= 0:
            del self.in_flight[holder]
        if session_id is not None:
            self.opened.setdefault(holder, set()).add(session_id)
