"""A Python model of the sale's pricing, written from the rules rather than from the contract."""

from __future__ import annotations


def ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def price(
    offered: int,
    sold: int,
    *,
    tranche_limits: tuple[int, ...],
    tranche_rates: tuple[int, ...],
    base_rate: int,
    hard_cap: int,
) -> tuple[int, int]:
    """(token units bought, wei used) for `offered` wei when `sold` token units are already sold.

    Each segment (the tranches, then the base rate up to the hard cap) sells at its own rate;
    a segment filled to its limit costs the rounded-up wei of its remaining room.
    """
    segments = list(zip(tranche_limits, tranche_rates)) + [(hard_cap, base_rate)]
    remaining, tokens, position = offered, 0, sold
    for limit, rate in segments:
        if position >= limit:
            continue
        room = limit - position
        if remaining * rate <= room:
            return tokens + remaining * rate, offered
        tokens += room
        position = limit
        remaining -= ceil_div(room, rate)
    return tokens, offered - remaining
