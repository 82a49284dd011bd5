"""The one place that knows what tokens cost.

US dollars per million tokens, from Anthropic's model pages on platform.claude.com (read in
November 2026). Cache writes are the 5-minute kind (what `cache_control: ephemeral` makes).
Claude Haiku 5.5 is priced by prompt length: a request whose prompt (input + cache writes +
cache reads) exceeds 100,000 tokens pays the higher rates on every token, output included.
Where sources disagreed (Sonnet 5.5 cache reads: $0.20 or $0.10), the higher price is kept,
so a cost bound can only stop a run early, never late.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rates:
    input: float
    output: float
    cache_write: float
    cache_read: float


@dataclass(frozen=True)
class Price:
    rates: Rates
    long_prompt_threshold: int | None = None
    long_prompt: Rates | None = None

    def for_prompt(self, prompt_tokens: int) -> Rates:
        if self.long_prompt and self.long_prompt_threshold is not None and prompt_tokens > self.long_prompt_threshold:
            return self.long_prompt
        return self.rates


PRICES: dict[str, Price] = {
    "claude-haiku-5-5": Price(Rates(0.10, 0.50, 0.125, 0.01), 100_000, Rates(0.50, 2.50, 0.625, 0.05)),
    "claude-sonnet-5-5": Price(Rates(2.00, 10.00, 2.50, 0.20)),
    "claude-opus-5-5": Price(Rates(4.00, 20.00, 5.00, 0.20)),
    "claude-haiku-4-5": Price(Rates(1.00, 5.00, 1.25, 0.10)),
    "claude-sonnet-4-6": Price(Rates(3.00, 15.00, 3.75, 0.30)),
    "claude-opus-4-6": Price(Rates(5.00, 25.00, 6.25, 0.50)),
}
SMALL_MODEL = "claude-haiku-5-5"
STRONG_MODEL = "claude-sonnet-5-5"
# Unknown models are priced at the dearest rates we know, so bounds err on the safe side.
_DEAREST = Price(
    Rates(
        *(max(getattr(p.rates, f) for p in PRICES.values()) for f in ("input", "output", "cache_write", "cache_read"))
    )
)


def price_of(model: str) -> Price:
    """A dated id (claude-haiku-4-5-20251001) costs what its family costs."""
    for name, price in PRICES.items():
        if model == name or model.startswith(name + "-"):
            return price
    return _DEAREST


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    def add(self, model: str, usage: object) -> Usage:
        """Add one response's usage (an SDK `Usage`); returns that response's own share, with its cost."""
        part = Usage(
            input_tokens=getattr(usage, "input_tokens", 0) or 0,
            output_tokens=getattr(usage, "output_tokens", 0) or 0,
            cache_creation_input_tokens=getattr(usage, "cache_creation_input_tokens", 0) or 0,
            cache_read_input_tokens=getattr(usage, "cache_read_input_tokens", 0) or 0,
        )
        prompt = part.input_tokens + part.cache_creation_input_tokens + part.cache_read_input_tokens
        rates = price_of(model).for_prompt(prompt)
        part.cost_usd = (
            part.input_tokens * rates.input
            + part.cache_creation_input_tokens * rates.cache_write
            + part.cache_read_input_tokens * rates.cache_read
            + part.output_tokens * rates.output
        ) / 1_000_000
        self.input_tokens += part.input_tokens
        self.output_tokens += part.output_tokens
        self.cache_creation_input_tokens += part.cache_creation_input_tokens
        self.cache_read_input_tokens += part.cache_read_input_tokens
        self.cost_usd += part.cost_usd
        return part

    def summary(self) -> str:
        return (
            f"tokens in {self.input_tokens:,}, out {self.output_tokens:,}, "
            f"cache writes {self.cache_creation_input_tokens:,}, cache reads {self.cache_read_input_tokens:,}; "
            f"cost ${self.cost_usd:.4f}"
        )
