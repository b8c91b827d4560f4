"""Training cost: tokens times a model's price, rounded to the cent as the real API shows it."""

from __future__ import annotations

import math


def format_cost(trained_tokens: int, price_per_1k: float) -> str:
    """`$D.CC` for so many trained tokens at a price per 1,000 tokens (half a cent rounds up)."""
    cents = math.floor(trained_tokens * price_per_1k / 1000 * 100 + 0.5 + 1e-9)
    return f"${cents // 100}.{cents % 100:02d}"
