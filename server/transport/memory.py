"""Memory that comes back after HTTP sessions end.

Measured with bench/http_memory.py: when sessions end, the SDK drops every object they held (their
transports, streams and tasks are collected), yet the process's resident size stayed at its peak.
What held it was the allocators, not live objects: CPython's small-object allocator (pymalloc) hands an
arena of 1 MiB back to the system only when every object in it is gone, and a few long-lived objects
allocated during a burst of sessions pin most of them; glibc's malloc keeps freed pages inside its
heaps. So, on Linux with glibc:

- `give_back_memory_as_sessions_end()`: when the number of open sessions has fallen, a full garbage
  collection and glibc's `malloc_trim(0)`, which returns every free page of every heap to the system.
- PYTHONMALLOC=malloc, set by the Dockerfile and recommended for a team's server (docs/deployment.md), puts small
  objects in glibc's heaps too, whose free pages `malloc_trim` can return: after 1,000 sessions ended, the
  process is back to 1.04x its size at rest, against 1.46x with pymalloc. It is an interpreter setting, so
  it is the operator's to make (shopdesk does not re-execute itself for it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys
from collections.abc import Callable

import anyio

log = logging.getLogger("shopdesk")
CHECK_EVERY = 5.0  # seconds between looks at the number of open sessions


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - musl and other C libraries have none
    except (OSError, AttributeError):
        return None
    return libc


def give_back_memory() -> None:
    gc.collect()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


async def give_back_memory_as_sessions_end(open_sessions: Callable[[], int], every: float = CHECK_EVERY) -> None:
    """Runs until cancelled: gives memory back whenever fewer sessions are open than at some look since it last
    did."""
    high = open_sessions()
    while True:
        await anyio.sleep(every)
        now = open_sessions()
        if now < high:
            give_back_memory()
            log.debug("gave memory back after %d sessions ended", high - now)
            high = now
        high = max(high, now)
