"""Design-level network model (Krahn, Binder & König 2013; netmeta nma.krahn.R).

Study comparisons are first pooled within designs (a design is the set of treatments of a study);
the network model is then fitted to the design-level direct estimates.  This is the basis of the
design-by-treatment decomposition of Q (``decomp.py``) and of netmeasures (``measures.py``).

Orientation: every design row is a comparison a:b with a < b, effect a versus b (netmeta TE);
multi-arm designs enter with the basic comparisons of their first treatment with each other one.

References
----------
Krahn U, Binder H, König J (2013). A graphical tool for locating inconsistency in network
meta-analyses. BMC Med Res Methodol 13:35. doi:10.1186/1471-2288-13-35
König J, Krahn U, Binder H (2013). Visualizing the flow of evidence in network meta-analysis and
characterizing mixed treatment comparisons. Stat Med 32:5414-5429. doi:10.1002/sim.6001
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .prepare import collate_key

__all__ = ["DesignModel", "design_model", "block_diag", "block_inv", "pair_rows"]


def block_diag(blocks: list[np.ndarray]) -> np.ndarray:
    size = sum(b.shape[0] for b in blocks)
    out = np.zeros((size, size))
    i = 0
    for b in blocks:
        out[i:i + b.shape[0], i:i + b.shape[0]] = b
        i += b.shape[0]
    return out


def block_inv(blocks: list[np.ndarray]) -> np.ndarray:
    return block_diag([np.linalg.inv(b) for b in blocks])


def pair_rows(n: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i < j) in netmeta's order (1:2, 1:3, ..., 2:3, ...)."""
    return np.triu_indices(n, 1)


def contrast_matrix(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Rows e_a - e_b with the first treatment's column dropped (basic parameters)."""
    X = np.zeros((len(a), n))
    X[np.arange(len(a)), a] += 1.0
    X[np.arange(len(a)), b] -= 1.0
    return X[:, 1:]


@dataclass(frozen=True, slots=True)
class DesignModel:
    """Design-level data and fit; rows of the design level in netmeta's order."""

    names: tuple[str, ...]           # design name of each design row (repeated for multi-arm)
    comparisons: tuple[str, ...]     # comparison label a:b of each design row
    a: np.ndarray                    # design rows: treatment indices (a < b)
    b: np.ndarray
    te_dir: np.ndarray               # design-level direct estimates (a vs b)
    v_blocks: tuple[np.ndarray, ...]  # design-level covariance blocks (one per design)
    design_of_row: np.ndarray        # block index of each design row
    narms: np.ndarray                # arms per design block
    # study level
    s_study: np.ndarray              # study code of each study-level row
    s_a: np.ndarray
    s_b: np.ndarray
    s_te: np.ndarray
    s_blocks: tuple[np.ndarray, ...]  # covariance block per study (order of study-level rows)
    s_design_row: np.ndarray         # design row each study-level row pools into
    n: int

    @property
    def X(self) -> np.ndarray:
        return contrast_matrix(self.a, self.b, self.n)

    @property
    def v_inv(self) -> np.ndarray:
        return block_inv(list(self.v_blocks))

    def fit(self) -> tuple[np.ndarray, np.ndarray]:
        """(C, theta): C = (Xᵀ V⁻¹ X)⁻¹ and basic parameters theta (treatment j vs first)."""
        X, Vi = self.X, self.v_inv
        C = np.linalg.inv(X.T @ Vi @ X)
        return C, C @ X.T @ Vi @ self.te_dir

    def hat(self) -> np.ndarray:
        """H (all pairs × design rows) mapping design-level direct estimates to network estimates."""
        X, Vi = self.X, self.v_inv
        i, j = pair_rows(self.n)
        return contrast_matrix(i, j, self.n) @ np.linalg.solve(X.T @ Vi @ X, X.T @ Vi)

    def hat_studies(self) -> np.ndarray:
        """H.studies (all pairs × study-level rows)."""
        Xs = contrast_matrix(self.s_a, self.s_b, self.n)
        Vi = block_inv(list(self.s_blocks))
        i, j = pair_rows(self.n)
        return contrast_matrix(i, j, self.n) @ np.linalg.solve(Xs.T @ Vi @ Xs, Xs.T @ Vi)


def _study_blocks(study, t1, t2, var, narms):
    """Study-level rows: two-arm rows as they are; multi-arm studies by their basic comparisons
    (first arm vs each other arm) with covariance (v_1i + v_1j - v_ij)/2 (netmeta nma.krahn)."""
    rows = []
    for s in range(len(narms)):
        r = np.flatnonzero(study == s)
        if narms[s] == 2:
            rows.append((s, t1[r], t2[r], r, np.array([[var[r[0]]]])))
            continue
        arms = np.unique(np.r_[t1[r], t2[r]])
        pv = {(int(a), int(b)): (idx, var[idx]) for idx, a, b in zip(r, t1[r], t2[r])}
        base = arms[0]
        others = arms[1:]
        idx = np.array([pv[(base, o)][0] for o in others])
        V = np.empty((len(others), len(others)))
        for p, o in enumerate(others):
            for q, o2 in enumerate(others):
                V[p, q] = var[idx[p]] if p == q else 0.5 * (
                    var[idx[p]] + var[idx[q]] - pv[(min(o, o2), max(o, o2))][1])
        rows.append((s, np.full(len(others), base), others, idx, V))
    return rows


def design_model(study, t1, t2, te, var, narms, labels) -> DesignModel:
    """Build the design-level model of one connected network (variances may include tau²)."""
    n = len(labels)
    st = _study_blocks(study, t1, t2, var, narms)
    two = [x for x in st if len(x[3]) == 1]
    multi = [x for x in st if len(x[3]) > 1]
    comp_label = lambda a, b: f"{labels[a]}:{labels[b]}"  # noqa: E731
    # two-arm designs: one per comparison with two-arm studies, sorted as R sorts the labels
    groups2: dict[tuple[int, int], list] = {}
    for x in two:
        groups2.setdefault((int(x[1][0]), int(x[2][0])), []).append(x)
    keys2 = sorted(groups2, key=lambda k: collate_key(comp_label(*k)))
    groupsm: dict[str, list] = {}
    for x in multi:
        arms = np.r_[x[1][0], x[2]]
        groupsm.setdefault(":".join(labels[i] for i in arms), []).append(x)
    keysm = sorted(groupsm, key=collate_key)
    names: list[str] = []
    comps: list[str] = []
    da: list[int] = []
    db: list[int] = []
    te_dir: list[float] = []
    vb: list[np.ndarray] = []
    narm_list: list[int] = []
    s_rows, s_design_row = [], []
    for key in keys2:
        xs = groups2[key]
        w = np.array([1.0 / x[4][0, 0] for x in xs])
        y = np.array([te[x[3][0]] for x in xs])
        row = len(da)
        names.append(comp_label(*key)); comps.append(comp_label(*key))
        da.append(key[0]); db.append(key[1])
        te_dir.append(np.sum(w * y) / np.sum(w)); vb.append(np.array([[1.0 / np.sum(w)]]))
        narm_list.append(2)
        s_rows += xs; s_design_row += [[row]] * len(xs)
    for mkey in keysm:
        xs = groupsm[mkey]
        inv = [np.linalg.inv(x[4]) for x in xs]
        Vagg = np.linalg.inv(sum(inv))
        yagg = Vagg @ sum(Vi @ te[x[3]] for Vi, x in zip(inv, xs))
        first = len(da)
        for p in range(len(yagg)):
            names.append(mkey); comps.append(comp_label(xs[0][1][p], xs[0][2][p]))
            da.append(int(xs[0][1][p])); db.append(int(xs[0][2][p]))
        te_dir.extend(yagg); vb.append(Vagg); narm_list.append(len(yagg) + 1)
        s_rows += xs; s_design_row += [list(range(first, first + len(yagg)))] * len(xs)
    design_of_row = np.concatenate([np.full(v.shape[0], i) for i, v in enumerate(vb)])
    return DesignModel(
        tuple(names), tuple(comps), np.array(da), np.array(db), np.array(te_dir), tuple(vb),
        design_of_row, np.array(narm_list),
        np.concatenate([np.full(len(x[3]), x[0]) for x in s_rows]),
        np.concatenate([x[1] for x in s_rows]), np.concatenate([x[2] for x in s_rows]),
        np.concatenate([te[x[3]] for x in s_rows]), tuple(x[4] for x in s_rows),
        np.concatenate(s_design_row), n)
