"""The user-facing surface of issue 15: figures from results through the display registry (and
the layering that makes it necessary), what ``import netstrata`` exposes, the README's "Using it"
code, the project summary and the scale columns of the CSV tables, and the Mantel-Haenszel
incidence-rate identities (one study: the crude rate ratio / difference).
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import netstrata
from netstrata import _displays
from netstrata.errors import ParameterError, StatisticalWarning
from netstrata.ma import mantel_haenszel
from netstrata.present import ForestDisplay, LeagueTableDisplay, NetworkGraphDisplay

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "netstrata"
RTOL = 1e-10  # closed forms

CONTRASTS = pd.DataFrame({
    "study": ["A 2001", "B 2005", "C 2010", "D 2014", "E 2018"],
    "treat1": ["RFN_facet", "RFN_facet", "RFN_facet", "RF_IA", "RF_IA"],
    "treat2": ["sham", "sham", "RF_IA", "sham", "sham"],
    "effect": [0.69, 0.41, 0.12, 0.25, 0.55], "se": [0.35, 0.28, 0.15, 0.30, 0.40]})


# ---------------------------------------------------------------- figures from results

@pytest.fixture(scope="module")
def net():
    return netstrata.network(CONTRASTS, reference="sham", measure="RR")


def test_results_hand_out_the_present_displays(net, tmp_path):
    es = netstrata.effect_sizes("RR", ai=[4, 6, 3], n1i=[123, 306, 50], ci=[11, 29, 5], n2i=[139, 303, 52],
                                slab=["Aronson", "Ferguson", "Rosenthal"])
    res = netstrata.pairwise(es)
    shown = {"res.forest()": res.forest(), "net.forest()": net.forest(), "net.netgraph()": net.netgraph(),
             "net.league_table()": net.league_table(backtransf=True)}
    kinds = [ForestDisplay, ForestDisplay, NetworkGraphDisplay, LeagueTableDisplay]
    for (call, display), kind in zip(shown.items(), kinds):
        assert isinstance(display, kind), call
        svg = display._repr_svg_()
        assert svg.startswith("<svg") and svg == display._repr_svg_(), call      # deterministic
    assert list(shown["res.forest()"].rows["label"][:3]) == ["Aronson", "Ferguson", "Rosenthal"]
    assert shown["res.forest()"].scale.is_ratio and shown["net.forest()"].scale.is_ratio
    for suffix in ("svg", "png", "pdf"):
        path = shown["net.league_table()"].save(tmp_path / f"league.{suffix}")
        assert path.stat().st_size > 1000
    assert (tmp_path / "league.svg").read_text().startswith("<svg")
    assert (tmp_path / "league.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ParameterError, match="writes \\['pdf', 'png', 'svg'\\] files"):
        shown["net.forest()"].save(tmp_path / "forest.gif")


def test_display_registry_is_a_plugin_point(net):
    calls = []
    previous = _displays._FACTORIES["netgraph"]
    try:
        _displays.register_display("netgraph", lambda fit, **kw: calls.append((fit, kw)) or "mine")
        assert net.netgraph(title="x") == "mine" and calls == [(net, {"title": "x"})]
    finally:
        _displays.register_display("netgraph", previous)
    with pytest.raises(ParameterError, match="No display is registered under 'violin'"):
        _displays.make_display("violin", net)
    assert {"forest", "network_forest", "netgraph", "league_table"} <= set(_displays.registered_displays())


def _imports(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            names.add(".".join([*base, node.module or ""]).strip("."))
    return names


@pytest.mark.parametrize("layer", ["data", "taxonomy", "effects", "ma", "nma"])
def test_low_layers_never_import_present(layer):
    """Layers 0-3 reach the figures only through netstrata._displays (by name, at call time)."""
    for path in sorted((SRC / layer).glob("*.py")):
        bad = {m for m in _imports(path) if m.startswith("netstrata.present") or m.startswith("netstrata.cli")}
        assert not bad, f"{path.name} imports {bad}"
        assert not re.search(r"""import_module\(\s*["']netstrata\.present""", path.read_text(encoding="utf-8"))


def test_fitting_a_network_does_not_load_present():
    code = ("import sys, pandas as pd, netstrata\n"
            "con = pd.DataFrame({'study': ['a', 'b'], 'treat1': ['A', 'A'], 'treat2': ['B', 'C'],"
            " 'effect': [0.1, 0.2], 'se': [0.1, 0.2]})\n"
            "net = netstrata.network(con); net.summary(); net.netleague()\n"
            "print('netstrata.present' in sys.modules, 'matplotlib' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ---------------------------------------------------------------- import netstrata

def test_import_netstrata_exposes_the_layers_and_a_clean_namespace():
    code = ("import netstrata\n"
            "print(netstrata.ma.__name__, netstrata.nma.__name__, netstrata.effects.__name__)\n"
            "print(' '.join(dir(netstrata)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, names = out.stdout.splitlines()
    assert first == "netstrata.ma netstrata.nma netstrata.effects"
    names = names.split()
    assert "annotations" not in names and "import_module" not in names
    for name in netstrata.__all__:
        assert getattr(netstrata, name) is not None, name
    assert {"effect_sizes", "pairwise", "network", "mantel_haenszel", "ma", "nma", "present"} <= set(netstrata.__all__)


# ---------------------------------------------------------------- README

def _readme_using_it() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Using it")
    end = text.index("\n## ", start + 1)
    return re.findall(r"^```python\n(.*?)^```", text[start:end], re.S | re.M)


def test_readme_using_it_runs(tmp_path, monkeypatch):
    """Every python block of the README's 'Using it' section runs, in order, in one namespace, in a
    folder that has the bundled examples (as the repository root has); the figures it saves are there."""
    blocks = _readme_using_it()
    assert len(blocks) >= 3
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for code in blocks:
            exec(compile(code, "README.md", "exec"), namespace)
    assert isinstance(namespace["net"], netstrata.nma.NetworkResult) and namespace["net"].measure == "RR"
    assert namespace["res"].measure == "RR" and namespace["res"].study == ("Aronson 1948", "Ferguson 1949")
    for name in ("forest.svg", "network-forest.svg", "netgraph.png", "league.pdf"):
        assert (tmp_path / name).stat().st_size > 1000, name


def test_readme_documents_the_figures():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for call in ("res.forest()", "net.forest()", "net.netgraph()", "net.league_table(", "_repr_svg_", ".save("):
        assert call in text, call


# ---------------------------------------------------------------- project summary and CSV scale

@pytest.fixture(scope="module")
def project():
    from netstrata.synthesis import analyse_review
    from .test_data_support import EXAMPLE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyse_review(netstrata.load_review(EXAMPLE), multiverse=False, optional_stages=False)


def test_comparisons_table_says_its_scale(project):
    frame = project.to_frames()["comparisons"]
    cols = list(frame.columns)
    assert cols[cols.index("measure") + 1] == "scale"
    rr = frame[frame["measure"] == "RR"]
    assert len(rr) and set(rr["scale"]) == {"log risk ratio"}
    assert_allclose(rr["estimate_natural"], np.exp(rr["estimate"]), rtol=1e-15)
    assert_allclose(rr["ci_high_natural"], np.exp(rr["ci_high"]), rtol=1e-15)
    assert cols.index("estimate_natural") == cols.index("estimate") + 1


def test_project_summary(project):
    log, nat = project.summary(), project.summary(backtransf=True)
    a, b = log.to_frame(), nat.to_frame()
    assert len(a) == sum(len(s.primary.comparisons) for s in (*project.strata, *project.lumped) if s.primary)
    ratio = (a["measure"] == "RR").to_numpy()
    assert ratio.any()
    assert_allclose(b.loc[ratio, "estimate"], np.exp(a.loc[ratio, "estimate"]), rtol=1e-15)
    assert set(b.loc[ratio, "scale"]) == {"risk ratio"} and set(a.loc[ratio, "scale"]) == {"log risk ratio"}
    assert "strata" in log.as_text() and project.name in log.title


# ---------------------------------------------------------------- Mantel-Haenszel for rates

def test_mh_irr_of_one_study_is_the_crude_rate_ratio():
    """One study: R/S = (x1 t2/T)/(x2 t1/T) = (x1/t1)/(x2/t2); Var = (t1 t2/T²)(x1+x2)/(R S) = 1/x1 + 1/x2."""
    x1, t1, x2, t2 = 7.0, 1344.0, 11.0, 1988.0
    res = mantel_haenszel([x1], time_1=[t1], events_2=[x2], time_2=[t2], measure="IRR")
    assert_allclose(res.estimate, np.log((x1 / t1) / (x2 / t2)), rtol=RTOL)
    assert_allclose(res.se ** 2, 1 / x1 + 1 / x2, rtol=RTOL)
    assert res.q == 0 and res.k == 1


def test_mh_ird_of_one_study_is_the_crude_rate_difference():
    """One study: IRD = x1/t1 - x2/t2 with Var = x1/t1² + x2/t2² (the escalc IRD)."""
    x1, t1, x2, t2 = 7.0, 1344.0, 11.0, 1988.0
    res = mantel_haenszel([x1], time_1=[t1], events_2=[x2], time_2=[t2], measure="IRD")
    assert_allclose(res.estimate, x1 / t1 - x2 / t2, rtol=RTOL)
    assert_allclose(res.se ** 2, x1 / t1 ** 2 + x2 / t2 ** 2, rtol=RTOL)


def test_mh_rates_drop_double_zero_studies_by_name():
    """As metafor: drop00 = c(TRUE, FALSE): a study without events has no IRR (out of the Q test,
    named in the warning) but stays in the MH sums, where it adds nothing."""
    args = dict(time_1=[500, 1344, 1600], events_2=[0, 11, 8], time_2=[400, 1988, 1461], measure="IRR")
    with pytest.warns(StatisticalWarning, match="Empty"):
        res = mantel_haenszel([0, 7, 8], study=["Empty", "Bong", "Ciresi"], **args)
    assert res.k == 3 and res.k_yi == 2 and {s for s, _ in res.dropped} == {"Empty"}
    without = mantel_haenszel([7, 8], **{k: v[1:] if isinstance(v, list) else v for k, v in args.items()})
    assert_allclose([res.estimate, res.se], [without.estimate, without.se], rtol=RTOL)
    with pytest.warns(StatisticalWarning, match="Empty"):
        both = mantel_haenszel([0, 7, 8], drop00=(True, True), study=["Empty", "Bong", "Ciresi"], **args)
    assert both.k == 2


@pytest.mark.parametrize("kwargs,match", [
    (dict(events_1=[1], n_1=[10], events_2=[2], n_2=[10], measure="IRR"), "use person-time: pass time_1="),
    (dict(events_1=[1], time_1=[10.0], events_2=[2], measure="IRD"), "needs events_1, time_1, events_2 and time_2"),
    (dict(events_1=[1], n_1=[10], events_2=[2], n_2=[10], time_1=[3.0]), "go with measure 'IRR' or 'IRD'"),
    (dict(events_1=[1], time_1=[0.0], events_2=[2], time_2=[5.0], measure="IRR"), "'time_1' parameter .* positive"),
])
def test_mh_rate_arguments_are_checked(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        mantel_haenszel(**kwargs)
