"""R's ordering of labels, shared by the layers that must sort treatments as netmeta does."""
from __future__ import annotations

from functools import lru_cache

__all__ = ["collate_key"]

# ICU root-collation classes used by R's sort() in an en_US.UTF-8 locale: spaces and punctuation
# (in this order) before digits before letters; letters compared case-insensitively first, then
# lower case before upper case on ties.
_PUNCT_ORDER = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$"


@lru_cache(maxsize=8192)
def collate_key(label: str) -> tuple:
    """Sort key approximating R's ``sort()`` of labels in an en_US UTF-8 locale (ICU-style).

    >>> sorted(["b", "Aspirin+X", "Aspirin:Y", "a"], key=collate_key)
    ['a', 'Aspirin:Y', 'Aspirin+X', 'b']
    """
    primary = []
    for ch in label:
        if ch.isalpha():
            primary.append((2, ord(ch.lower())))
        elif ch.isdigit():
            primary.append((1, ord(ch)))
        else:
            pos = _PUNCT_ORDER.find(ch)
            primary.append((0, pos if pos >= 0 else 100 + ord(ch)))
    return tuple(primary), tuple(ch.isupper() for ch in label)
