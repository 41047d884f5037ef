"""One table, three renderings: the object every result's ``summary()`` returns."""
from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import pandas as pd

__all__ = ["Summary"]


@dataclass(frozen=True)
class Summary:
    """A titled table with notes; ``to_frame()``, ``as_text()`` and ``as_html()`` render the same frame.

    Numbers are kept at full precision in the frame; rounding happens only when rendering.
    """

    title: str
    frame: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)
    digits: int = 4

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def _rounded(self) -> pd.DataFrame:
        return self.frame.round(self.digits) if len(self.frame.columns) else self.frame

    def as_text(self) -> str:
        lines = [self.title, "", self._rounded().to_string()]
        lines += [""] + list(self.notes) if self.notes else []
        return "\n".join(lines)

    def as_html(self) -> str:
        table = self._rounded().to_html(escape=True, border=0, classes="netstrata-summary")
        notes = "".join(f"<p>{escape(n)}</p>" for n in self.notes)
        return f"<div><h4>{escape(self.title)}</h4>{table}{notes}</div>"

    def _repr_html_(self) -> str:
        return self.as_html()

    def __str__(self) -> str:
        return self.as_text()
