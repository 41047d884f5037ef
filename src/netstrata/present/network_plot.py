"""Network graph: treatments on a circle, node area by participants (or arms), edge width by
the number of studies, nodes coloured by an optional attribute (e.g. region).

The circular layout is computed with NumPy (no graph library): treatment ``i`` of ``n`` sits at
angle ``π/2 − 2πi/n`` (clockwise from the top), as netmeta's ``netgraph`` default.

References
----------
Salanti G, Ades AE, Ioannidis JPA. Graphical methods and numerical summaries for presenting
results from multiple-treatment meta-analysis. J Clin Epidemiol 2011;64:163-71.
doi:10.1016/j.jclinepi.2010.03.016
"""
from __future__ import annotations

from collections import Counter
from typing import Mapping

import numpy as np
import pandas as pd

from ._figure import PALETTE, WIDTH, Display, short
from ._format import check_frame

__all__ = ["NetworkGraphDisplay", "circular_layout", "edges_from_contrasts", "network_geometry"]

_NODE_COLOUR, _EDGE_COLOUR = "#1f4e79", "#8c8c8c"


def circular_layout(n: int) -> np.ndarray:
    """(n, 2) positions on the unit circle, clockwise from the top (one node: the centre)."""
    if n == 1:
        return np.zeros((1, 2))
    angle = np.pi / 2 - 2 * np.pi * np.arange(n) / n
    return np.column_stack([np.cos(angle), np.sin(angle)])


def edges_from_contrasts(contrasts: pd.DataFrame) -> pd.DataFrame:
    """Number of studies per unordered treatment pair from rows ``study, treat1, treat2``."""
    check_frame(contrasts, ("study", "treat1", "treat2"), name="contrasts", caller="edges_from_contrasts")
    pairs = {(s, *sorted((str(a), str(b)))) for s, a, b in
             zip(contrasts["study"], contrasts["treat1"], contrasts["treat2"])}
    count = Counter((a, b) for _, a, b in pairs)
    rows = [{"treat1": a, "treat2": b, "k": k} for (a, b), k in sorted(count.items())]
    return pd.DataFrame(rows, columns=["treat1", "treat2", "k"])


class NetworkGraphDisplay(Display):
    """The geometry of a treatment network.

    Parameters
    ----------
    nodes : DataFrame
        Columns ``treatment`` and ``size`` (participants or arms), optionally ``group`` (a
        category used for the node colour, e.g. region). Row order = order on the circle.
    edges : DataFrame
        Columns ``treat1``, ``treat2``, ``k`` (number of studies comparing them directly).
    size_label : str, default="participants"
        What ``size`` counts (shown in the caption).
    group_label : str, default=""
        Name of the colouring attribute (legend title).
    title : str

    Examples
    --------
    >>> import pandas as pd
    >>> from netstrata.present import NetworkGraphDisplay
    >>> con = pd.DataFrame({"study": ["s1", "s2", "s3"], "treat1": ["A", "A", "B"], "treat2": ["B", "C", "C"]})
    >>> g = NetworkGraphDisplay.from_contrasts(con, groups={"A": "drug", "B": "drug", "C": "sham"})
    >>> g.edges.to_dict("list")
    {'treat1': ['A', 'A', 'B'], 'treat2': ['B', 'C', 'C'], 'k': [1, 1, 1]}
    >>> list(g.nodes["size"]), g.size_label
    ([2.0, 2.0, 2.0], 'arms')
    """

    def __init__(self, nodes: pd.DataFrame, edges: pd.DataFrame, *, size_label: str = "participants",
                 group_label: str = "", title: str = ""):
        super().__init__()
        self.nodes = check_frame(nodes, ("treatment", "size"), name="nodes",
                                 caller="NetworkGraphDisplay").reset_index(drop=True).copy()
        self.edges = check_frame(edges, ("treat1", "treat2", "k"), name="edges",
                                 caller="NetworkGraphDisplay").reset_index(drop=True).copy()
        self.nodes["treatment"] = self.nodes["treatment"].astype(str)
        known = set(self.nodes["treatment"])
        unknown = sorted({str(t) for t in pd.concat([self.edges["treat1"], self.edges["treat2"]])} - known)
        if unknown:
            from ..errors import ParameterError
            raise ParameterError(f"NetworkGraphDisplay: edges name treatments missing from 'nodes': {unknown}.")
        self.size_label, self.group_label, self.title = str(size_label), str(group_label), str(title)

    @classmethod
    def from_contrasts(cls, contrasts: pd.DataFrame, *, participants: Mapping[str, float] | None = None,
                       groups: Mapping[str, str] | None = None, treatments=None, group_label: str = "",
                       title: str = "") -> "NetworkGraphDisplay":
        """From study comparisons (``study, treat1, treat2``): node size = participants when
        given (treatment -> total n), else the number of arms (studies including it)."""
        edges = edges_from_contrasts(contrasts)
        arms = {(str(s), str(t)) for c in ("treat1", "treat2") for s, t in zip(contrasts["study"], contrasts[c])}
        n_arms = Counter(t for _, t in arms)
        trts = [str(t) for t in treatments] if treatments is not None else sorted(n_arms)
        if participants is not None:
            size, label = [float(participants.get(t, np.nan)) for t in trts], "participants"
        else:
            size, label = [float(n_arms.get(t, 0)) for t in trts], "arms"
        nodes = pd.DataFrame({"treatment": trts, "size": size})
        if groups is not None:
            nodes["group"] = [str(groups.get(t, "")) for t in trts]
        return cls(nodes, edges, size_label=label, group_label=group_label, title=title)

    @classmethod
    def from_result(cls, fit, **kwargs) -> "NetworkGraphDisplay":
        """From a :class:`netstrata.nma.NetworkResult` (its comparison rows and treatments).

        A disconnected network without ``groups`` has its nodes coloured by sub-network."""
        if kwargs.get("groups") is None and not fit.is_connected:
            kwargs["groups"] = {t: f"sub-network {i + 1}" for i, comp in enumerate(fit.components) for t in comp}
            kwargs.setdefault("group_label", "Sub-network")
        return cls.from_contrasts(fit.rows, treatments=fit.treatments, **kwargs)

    # ----------------------------------------------------------------- drawing
    def _size(self) -> tuple[float, float]:
        return (WIDTH, 4.2 if len(self.nodes) <= 4 else 5.6)

    def _margins(self) -> dict:
        return {"left": 0.02, "right": 0.98, "top": 0.92, "bottom": 0.08}

    def _colours(self) -> tuple[list[str], dict[str, str]]:
        if "group" not in self.nodes.columns:
            return [_NODE_COLOUR] * len(self.nodes), {}
        levels = sorted({str(g) for g in self.nodes["group"]})
        lookup = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(levels)}
        return [lookup[str(g)] for g in self.nodes["group"]], lookup

    def _draw(self, fig, ax) -> None:
        from matplotlib.lines import Line2D

        names = list(self.nodes["treatment"])
        pos = circular_layout(len(names))
        where = {t: i for i, t in enumerate(names)}
        kmax = max(float(self.edges["k"].max()), 1.0) if len(self.edges) else 1.0
        for a, b, k in zip(self.edges["treat1"], self.edges["treat2"], self.edges["k"]):
            (x1, y1), (x2, y2) = pos[where[str(a)]], pos[where[str(b)]]
            ax.plot([x1, x2], [y1, y2], color=_EDGE_COLOUR, lw=1.0 + 7.0 * float(k) / kmax,
                    solid_capstyle="round", zorder=1)
            ax.text((x1 + x2) / 2, (y1 + y2) / 2, str(int(k)), ha="center", va="center", fontsize=8,
                    zorder=4, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
        size = self.nodes["size"].to_numpy(float)
        smax = np.nanmax(size) if np.any(np.isfinite(size) & (size > 0)) else 1.0
        area = 120.0 + 1400.0 * np.nan_to_num(size, nan=0.0) / smax
        colours, lookup = self._colours()
        ax.scatter(pos[:, 0], pos[:, 1], s=area, c=colours, zorder=3, edgecolors="white", linewidths=1.0)
        for (x, y), name, s, a in zip(pos, names, size, area):
            offset = np.sqrt(a) / 2 + 5.0          # marker radius in points, plus a gap
            ux, uy = (x, y) if len(names) > 1 else (0.0, -1.0)
            ha = "center" if abs(ux) < 0.3 else ("left" if ux > 0 else "right")
            va = "center" if abs(uy) >= 0.3 and ha != "center" else ("bottom" if uy > 0 else "top")
            if ha != "center":
                va = "center"
            text = short(name, 28) + ("" if not np.isfinite(s) else f" ({s:g})")
            ax.annotate(text, xy=(x, y), xytext=(ux * offset, uy * offset), textcoords="offset points",
                        ha=ha, va=va, fontsize=8.5, zorder=5)
        ax.set_xlim(-1.9, 1.9)
        ax.set_ylim(-1.35, 1.35)
        ax.set_aspect("equal")
        ax.axis("off")
        caption = f"Node area: number of {self.size_label}; edge width and label: number of studies."
        ax.text(0.5, -0.02, caption, transform=ax.transAxes, ha="center", va="top", fontsize=8, color="#555555")
        if lookup:
            handles = [Line2D([], [], marker="o", ls="", color=c, ms=8, label=short(g or "(none)", 30))
                       for g, c in lookup.items()]
            ax.legend(handles=handles, title=self.group_label or None, loc="upper left",
                      bbox_to_anchor=(0.0, 1.0), frameon=False, fontsize=8)
        if self.title:
            ax.set_title(short(self.title, 90), loc="left")


def network_geometry(contrasts: pd.DataFrame, treatments=None, participants: Mapping[str, float] | None = None):
    """Counts describing a network (PRISMA-NMA S4) from study comparisons ``study, treat1, treat2``.

    Returns a :class:`~netstrata.present.tables.Table`: treatments, studies, multi-arm studies,
    pairs of treatments compared directly (out of all possible pairs), participants when given,
    and the number of connected sub-networks. These are counts read off the data, not statistics.
    """
    from .tables import Table

    edges = edges_from_contrasts(contrasts)
    trts = sorted({str(t) for c in ("treat1", "treat2") for t in contrasts[c]}) if treatments is None \
        else [str(t) for t in treatments]
    arms = {(str(s), str(t)) for c in ("treat1", "treat2") for s, t in zip(contrasts["study"], contrasts[c])}
    per_study = Counter(s for s, _ in arms)
    n = len(trts)
    rows = {"Treatments": n, "Studies": len(per_study),
            "Multi-arm studies": sum(1 for v in per_study.values() if v > 2),
            "Pairs compared directly": f"{len(edges)} of {n * (n - 1) // 2}",
            "Sub-networks": _components(trts, edges)}
    if participants is not None:
        total = float(np.nansum([participants.get(t, np.nan) for t in trts]))
        rows["Participants"] = int(total) if total.is_integer() else total
    frame = pd.DataFrame({"value": list(rows.values())}, index=list(rows), dtype=object)
    return Table(frame.rename_axis("Network"), title="Network geometry", index=True)


def _components(treatments, edges: pd.DataFrame) -> int:
    """Connected components by union-find over the direct comparisons."""
    parent = {t: t for t in treatments}

    def root(t):
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for a, b in zip(edges["treat1"], edges["treat2"]):
        parent[root(str(a))] = root(str(b))
    return len({root(t) for t in treatments})
