"""Conversions: CI -> SE, median/IQR/range -> mean/SD (Wan 2014, Luo 2018), SD-that-looks-like-an-SE.

Expected numbers are derived by hand from the papers' formulas (stated in each test), or taken from
an independent implementation's documented output where one exists (metaBLUE's ``Wan.std``).
"""
from __future__ import annotations

import numpy as np
import pytest

from netstrata.effects import check_sd_vs_se, mean_sd_from_median, se_from_ci
from netstrata.effects.conversions import wan_eta, wan_xi
from netstrata.errors import ParameterError

Z975 = 1.959963984540054


# ---------------------------------------------------------------- CI -> SE

def test_se_from_ci_difference_measure():
    # MD 1.0 with 95% CI 1 -/+ 1.96 * 0.8 -> se 0.8 (Cochrane Handbook 6.5.2.2: width / 3.92)
    res = se_from_ci([1 - Z975 * 0.8], [1 + Z975 * 0.8], [1.0], measure="MD")
    assert res.table["se"].iat[0] == pytest.approx(0.8, rel=1e-12)
    assert res.table["effect"].iat[0] == 1.0 and res.findings == ()


def test_se_from_ci_ratio_measure_works_on_log_scale():
    # OR 2 with CI exp(log 2 -/+ 1.96 * 0.5): se of log OR = 0.5
    lo, hi = 2 * np.exp(-Z975 * 0.5), 2 * np.exp(Z975 * 0.5)
    res = se_from_ci([lo], [hi], [2.0], measure="OR")
    assert res.table["se"].iat[0] == pytest.approx(0.5, rel=1e-12)
    assert res.table["effect"].iat[0] == pytest.approx(np.log(2), rel=1e-12)
    assert res.findings == ()


def test_se_from_ci_other_level():
    # 90% CI: z = 1.6448536269514722
    res = se_from_ci([-1.6448536269514722], [1.6448536269514722], level=90)
    assert res.table["se"].iat[0] == pytest.approx(1.0, rel=1e-12)


def test_se_from_ci_reports_asymmetry_with_scale_hint():
    # OR 2.0 (1.0 to 3.0) is symmetric on the natural scale, not on the log scale
    res = se_from_ci([1.0], [3.0], [2.0], measure="OR", study=["Smith 2010"])
    assert len(res.findings) == 1
    f = res.findings[0]
    assert f.study == "Smith 2010" and "not symmetric" in f.message and "check the scale" in f.hint


def test_se_from_ci_asymmetry_on_natural_scale():
    res = se_from_ci([0.0, 0.0], [2.0, 2.0], [1.0, 1.6], measure="MD")
    assert [("position 1" in f.message) for f in res.findings] == [True]


def test_se_from_ci_refusals():
    with pytest.raises(ParameterError, match=r"'ci_low'.*> 0.*ratio.*position 0"):
        se_from_ci([-0.2], [0.5], measure="RR")
    with pytest.raises(ParameterError, match=r"below ci_low"):
        se_from_ci([2.0], [1.0])


# ---------------------------------------------------------------- median -> mean/SD

def test_wan_s1_sd_formula_matches_metablue_example():
    # metaBLUE::Wan.std(c(1, 4, 10), n = 30, "S1") documents 2.205578 = (10 - 1) / xi(30),
    # xi(n) = 2 Phi^-1((n - 0.375) / (n + 0.25)) (Wan 2014, eq. 7/9 approximation)
    res = mean_sd_from_median([30], [4], minimum=[1], maximum=[10], small_n_table=False)
    assert res["sd"].iat[0] == pytest.approx(2.205578, abs=5e-7)
    assert res["scenario"].iat[0] == "S1"


def test_wan_s1_sd_uses_table_for_small_n():
    # Wan 2014 Table 1: xi(30) = 4.086
    res = mean_sd_from_median([30], [4], minimum=[1], maximum=[10])
    assert res["sd"].iat[0] == pytest.approx(9 / 4.086, rel=1e-12)


def test_luo_s1_mean():
    # Luo 2018, S1: w = 4 / (4 + n^0.75); mean = w (a + b)/2 + (1 - w) m; n = 30, a = 1, m = 4, b = 10
    res = mean_sd_from_median([30], [4], minimum=[1], maximum=[10])
    assert res["mean"].iat[0] == pytest.approx(4.356747670083601, rel=1e-12)


def test_wan_s1_mean():
    # Wan 2014 eq. (2): (a + 2m + b)/4 + (a - 2m + b)/(4n) = 19/4 + 3/120 = 4.775
    res = mean_sd_from_median([30], [4], minimum=[1], maximum=[10], method="wan")
    assert res["mean"].iat[0] == pytest.approx(4.775, rel=1e-12)


def test_s2_mean_and_sd():
    # Luo 2018, S2: w = 0.7 + 0.39/n -> n = 40: 0.70975 * 5 + 0.29025 * 4 = 4.70975
    # Wan 2014 eq. (14): (2 + 4 + 8)/3; SD eq. (15)/(16): IQR / eta(40), Table 2 at Q = ceil(39/4) = 10 -> 1.303
    luo = mean_sd_from_median([40], [4], q1=[2], q3=[8])
    wan = mean_sd_from_median([40], [4], q1=[2], q3=[8], method="wan")
    assert luo["mean"].iat[0] == pytest.approx(4.70975, rel=1e-12)
    assert wan["mean"].iat[0] == pytest.approx(14 / 3, rel=1e-12)
    assert luo["sd"].iat[0] == pytest.approx(6 / 1.303, rel=1e-12) and luo["scenario"].iat[0] == "S2"


def test_s2_sd_large_n_uses_formula():
    # n = 300 > 201: eta = 2 Phi^-1((0.75 * 300 - 0.125) / 300.25) = 2 * 0.6735... ; IQR 6
    from scipy.stats import norm
    res = mean_sd_from_median([300], [4], q1=[2], q3=[8])
    assert res["sd"].iat[0] == pytest.approx(6 / (2 * norm.ppf(224.875 / 300.25)), rel=1e-12)


def test_s3_mean_and_sd():
    # Luo 2018 eq. (15), n = 60, (a, q1, m, q3, b) = (0, 3, 5, 9, 20): 6.087252941094274
    # Wan 2014 eq. (10): (0 + 6 + 10 + 18 + 20)/8 = 6.75; SD eqs. (12)/(13): (20/xi(60) + 6/eta(60))/2,
    # xi(60) = 2 Phi^-1(59.625/60.25) (n > 50), eta(60) from Table 2 at Q = 15 -> 1.318
    from scipy.stats import norm
    luo = mean_sd_from_median([60], [5], minimum=[0], q1=[3], q3=[9], maximum=[20])
    wan = mean_sd_from_median([60], [5], minimum=[0], q1=[3], q3=[9], maximum=[20], method="wan")
    assert luo["mean"].iat[0] == pytest.approx(6.087252941094274, rel=1e-12)
    assert wan["mean"].iat[0] == pytest.approx(6.75, rel=1e-12)
    xi = 2 * norm.ppf(59.625 / 60.25)
    assert luo["sd"].iat[0] == pytest.approx(0.5 * (20 / xi + 6 / 1.318), rel=1e-12)
    assert luo["scenario"].iat[0] == "S3"


def test_tables_join_the_formula_smoothly():
    # Wan's tables end where the approximation is close (xi: 4.498 vs 4.487 at n = 50)
    assert wan_xi([50])[0] == 4.498 and wan_xi([51])[0] == wan_xi([51], table=False)[0]
    assert wan_xi([50], table=False)[0] == pytest.approx(4.498, abs=0.015)
    assert wan_eta([201])[0] == pytest.approx(wan_eta([201], table=False)[0], abs=2e-3)


def test_normal_sample_is_recovered():
    """For a large normal sample the estimates lie close to the sample mean and SD.

    The range of one sample is itself very variable (sample max/min), so range-based SDs get 15%;
    IQR-based SDs 5%; means 3%."""
    rng = np.random.default_rng(20260101)
    x = rng.normal(50, 10, size=2000)
    q = np.quantile(x, [0, 0.25, 0.5, 0.75, 1])
    for kw, tol in ((dict(minimum=[q[0]], maximum=[q[4]]), 0.15), (dict(q1=[q[1]], q3=[q[3]]), 0.05),
                    (dict(minimum=[q[0]], q1=[q[1]], q3=[q[3]], maximum=[q[4]]), 0.15)):
        est = mean_sd_from_median([2000], [q[2]], **kw)
        assert est["mean"].iat[0] == pytest.approx(x.mean(), rel=0.03)
        assert est["sd"].iat[0] == pytest.approx(x.std(ddof=1), rel=tol)


def test_median_conversion_refusals():
    with pytest.raises(ParameterError, match=r"q1=5.0 above median=4.0"):
        mean_sd_from_median([30], [4], q1=[5], q3=[8])
    with pytest.raises(ParameterError, match=r"needs minimum and maximum"):
        mean_sd_from_median([30], [4], minimum=[1])
    with pytest.raises(ParameterError, match=r"'n'.*>= 2"):
        mean_sd_from_median([1], [4], q1=[2], q3=[8])


# ---------------------------------------------------------------- SD vs SE

def test_sd_that_is_an_se_is_flagged_with_fix():
    # means 5 vs 3 with "SD" 0.3 / 0.35 and n = 50: |SMD| ~ 6; as SEs, sd = 0.3 * sqrt(50) = 2.121
    f = check_sd_vs_se([5.0], [0.3], [50], [3.0], [0.35], [50], study=["Lee 2012"])
    assert len(f) == 1 and f[0].study == "Lee 2012"
    assert "2.121" in f[0].hint and "sd = se * sqrt(n)" in f[0].hint


def test_one_arm_sd_smaller_by_sqrt_n_is_flagged():
    # sd 2.0 vs 0.28 with n = 50: ratio 7.1 ~ sqrt(50) = 7.07
    f = check_sd_vs_se([5.0], [2.0], [50], [4.5], [0.28], [50])
    assert any("sqrt(n)" in p.message for p in f)


def test_typical_sd_check():
    # VAS (cm): usual SD ~2.2; an SD of 0.5 is below 2.2 / 3, the arm-2 SD of 2.0 is not
    f = check_sd_vs_se([5.0], [0.5], [40], [4.5], [2.0], [40], typical_sd=2.2)
    usual = [p for p in f if "usual SD" in p.message]
    assert len(usual) == 1 and "arm 1" in usual[0].message and "3.162" in usual[0].hint


def test_plausible_sds_raise_nothing():
    assert check_sd_vs_se([5.0, 3.1], [2.1, 1.0], [50, 20], [4.0, 2.5], [2.3, 1.2], [50, 22]) == ()
