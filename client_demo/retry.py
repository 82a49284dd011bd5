"""Retrying Messages API calls: 429, 5xx, overloaded and connection errors only.

We turn the SDK's own retries off (max_retries=0) because it also retries 408 and 409,
and its backoff is not ours to bound: here the delay grows exponentially with jitter,
honours the server's retry-after, and is capped, and every wait is reported.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import anthropic

T = TypeVar("T")


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, anthropic.APIConnectionError):  # includes timeouts
        return True
    if isinstance(error, anthropic.APIStatusError):
        if error.status_code == 429 or error.status_code >= 500:
            return True
        # An error event in the middle of a stream arrives on a 200 response.
        body = error.body if isinstance(error.body, dict) else {}
        kind = (body.get("error") or {}).get("type") if isinstance(body.get("error"), dict) else body.get("type")
        return kind in ("overloaded_error", "api_error", "rate_limit_error")
    return False


def retry_after_seconds(error: BaseException) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                return None  # an HTTP date: fall back to our own backoff
    return None


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
                wait = self.delay(attempt, retry_after_seconds(error))
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
