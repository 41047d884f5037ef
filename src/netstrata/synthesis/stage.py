"""What an analysis stage warned about reaches its notes: nothing is silenced."""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["warnings_noted"]


@contextmanager
def warnings_noted(notes: list, prefix: str | None = None) -> Iterator[None]:
    """Run a stage with its warnings recorded instead of shown: each distinct message is appended
    to ``notes`` (as ``"<prefix>: <message>"`` when a prefix is given), in the order first raised,
    also when the stage fails (the caller notes the failure itself; see
    :data:`netstrata.errors.ANALYSIS_ERRORS`)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            messages = dict.fromkeys(str(w.message) for w in caught)
            notes.extend(messages if prefix is None else (f"{prefix}: {m}" for m in messages))
