"""effect_sizes as an R user writes it (issue 15): metafor's argument names, ``data=`` with column
names, effects passed through, study labels; the measure travels with the frame.

The metafor-named calls are checked against the netstrata-named calls (identical, bit for bit)
and against metafor 3.8-1 itself on every ``escalc_*`` analysis of the R reference
(tests/data/reference/pairwise/*.json; each ``r_call`` is replayed with its own argument names).
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import netstrata
from netstrata import effect_sizes
from netstrata.errors import ParameterError
from tests.reference import datasets, load, num, table

from .test_effects_escalc import R_ARG

RTOL = 1e-10  # closed forms


def _escalc_cases():
    return [pytest.param(ds, name, id=f"{ds}-{name}") for ds in datasets("pairwise")
            for name in load("pairwise", ds)["analyses"] if name.startswith("escalc")]


def _replay(ds: str, name: str, *, metafor: bool):
    """The reference's escalc call, with metafor's names and data= (metafor=True) or with
    netstrata's names and arrays (metafor=False)."""
    a = load("pairwise", ds)["analyses"][name]
    dat = table("pairwise", ds)
    call = a["r_call"].split("escalc(", 1)[1]
    mapped = {k: v for k, v in re.findall(r"(\w+) = (\w+)", call) if k in R_ARG}
    s = a["settings"]
    opts = dict(add=s["add"] if "add = " in call else None, to=s["to"], drop00=s["drop00"], vtype=s["vtype"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if metafor:
            return effect_sizes(s["measure"], data=dat, **mapped, **opts), a, dat
        return effect_sizes(s["measure"], **{R_ARG[k]: dat[v] for k, v in mapped.items()}, **opts), a, dat


@pytest.mark.parametrize("ds,name", _escalc_cases())
def test_metafor_names_with_data_equal_netstrata_names_and_r(ds, name):
    ours, a, dat = _replay(ds, name, metafor=False)
    theirs, _, _ = _replay(ds, name, metafor=True)
    # metafor's escalc(..., data = dat) appends yi, vi to the data: so does effect_sizes(data=)
    assert list(theirs.columns) == [*dat.columns, "effect", "variance"]
    np.testing.assert_array_equal(theirs["effect"].to_numpy(), ours["effect"].to_numpy())
    np.testing.assert_array_equal(theirs["variance"].to_numpy(), ours["variance"].to_numpy())
    np.testing.assert_allclose(theirs["effect"].to_numpy(), num(a["result"]["yi"]), rtol=RTOL)
    np.testing.assert_allclose(theirs["variance"].to_numpy(), num(a["result"]["vi"]), rtol=RTOL)
    assert theirs.attrs["measure"] == ours.attrs["measure"] == a["settings"]["measure"]


def test_non_events_bi_di_mi_give_the_totals():
    """metafor: n1i = ai + bi, n2i = ci + di, ni = xi + mi."""
    by_n = effect_sizes("OR", events_1=[4, 6], n_1=[123, 306], events_2=[11, 29], n_2=[139, 303])
    by_b = effect_sizes("OR", ai=[4, 6], bi=[119, 300], ci=[11, 29], di=[128, 274])
    pd.testing.assert_frame_equal(by_n, by_b)
    both = effect_sizes("OR", ai=[4, 6], bi=[119, 300], n1i=[123, 306], ci=[11, 29], di=[128, 274])
    pd.testing.assert_frame_equal(by_n, both)
    p1 = effect_sizes("PLO", events=[3, 0], n=[20, 15])
    p2 = effect_sizes("PLO", xi=[3, 0], mi=[17, 15])
    pd.testing.assert_frame_equal(p1, p2)


@pytest.mark.parametrize("measure,netstrata_names,metafor_names", [
    ("MD", dict(mean_1=[5.0, 6.1], sd_1=[1.2, 1.5], n_1=[20, 31], mean_2=[4.1, 5.5], sd_2=[1.1, 1.4], n_2=[22, 30]),
     dict(m1i=[5.0, 6.1], sd1i=[1.2, 1.5], n1i=[20, 31], m2i=[4.1, 5.5], sd2i=[1.1, 1.4], n2i=[22, 30])),
    ("ZCOR", dict(r=[0.3, -0.1], n=[40, 55]), dict(ri=[0.3, -0.1], ni=[40, 55])),
    ("IRR", dict(events_1=[7, 8], time_1=[1344, 1600], events_2=[11, 8], time_2=[1988, 1461]),
     dict(x1i=[7, 8], t1i=[1344, 1600], x2i=[11, 8], t2i=[1988, 1461])),
])
def test_metafor_names_equal_netstrata_names(measure, netstrata_names, metafor_names):
    pd.testing.assert_frame_equal(effect_sizes(measure, **netstrata_names), effect_sizes(measure, **metafor_names))


def test_mixed_names_and_columns_with_data():
    dat = pd.DataFrame({"author": ["A", "B"], "tpos": [4, 6], "tneg": [119, 300], "cpos": [11, 29],
                        "n_ctrl": [139, 303]})
    es = effect_sizes("RR", dat, ai="tpos", bi="tneg", events_2="cpos", n_2="n_ctrl", slab="author")
    ref = effect_sizes("RR", events_1=[4, 6], n_1=[123, 306], events_2=[11, 29], n_2=[139, 303])
    np.testing.assert_array_equal(es["effect"], ref["effect"])
    assert list(es["study"]) == ["A", "B"] and es.attrs["measure"] == "RR"
    only = effect_sizes("RR", dat, ai="tpos", bi="tneg", ci="cpos", n2i="n_ctrl", study="author", append=False)
    assert list(only.columns) == ["study", "effect", "variance"]


def test_effects_computed_elsewhere_pass_through():
    es = effect_sizes("RR", yi=[-0.5, 0.1], vi=[0.04, 0.09])
    np.testing.assert_array_equal(es["effect"], [-0.5, 0.1])
    assert es.attrs["measure"] == "RR"
    by_se = effect_sizes("RR", effect=[-0.5, 0.1], se=[0.2, 0.3])
    np.testing.assert_allclose(by_se["variance"], [0.04, 0.09], rtol=1e-15)


def test_measure_survives_pandas_operations():
    """attrs (not a subclass): kept by filtering, sorting, assign, merge and concat of same-measure frames."""
    es = effect_sizes("OR", events_1=[4, 6, 3], n_1=[123, 306, 50], events_2=[11, 29, 5], n_2=[139, 303, 50],
                      study=["a", "b", "c"])
    for frame in (es[es["effect"] < 0], es.sort_values("effect"), es.assign(w=1 / es["variance"]),
                  es.merge(es[["study"]], on="study"), pd.concat([es, es]), es.reset_index(drop=True)):
        assert frame.attrs["measure"] == "OR"


@pytest.mark.parametrize("kwargs,match", [
    (dict(ai="tpos", n1i=[1], ci=[1], n2i=[2]), r"'ai' .* column name needs data="),
    (dict(ai=[1], n1i=[5], events_1=[2], ci=[1], n2i=[2]), r"got 'events_1' twice: as 'events_1' and as 'ai'"),
    (dict(ai=[1], bi=[4], n1i=[9], ci=[1], n2i=[2]), r"'n1i' must equal 'ai' \+ 'bi'; position 0"),
    (dict(xi=[3], ti=[100]), r"metafor's 'ti' .* not supported"),
    (dict(ai=[1], n1i=[5], ci=[1], n2i=[2], aii=[3]), r"unexpected argument 'aii'.*Did you mean 'ai'"),
    (dict(bi=[4], n1i=[9], ci=[1], n2i=[2]), r"'bi' \(non-events\) needs 'ai'"),
    (dict(yi=[0.1], vi=[0.1], sei=[0.3]), r"exactly one of them"),
    (dict(yi=[0.1], vi=[0.1], ai=[1]), r"give one or the other"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        effect_sizes("OR", **kwargs)


def test_missing_column_is_named_with_the_columns_there():
    dat = pd.DataFrame({"tpos": [4], "tneg": [119], "cpos": [11], "cneg": [128]})
    with pytest.raises(ParameterError, match=r"names the column 'tpoz'.*Did you mean 'tpos'"):
        effect_sizes("OR", ai="tpoz", bi="tneg", ci="cpos", di="cneg", data=dat)
    with pytest.raises(ParameterError, match=r"'data' parameter of effect_sizes must be a pandas DataFrame"):
        effect_sizes("OR", [1, 2], ai="tpos")


def test_netstrata_keyword_call_unchanged():
    """The signature fixed by issue 1 (hidden R references call it) gives what it gave."""
    es = netstrata.effect_sizes("OR", events_1=[4], n_1=[123], events_2=[11], n_2=[139])
    assert list(es.columns) == ["effect", "variance"] and list(es.index) == [0]
    assert es["effect"].iat[0] == pytest.approx(np.log(4 * 128 / (119 * 11)), rel=1e-12)
