"""Text a person typed (names, titles): valid Unicode, nothing that hides or reorders what is shown.

Shared by the domain packages and the HTTP edge; it knows no Flask.
"""

from __future__ import annotations

import unicodedata

from backend.errors import InvalidInput

# Explicit direction overrides and isolates make a name display differently from what it is
# (e.g. "invoice\u202egnp.exe"); zero-width and directional marks are category Cf too.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def check_text(value: str, what: str, *, allow_controls: bool = False) -> str:
    """`value` if it is valid Unicode (no lone surrogates) and, unless `allow_controls`, free of
    control characters (C0, DEL, C1) and bidirectional overrides; else an error naming `what`."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(
            f"{what} is not valid Unicode (a lone surrogate at character {exc.start}); send UTF-8 text"
        ) from None
    if allow_controls:
        return value
    for position, char in enumerate(value):
        if char in BIDI_CONTROLS or unicodedata.category(char) == "Cc":
            raise InvalidInput(
                f"{what} contains the invisible control character U+{ord(char):04X} at position {position}; "
                "remove it",
            )
    return value
