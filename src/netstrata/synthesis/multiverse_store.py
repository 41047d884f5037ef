"""A multiverse on disk: specification-curve rows streamed to files as batches finish, resumable.

Layout of a store folder (``netstrata run --out DIR`` uses ``DIR/multiverse``)::

    manifest.json          what is being run: project fingerprint, settings, seed, number of
                           specifications, batch size, netstrata version
    parts/part-000017.npz  the curve rows of batch 17 (written to a temporary name, then renamed:
                           a part file is complete or absent, never half-written)

:meth:`CurveStore.open` with ``resume=True`` keeps the parts of a store whose manifest matches
the run (same project, settings, seed and specifications) and reports which batches are done;
otherwise the folder is emptied.

A part is column by column (:func:`encode_part`), an ``.npz`` of plain arrays read without
pickle: float columns as float64 (every bit kept), integer columns as int64, text columns as
numbers into one table of the batch's distinct strings (a curve repeats long node and stratum
names on every row: a tenth of the size of JSON rows), anything else as JSON; the specifications'
row counts beside them. Reading a part back gives the rows that were written, value for value
and type for type (NumPy scalars as Python values), so resumed results equal an uninterrupted run
bit for bit.

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
from typing import Any

import numpy as np
import pandas as pd

from .conclusions import CATEGORIES, holding

__all__ = ["CurveStore", "RobustnessAccumulator", "batch_size", "remove_parts"]

MANIFEST = "manifest.json"
#: layout of the part files (in the manifest: a store written in another layout is not resumed)
PART_FORMAT = 2


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


def encode_part(rows_per_spec: list[list[tuple]]) -> dict[str, np.ndarray]:
    """The arrays of one part file (see the module docstring; :func:`decode_part` inverts it)."""
    rows = list(itertools.chain.from_iterable(rows_per_spec))
    header: dict = {"format": PART_FORMAT, "kinds": [], "text": [], "json": {}, "rows": None}
    arrays = {"lengths": np.fromiter(map(len, rows_per_spec), dtype=np.int64, count=len(rows_per_spec))}
    if len(set(map(len, rows))) > 1:          # rows of different lengths: as JSON rows
        header["rows"] = rows
        cols: list = []
    else:
        cols = list(zip(*rows))
    text = []
    for j, col in enumerate(cols):
        kind = _kind(col)
        header["kinds"].append(kind)
        if kind == "f":
            arrays[f"c{j}"] = np.array(col, dtype=np.float64)
        elif kind == "i":
            arrays[f"c{j}"] = np.array(col, dtype=np.int64)
        elif kind == "s":
            text.append(j)
        else:
            header["json"][str(j)] = col
    if text:
        codes, uniques = pd.factorize(np.concatenate([np.array(cols[j], dtype=object) for j in text]))
        header["text"] = list(uniques)
        dtype = np.uint16 if len(uniques) <= 1 << 16 else np.int64
        for k, j in enumerate(text):
            arrays[f"c{j}"] = codes[k * len(rows):(k + 1) * len(rows)].astype(dtype)
    encoded = json.dumps(header, allow_nan=True, separators=(",", ":"), default=_scalar).encode("utf-8")
    arrays["header"] = np.frombuffer(encoded, dtype=np.uint8)
    return arrays


def _kind(col: tuple) -> str:
    """How a column is stored: "f" float64, "i" int64, "s" text, "j" JSON (anything else)."""
    types = set(map(type, col))
    if types == {float}:
        return "f"
    if types == {int} and all(-2**63 <= v < 2**63 for v in (min(col), max(col))):
        return "i"
    return "s" if types == {str} else "j"


def decode_part(arrays) -> list[list[tuple]]:
    """The rows per specification of a part (:func:`encode_part`)."""
    header = json.loads(arrays["header"].tobytes().decode("utf-8"))
    lengths = arrays["lengths"].tolist()
    if header["rows"] is not None:
        rows = [tuple(r) for r in header["rows"]]
    else:
        text = np.array(header["text"], dtype=object)
        cols = [arrays[f"c{j}"].tolist() if kind in "fi" else
                text[arrays[f"c{j}"]].tolist() if kind == "s" else header["json"][str(j)]
                for j, kind in enumerate(header["kinds"])]
        rows = list(zip(*cols)) if cols else [()] * sum(lengths)
    out, at = [], 0
    for n in lengths:
        out.append(rows[at:at + n])
        at += n
    return out


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
        manifest = {**manifest, "part_format": PART_FORMAT}
        old = folder / MANIFEST
        done: set[int] = set()
        if resume and old.exists() and json.loads(old.read_text("utf-8")) == manifest:
            done = {int(p.stem.split("-")[1]) for p in (folder / "parts").glob("part-*.npz")}
        else:
            shutil.rmtree(folder / "parts", ignore_errors=True)
        (folder / "parts").mkdir(parents=True, exist_ok=True)
        tmp = folder / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
        os.replace(tmp, old)
        return cls(folder, manifest, done)

    def path(self, number: int) -> Path:
        return self.parts / f"part-{number:06d}.npz"

    def write(self, number: int, rows_per_spec: list[list[tuple]]) -> None:
        """Store one finished batch (atomically: temporary file, then rename)."""
        path = self.path(number)
        tmp = path.with_suffix(".tmp")
        arrays: dict[str, Any] = encode_part(rows_per_spec)     # (savez's keywords are typed as its options)
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
        self.done.add(number)

    def read(self, number: int) -> list[list[tuple]]:
        with np.load(self.path(number), allow_pickle=False) as arrays:
            return decode_part(arrays)

    @staticmethod
    def as_read(rows_per_spec: list[list[tuple]]) -> list[list[tuple]]:
        """What :meth:`read` returns for a batch :meth:`write` stored (the same values and types:
        rows hold numbers, text and None, and every value round-trips exactly), without the disk.
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
