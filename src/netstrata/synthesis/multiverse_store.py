"""A multiverse on disk: specification-curve rows streamed to files as batches finish, resumable.

Layout of a store folder (``netstrata run --out DIR`` uses ``DIR/multiverse``)::

    manifest.json          what is being run: project fingerprint, settings, seed, number of
                           specifications, batch size, netstrata version
    parts/part-000017.json the curve rows of batch 17 (written to a temporary name, then renamed:
                           a part file is complete or absent, never half-written)

:meth:`CurveStore.open` with ``resume=True`` keeps the parts of a store whose manifest matches
the run (same project, settings, seed and specifications) and reports which batches are done;
otherwise the folder is emptied. Rows are JSON numbers, which round-trip floats exactly, so
resumed results equal an uninterrupted run bit for bit.

:class:`RobustnessAccumulator` computes :func:`~netstrata.synthesis.conclusions.holding` batch by
batch (counts, extremes and first rows per comparison), so a multiverse too large to hold in
memory still gets its robustness table; the curve itself is then streamed to a CSV file.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from .conclusions import CATEGORIES, holding

__all__ = ["CurveStore", "RobustnessAccumulator", "batch_size", "remove_parts"]

MANIFEST = "manifest.json"


def batch_size(n_specs: int) -> int:
    """Specifications per batch: about 64 batches or more (progress, balance), 1 to 200 each."""
    return int(min(200, max(1, n_specs // 64)))


def _row(values) -> list:
    return [v.item() if isinstance(v, np.generic) else v for v in values]


#: what a curve row holds when it holds no NumPy scalar (rows from SpecRunner: see curve_rows)
_PLAIN = frozenset((int, float, str, bool, type(None)))


def _scalar(v):
    """``json.dumps`` default: a NumPy scalar as its Python value (as :func:`_row` gives it; NumPy
    floats and strings are float and str subclasses, which json writes as their values)."""
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"Object of type {type(v).__name__} is not JSON serializable")


class CurveStore:
    """The parts folder of one multiverse run (see the module docstring)."""

    def __init__(self, folder: Path, manifest: dict, done: set[int]):
        self.folder, self.manifest, self.done = folder, manifest, done

    @property
    def parts(self) -> Path:
        return self.folder / "parts"

    @classmethod
    def open(cls, folder, manifest: dict, *, resume: bool = False) -> "CurveStore":
        folder = Path(folder)
        old = folder / MANIFEST
        done: set[int] = set()
        if resume and old.exists() and json.loads(old.read_text("utf-8")) == manifest:
            done = {int(p.stem.split("-")[1]) for p in (folder / "parts").glob("part-*.json")}
        else:
            shutil.rmtree(folder / "parts", ignore_errors=True)
        (folder / "parts").mkdir(parents=True, exist_ok=True)
        tmp = folder / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
        os.replace(tmp, old)
        return cls(folder, manifest, done)

    def path(self, number: int) -> Path:
        return self.parts / f"part-{number:06d}.json"

    def write(self, number: int, rows_per_spec: list[list[tuple]]) -> None:
        """Store one finished batch (atomically: temporary file, then rename)."""
        path = self.path(number)
        tmp = path.with_suffix(".tmp")
        # tuples are written as lists; NumPy scalars as their values (_scalar)
        tmp.write_text(json.dumps(rows_per_spec, allow_nan=True, separators=(",", ":"), default=_scalar),
                       encoding="utf-8")
        os.replace(tmp, path)
        self.done.add(number)

    def read(self, number: int) -> list[list[tuple]]:
        payload = json.loads(self.path(number).read_text("utf-8"))
        return [[tuple(r) for r in rows] for rows in payload]

    @staticmethod
    def as_read(rows_per_spec: list[list[tuple]]) -> list[list[tuple]]:
        """What :meth:`read` returns for a batch :meth:`write` stored (the same values and types:
        rows hold numbers, text and None, and JSON numbers round-trip exactly), without the disk.
        A specification's rows without NumPy scalars (one type check per value, in C) are kept as they are."""
        return [list(map(tuple, rows)) if _PLAIN.issuperset(map(type, itertools.chain.from_iterable(rows)))
                else [tuple(_row(r)) for r in rows] for rows in rows_per_spec]

    def remove(self) -> None:
        """Delete the parts and the manifest (after the run's outputs are written)."""
        shutil.rmtree(self.parts, ignore_errors=True)
        (self.folder / MANIFEST).unlink(missing_ok=True)
        try:
            self.folder.rmdir()
        except OSError:
            pass   # other files (e.g. the streamed curve) stay


def remove_parts(folder) -> None:
    """Delete a store's parts and manifest once the run's outputs are written (a streamed
    ``specification_curve.csv`` stays)."""
    folder = Path(folder)
    if folder.is_dir():
        CurveStore(folder, {}, set()).remove()


class RobustnessAccumulator:
    """:func:`~netstrata.synthesis.conclusions.holding` computed over consecutive curve chunks.

    Feed chunks with :meth:`add` in specification order (each chunk holds whole specifications,
    sorted as the curve is); :meth:`frame` gives the same table as ``holding(whole_curve)``.
    """

    def __init__(self, primary_index: int = 0):
        self.primary_index = primary_index
        self.specs: set[int] = set()
        self.comp: dict[str, dict] = {}

    def add(self, curve: pd.DataFrame) -> None:
        if not len(curve):
            return
        self.specs.update(curve["specification"].unique().tolist())
        for comp, g in curve.groupby("comparison", sort=False):
            a = self.comp.get(comp)
            if a is None:
                first = g.iloc[0]
                a = self.comp[comp] = {"stratum": first["stratum"], "treat1": first["treat1"],
                                       "treat2": first["treat2"], "specs": 0, "k": 0,
                                       "counts": dict.fromkeys(CATEGORIES, 0), "primary": None,
                                       "min": np.inf, "max": -np.inf}
            if a["primary"] is None:
                prim = g.loc[g["specification"] == self.primary_index, "conclusion"]
                if len(prim):
                    a["primary"] = prim.iat[0]
            est = g[g["conclusion"] != "not_estimable"]
            a["k"] += len(est)
            a["specs"] += int(est["specification"].nunique())
            for c, n in est["conclusion"].value_counts().items():
                a["counts"][c] = a["counts"].get(c, 0) + int(n)
            if len(est):
                a["min"] = min(a["min"], float(est["estimate"].min()))
                a["max"] = max(a["max"], float(est["estimate"].max()))

    def frame(self) -> pd.DataFrame:
        cols = list(holding(pd.DataFrame(columns=["specification", "comparison", "conclusion"])).columns)
        rows = []
        for comp in sorted(self.comp):
            a = self.comp[comp]
            k, primary = a["k"], a["primary"] or "not_estimable"
            row = {"comparison": comp, "stratum": a["stratum"], "treat1": a["treat1"], "treat2": a["treat2"],
                   "n_specifications": len(self.specs), "n_specifications_estimable": a["specs"],
                   "n_estimable": k, "primary": primary}
            for c in CATEGORIES:
                row[f"share_{c}"] = a["counts"].get(c, 0) / k if k else float("nan")
            row["holds"] = a["counts"].get(primary, 0) / k if k and primary != "not_estimable" else float("nan")
            row["estimate_min"], row["estimate_max"] = (a["min"], a["max"]) if k else (float("nan"), float("nan"))
            rows.append(row)
        return pd.DataFrame(rows, columns=cols)
