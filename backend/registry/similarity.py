"""Perceptual-hash distance."""


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()
