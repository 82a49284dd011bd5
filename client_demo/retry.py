"""Retrying Messages API calls: 429, 5xx, overloaded and connection errors, and what the server says.

Why not the SDK's own retries (anthropic 2.14, `_base_client.py`)? Its retry loop (`_request`) only
wraps getting the response: a streaming call returns as soon as a 200 arrives, and an `error` event
later in that stream (`overloaded_error` under load) is raised while the events are read
(`AsyncStream.__stream__`), after the loop is done, so it is never retried. It retries 408, 409, 429,
5xx and connection errors (2 retries by default), obeying `x-should-retry: true/false` first. Its
wait is `retry-after-ms`, else `retry-after` in seconds or as an HTTP date, else 0.5 s doubling up
to 8 s with jitter; a server's wait is capped only at 4,294,967 s (the platform's sleep limit), so a
`retry-after: 3600` makes the call sleep an hour, unreported (a log line at INFO).

So the agent calls the API with the SDK's retries off (`with_options(max_retries=0)`, whatever client
it is given, so the two loops never multiply), and this module retries instead: mid-stream errors
too, not 408 or 409 unless the server says `x-should-retry: true`, with exponential backoff and
jitter, the server's `retry-after` (seconds, milliseconds or an HTTP date) capped, and every wait
reported.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import anthropic

T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, anthropic.APIConnectionError):  # includes timeouts
        return True
    if isinstance(error, anthropic.APIStatusError):
        # The server's word comes first, as in the SDK: it knows whether trying again can help.
        should_retry = error.response.headers.get("x-should-retry")
        if should_retry in ("true", "false"):
            return should_retry == "true"
        if error.status_code == 429 or error.status_code >= 500:
            return True
        # An error event in the middle of a stream arrives on a 200 response.
        body = error.body if isinstance(error.body, dict) else {}
        kind = (body.get("error") or {}).get("type") if isinstance(body.get("error"), dict) else body.get("type")
        return kind in ("overloaded_error", "api_error", "rate_limit_error")
    return False


def retry_after_seconds(error: BaseException, now: Callable[[], datetime] = utc_now) -> float | None:
    """The wait the server asks for: `retry-after-ms`, else `retry-after` as seconds or an HTTP date
    (a date already past means no wait). None when it asks for none, or says something unreadable."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    return retry_after_from(headers, now)


def retry_after_from(headers: Mapping[str, str], now: Callable[[], datetime] = utc_now) -> float | None:
    """The wait a response's headers ask for, as `retry_after_seconds` reads it."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            if name == "retry-after":
                return _seconds_until(value, now())
    return None


def _seconds_until(http_date: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": RFC 5322 for "UTC, source unknown"
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class GaveUp(Exception):
    """The API kept failing, or failed in a way retrying cannot fix."""


@dataclass
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    retry_after_cap: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    jitter: Callable[[], float] = field(default=random.random)
    now: Callable[[], datetime] = utc_now  # for retry-after dates

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempt counts from 0)."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        backoff: float = min(self.max_delay, self.base_delay * 2.0**attempt)
        return backoff * (0.5 + self.jitter() / 2)  # "equal jitter": between half and all of the backoff

    async def run(self, call: Callable[[], Awaitable[T]], on_retry: Callable[[BaseException, float], None]) -> T:
        for attempt in range(self.max_attempts):
            try:
                return await call()
            except anthropic.APIError as error:
                if not is_retryable(error):
                    raise GaveUp(describe(error)) from error
                if attempt + 1 == self.max_attempts:
                    raise GaveUp(f"{describe(error)} (gave up after {self.max_attempts} attempts)") from error
                wait = self.delay(attempt, retry_after_seconds(error, self.now))
                on_retry(error, wait)
                await self.sleep(wait)
        raise AssertionError("unreachable")


def describe(error: BaseException) -> str:
    if isinstance(error, anthropic.APIStatusError):
        message = error.message
        return f"the Claude API answered {error.status_code}: {message}"
    if isinstance(error, anthropic.APIConnectionError):
        return f"could not reach the Claude API: {error}"
    return str(error)
