"""What an optional analysis stage warned about reaches the run's notes: nothing is silenced."""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["warnings_noted"]


@contextmanager
def warnings_noted(notes: list, prefix: str) -> Iterator[None]:
    """Run a stage with its warnings recorded instead of shown: each distinct message becomes
    the note ``"<prefix>: <message>"``, in the order first raised, also when the stage fails (the
    caller notes the failure itself; see :data:`netstrata.errors.ANALYSIS_ERRORS`)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            notes.extend(f"{prefix}: {m}" for m in dict.fromkeys(str(w.message) for w in caught))
