"""Progress of a long job on stderr: a bar that redraws itself on a terminal, a few plain lines elsewhere."""

from __future__ import annotations

import time
from typing import TextIO

_BAR_WIDTH = 30
_PLAIN_STEPS = 4  # lines written to a file or pipe: at 25 %, 50 %, 75 % and 100 %


class Progress:
    def __init__(self, total: int, unit: str, stream: TextIO) -> None:
        self.total = total
        self.unit = unit
        self.stream = stream
        self.on_terminal = stream.isatty()
        self._started = time.monotonic()
        self._shown_step = 0

    def update(self, done: int) -> None:
        if self.total <= 0:
            return
        share = min(done / self.total, 1.0)
        elapsed = time.monotonic() - self._started
        if self.on_terminal:
            filled = round(share * _BAR_WIDTH)
            bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
            self.stream.write(f"\r[{bar}] {share:4.0%} {done:,}/{self.total:,} {self.unit}, {elapsed:.0f} s ")
            self.stream.flush()
            return
        step = int(share * _PLAIN_STEPS)
        if step > self._shown_step:
            self._shown_step = step
            self.stream.write(f"{done:,} of {self.total:,} {self.unit} ({share:.0%}) after {elapsed:.1f} s\n")
            self.stream.flush()

    def done(self) -> None:
        if self.on_terminal and self.total > 0:
            self.stream.write("\n")
            self.stream.flush()
