"""Rounding and number formatting (the only place netstrata rounds), measure scales from the
registry, table views with badges, and citations from the registries' DOIs."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from netstrata.effects.registry import MEASURES
from netstrata.present._format import MISSING, fmt_ci, fmt_estimate, fmt_num, fmt_p, format_frame, measure_scale
from netstrata.present.citations import FRAMEWORK_CITATIONS, normalise_doi, registry_citations
from netstrata.present.tables import Table, badge_class, table_view

MINUS = "\u2212"


@pytest.mark.parametrize("x,digits,want", [
    (1.005, 2, "1.00"), (-0.004, 2, "0.00"), (-1.25, 1, f"{MINUS}1.2"), (2, 2, "2"), (np.int64(7), 2, "7"),
    (np.nan, 2, MISSING), (None, 2, MISSING), (math.inf, 2, "\u221e"), (-math.inf, 2, f"{MINUS}\u221e"),
    (True, 2, "yes"), ("text", 2, "text"), (0.123456, 4, "0.1235")])
def test_fmt_num_values(x, digits, want):
    assert fmt_num(x, digits) == want


@pytest.mark.parametrize("p,want", [(0.0004, "<0.001"), (0.001, "0.001"), (0.04999, "0.050"), (1.0, "1.000"),
                                    (np.nan, MISSING)])
def test_fmt_p_values(p, want):
    assert fmt_p(p) == want


def test_fmt_ci_and_estimate():
    assert fmt_ci(-1.234, 0.5) == f"{MINUS}1.23 to 0.50"
    assert fmt_estimate(0.1, -0.2, 0.4) == f"0.10 ({MINUS}0.20 to 0.40)"
    assert fmt_estimate(0.1, np.nan, np.nan) == "0.10"


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(min_value=0, max_value=6))
def test_fmt_num_round_trips_to_rounding(x, digits):
    text = fmt_num(float(x), digits).replace(MINUS, "-")
    assert abs(float(text) - x) <= 0.5 * 10 ** -digits + 1e-9 * max(1.0, abs(x))
    assert not text.startswith("-0.") or float(text) != 0.0          # never prints "-0.00"


def test_format_frame_p_columns_and_digits():
    f = pd.DataFrame({"effect": [0.123456], "pvalue": [0.00001], "q_pvalue": [0.5], "k": [3]})
    out = format_frame(f, {"effect": 3})
    assert out.iloc[0].tolist() == ["0.123", "<0.001", "0.500", "3"]
    assert f["effect"].iat[0] == 0.123456                               # input untouched: full precision kept


@pytest.mark.parametrize("code", sorted(MEASURES))
def test_measure_scale_follows_registry(code):
    entry, scale = MEASURES[code], measure_scale(code)
    assert scale.label == entry.label
    assert scale.is_ratio == (entry.is_ratio and entry.two_group)
    x = np.array([-0.7, 0.0, 0.3])
    want = entry.back_transform(x) if scale.is_ratio else x
    assert_allclose(scale.natural(x), want, rtol=1e-15)
    assert scale.null == (1.0 if scale.is_ratio else 0.0)


def test_measure_scale_hazard_ratio_and_unknown():
    assert measure_scale("HR").is_ratio and measure_scale("hr").label == "Hazard ratio"
    assert not measure_scale("VAS").is_ratio and measure_scale(None).label == "Effect"


# ----------------------------------------------------------------------------- tables
def test_table_view_combines_ci_and_back_transforms_ratio():
    f = pd.DataFrame({"comparison": ["A:B"], "effect": [np.log(2.0)], "ci_low": [np.log(1.5)],
                      "ci_high": [np.log(3.0)], "pi_low": [np.log(0.9)], "pi_high": [np.log(4.0)]})
    v = table_view(Table(f, measure="OR"))
    assert v.header == ("Comparison", "Odds ratio (95% CI)", "Prediction interval")
    assert [c.text for c in v.rows[0]] == ["A:B", "2.00 (1.50 to 3.00)", "0.90 to 4.00"]
    raw = table_view(Table(f, combine_ci=False))
    assert raw.header[1:3] == ("Estimate", "CI lower") and raw.rows[0][1].text == "0.69"


def test_table_view_badges_by_column_kind():
    f = pd.DataFrame({"imprecision": ["major concerns"], "rating": ["Low"], "rob": ["low"], "note": ["low"]})
    cells = table_view(Table(f)).rows[0]
    assert [c.css for c in cells] == ["b-bad", "b-low", "b-good", ""]
    assert cells[1].text.endswith("Low") and "\u2295" in cells[1].text
    assert badge_class("rating", "very low") == "b-verylow" and badge_class(None, "High") == ""


def test_table_of_summary_and_results():
    import netstrata

    res = netstrata.pairwise([0.1, 0.3, -0.2], [0.04, 0.05, 0.06])
    t = Table.of(res)
    assert t.title.startswith("Pairwise meta-analysis") and t.index and t.notes
    assert Table.of(pd.DataFrame({"a": [1]})).frame.shape == (1, 1)
    with pytest.raises(netstrata.errors.ParameterError, match="cannot make a table"):
        Table.of(42)


def test_table_view_empty_frame():
    v = table_view(Table(pd.DataFrame(columns=["study", "effect"])))
    assert v.rows == () and v.header == ("Study", "Estimate")


# ----------------------------------------------------------------------------- citations
@pytest.mark.parametrize("raw", ["doi:10.1002/jrsm.1058", "https://doi.org/10.1002/jrsm.1058", " 10.1002/jrsm.1058 "])
def test_normalise_doi(raw):
    assert normalise_doi(raw) == "10.1002/jrsm.1058"


def test_registry_citations_from_registries():
    from netstrata.ma.estimators import METHODS
    from netstrata.nma.network import TAU2_METHODS

    cites = registry_citations(measures=("or", "MD"), tau2=("REML",), network_tau2=("DL",), frameworks=False)
    dois = [c.doi for c in cites]
    assert MEASURES["OR"].doi in dois and MEASURES["MD"].doi in dois
    assert normalise_doi(METHODS["REML"].reference) in dois
    assert normalise_doi(TAU2_METHODS["DL"][1]) in dois
    assert len(dois) == len(set(dois))
    assert all(not d.startswith("doi:") for d in dois)
    with_fw = registry_citations(measures=("OR",))
    assert {c.doi for c in FRAMEWORK_CITATIONS} <= {c.doi for c in with_fw}
    assert "10.7326/M14-2385" in {c.doi for c in with_fw}                  # PRISMA-NMA


def test_registry_citations_unknown_codes_ignored():
    assert registry_citations(measures=("nope",), frameworks=False) == ()


def test_table_view_whole_number_floats_print_as_counts():
    f = pd.DataFrame({"timepoint_weeks": [13.0, np.nan, 4.0], "mean_age": [52.1, 49.8, 50.0],
                      "effect": [1.0, 2.0, 3.0]})
    rows = table_view(Table(f)).rows
    assert [r[0].text for r in rows] == ["13", MISSING, "4"]
    assert [r[1].text for r in rows] == ["52.10", "49.80", "50.00"]
    assert rows[0][2].text == "1.00"                                    # effects keep their decimals
    assert table_view(Table(f, digits={"timepoint_weeks": 1})).rows[0][0].text == "13.0"


def test_table_view_default_index_not_shown():
    f = pd.DataFrame({"a": [1, 2]})
    assert table_view(Table(f, index=True)).header == ("A",)
    assert table_view(Table(f.set_axis(["x", "y"]), index=True)).header == ("", "A")


def test_methods_section_from_registries():
    from netstrata.effects.registry import MEASURES
    from netstrata.ma import METHODS
    from netstrata.present import methods_section

    m = methods_section(measure="OR", tau2="PM", network_tau2="REML", ci="hksj", mid="OR 0.8")
    text = m.paragraphs[0]
    assert "odds ratio (OR) and analysed on the log scale" in text
    assert METHODS["PM"].label in text and "Hartung-Knapp-Sidik-Jonkman confidence intervals" in text
    assert "(OR 0.8)" in text and "PRISMA" in text
    dois = {c.doi for c in m.citations}
    assert MEASURES["OR"].doi in dois and normalise_doi(METHODS["PM"].reference) in dois
    assert methods_section(measure="MD").paragraphs[0].startswith("Effects were expressed as mean difference (MD).")
