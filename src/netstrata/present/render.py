"""Render a report's figures ahead of time, on several cores, so the report only inlines them.

:func:`prerender` finds every Display in a :class:`~netstrata.present.ReportContext` (or any
nesting of dataclasses, tuples, lists and dicts), renders them (in worker processes when the
figures are numerous enough to pay for it) and keeps the bytes on each Display, where
``Display.to_svg()`` / ``to_png()`` find them. The bytes are those a Display renders itself:
the same fixed style, size, DPI and metadata in any process, so a report is identical with or
without pre-rendering (checked in the tests). Nothing here changes what a figure draws.
"""
from __future__ import annotations

import dataclasses
import time

from ._figure import _PNG_METADATA, _SVG_METADATA, Display

__all__ = ["displays", "prerender"]

def displays(obj) -> list[Display]:
    """Every Display reachable from ``obj``, in traversal order, each once."""
    found, seen = [], set()

    def walk(x):
        if isinstance(x, Display):
            if id(x) not in seen:
                seen.add(id(x))
                found.append(x)
        elif dataclasses.is_dataclass(x) and not isinstance(x, type):
            for f in dataclasses.fields(x):
                walk(getattr(x, f.name))
        elif isinstance(x, (tuple, list)):
            for v in x:
                walk(v)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)

    walk(obj)
    return found


def _render_one(display: Display, fmt: str) -> bytes:
    return display._render(fmt, _SVG_METADATA if fmt == "svg" else _PNG_METADATA)


def prerender(obj, *, fmt: str = "svg", workers: int | None = None) -> int:
    """Render every Display of ``obj`` now; returns how many were rendered.

    ``workers``: cap on processes (default: every core; 1 = in this process). The first figure
    is rendered here and timed; the others go to worker processes when
    :func:`netstrata.synthesis.parallel.choose_workers` finds that it pays.
    """
    from functools import partial

    from ..synthesis.parallel import choose_workers, local_pool

    todo = [d for d in displays(obj) if fmt not in (d._rendered or {})]
    if not todo:
        return 0
    # the first figure renders here: it imports matplotlib and loads the fonts once (forked
    # workers inherit them) and measures what a figure costs
    t0 = time.perf_counter()
    out = [_render_one(todo[0], fmt)]
    n = choose_workers(len(todo) - 1, time.perf_counter() - t0, workers)
    if n == 1:
        out += [_render_one(d, fmt) for d in todo[1:]]
    else:
        with local_pool(n) as pool:
            out += pool.map(partial(_render_one, fmt=fmt), todo[1:], chunksize=max(1, len(todo) // (8 * n)))
    for d, data in zip(todo, out):
        d._rendered = {**(d._rendered or {}), fmt: data}
    return len(todo)
