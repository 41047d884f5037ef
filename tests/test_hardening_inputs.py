"""Issue 19, inputs: nothing lost (every record analysed or in the register), no silent wrong numbers.

Each test is named after a finding of the hostile-but-fair probe.
"""
from __future__ import annotations

import os
import shutil
import warnings

import pandas as pd
import pytest
from click.testing import CliRunner

from netstrata.cli import main
from netstrata.data import load_review
from netstrata.errors import DataError
from netstrata.synthesis.pipeline import analyse_review
from netstrata.taxonomy.pack import PACKS_DIR, load_pack

from .test_data_support import copy_example, find_row, read_rows, set_cell, write_rows


def _analyse(project):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyse_review(load_review(project), multiverse=False, progress=False, optional_stages=False)


def _network_studies(result, outcome: str) -> set[str]:
    out = set()
    for s in (*result.strata, *result.lumped):
        if s.stratum.outcome == outcome:
            for lay in s.layers:
                out |= set(lay.studies)
                if lay.network is not None:
                    out |= set(lay.network.rows["study"])
    return out


def _register(result, reason: str):
    return [e for e in result.register.rows if e.reason_code == reason]


# ----------------------------------------------------------------- zero-width CI, SE 0

def test_zero_width_ci_is_in_the_register_and_in_neither_the_stratum_nor_the_lumped_network(tmp_path):
    p = copy_example(tmp_path)
    row = find_row(p, "contrasts", study="Juch 2017 MINT facet")
    for col in ("ci_low", "ci_high"):
        set_cell(p, "contrasts", row, col, "-0.18")
    res = _analyse(p)
    assert "Juch 2017 MINT facet" not in _network_studies(res, "pain")      # stratum and lumped alike
    (hit,) = [e for e in _register(res, "implausible_value") if e.study == "Juch 2017 MINT facet"]
    assert hit.file == "contrasts.csv" and hit.row == row and "zero width" in hit.message
    rc = res.record_counts
    assert rc["unaccounted"] == 0 and rc["records"] == rc["analysed"] + rc["excluded"]
    assert rc["analysed"] == 14                      # 15 in the example: the one record moved, none lost


def test_ratio_contrast_with_a_non_positive_limit_is_registered_not_a_traceback(tmp_path):
    p = copy_example(tmp_path)
    rows = read_rows(p / "contrasts.csv")
    head = rows[0]
    new = dict(zip(head, rows[4]))                       # Shanthanna 2014: no arm-level success data
    new.update(outcome="success", measure="RR", effect="1.2", ci_low="0", ci_high="2.5")
    write_rows(p / "contrasts.csv", rows + [[new[h] for h in head]])
    res = _analyse(p)
    hits = [e for e in _register(res, "implausible_value") if e.outcome == "success"]
    assert hits and "must be > 0" in hits[0].message
    assert res.record_counts["unaccounted"] == 0


@pytest.mark.parametrize("se", ["1e-300", "1e200"])
def test_implausible_reported_se_is_registered(tmp_path, se):
    p = copy_example(tmp_path)
    rows = read_rows(p / "contrasts.csv")
    rows = [r + [c] for r, c in zip(rows, ["se"] + [""] * (len(rows) - 1))]
    rows[1][-1] = se
    write_rows(p / "contrasts.csv", rows)
    res = _analyse(p)
    (hit,) = _register(res, "implausible_value")
    assert hit.study == "Juch 2017 MINT facet" and "SE" in hit.message
    assert "Juch 2017 MINT facet" not in _network_studies(res, "pain")


# ----------------------------------------------------------------- impossible sizes, tiny SDs

def test_arm_size_1e30_is_in_the_register_and_flagged_by_plausibility(tmp_path):
    p = copy_example(tmp_path)
    set_cell(p, "arms", find_row(p, "arms", study="Lord 1996", arm="rf"), "n", "1e30")
    set_cell(p, "outcomes", find_row(p, "outcomes", study="Lord 1996", arm="rf"), "n", "1e30")
    review = load_review(p)
    hits = [e for e in review.register.rows if e.reason_code == "implausible_value"]
    assert [(e.study, e.arm) for e in hits] == [("Lord 1996", "rf")] and "10,000,000" in hits[0].message
    from netstrata.appraisal import check_plausibility
    f = check_plausibility(review.outcomes, review.arms).findings
    assert set(f.loc[f["rule"] == "P12", "study"]) == {"Lord 1996"}
    res = _analyse(p)
    assert "Lord 1996" not in _network_studies(res, "success")
    assert res.record_counts["unaccounted"] == 0


def test_sd_1e_minus_300_is_in_the_register_and_flagged_by_plausibility(tmp_path):
    from netstrata.data import example_path
    p = tmp_path / "sim"
    shutil.copytree(example_path("simulated-spine"), p)
    row = find_row(p, "outcomes", study="Sim 0001", arm="sham", outcome="pain")
    set_cell(p, "outcomes", row, "sd", "1e-300")
    review = load_review(p)
    (hit,) = [e for e in review.register.rows if e.reason_code == "implausible_value"]
    assert hit.row == row and "SD 1e-300" in hit.message
    from netstrata.appraisal import check_plausibility
    f = check_plausibility(review.outcomes).findings
    assert list(f.loc[f["rule"] == "P12", "column"]) == ["sd"]
    res = _analyse(p)
    assert "Sim 0001" not in _network_studies(res, "pain")
    assert res.record_counts["unaccounted"] == 0


def test_plausibility_bounds_leave_ordinary_values_alone():
    from netstrata.data.bounds import bound_problems
    assert bound_problems({"n": 120, "mean": 5.1, "sd": 2.2}) == []
    assert bound_problems({"effect": -0.18, "ci_low": -0.76, "ci_high": 0.40}) == []
    assert bound_problems({"effect": 0.0, "se": 0.3, "mean": float("nan")}) == []
    assert [c for c, _, _ in bound_problems({"n": 2e7, "sd": 1e-200, "mean": 0.0})] == ["n", "sd"]


# ----------------------------------------------------------------- .xlsx formula cells

def _workbook(tmp_path, formula: str, cached=None):
    """The example as a workbook whose outcomes!E2 (Lord 1996 rf events) is a formula."""
    import openpyxl
    from netstrata.data import example_path
    src = example_path("spine-landmark")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name in ("studies", "arms", "outcomes", "exclusions", "contrasts"):
        ws = wb.create_sheet(name)
        for r in read_rows(src / f"{name}.csv"):
            ws.append(r)
    wb["outcomes"]["E2"] = formula
    path = tmp_path / "review.xlsx"
    wb.save(path)
    shutil.copy(src / "netstrata.toml", tmp_path / "review.toml")
    if cached is not None:            # what Excel stores on saving: the formula and its value
        _add_cached_value(path, "outcomes", "E2", cached)
    return path


def _add_cached_value(path, sheet, ref, value):
    import re
    import zipfile
    with zipfile.ZipFile(path) as z:
        items = {n: z.read(n) for n in z.namelist()}
    wb_xml = items["xl/workbook.xml"].decode()
    names = re.findall(r'<sheet[^>]*name="([^"]+)"', wb_xml)
    part = f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"
    xml = items[part].decode()
    xml = re.sub(rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)(<v\s*/>|<v></v>)?', rf"\1\2<v>{value}</v>", xml)
    items[part] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, data in items.items():
            z.writestr(n, data)


def test_xlsx_formula_cell_without_cached_value_is_refused_naming_sheet_and_cell(tmp_path):
    path = _workbook(tmp_path, "=3+4")
    with pytest.raises(DataError) as err:
        load_review(path)
    msg = str(err.value)
    assert "review.xlsx[outcomes]" in msg and "cell E2" in msg and "'=3+4'" in msg and "row 2" in msg
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 1 and "cell E2" in res.output and "Traceback" not in res.output


def test_xlsx_formula_cell_with_cached_value_reads_the_value(tmp_path):
    path = _workbook(tmp_path, "=3+4", cached="7")
    review = load_review(path)
    o = review.outcomes
    assert o.loc[(o["study"] == "Lord 1996") & (o["arm"] == "rf"), "events"].tolist() == [7.0]


def test_compare_extractions_refuses_formula_cells_of_a_workbook(tmp_path):
    import openpyxl
    path = tmp_path / "a.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "outcomes"
    ws.append(["study", "arm", "outcome", "timepoint_weeks", "events", "n"])
    ws.append(["S1", "a", "o", "1", "=1+1", "10"])
    wb.save(path)
    res = CliRunner().invoke(main, ["compare-extractions", str(path), str(path)])
    assert res.exit_code == 2 and "cell E2" in res.output and "Traceback" not in res.output


# ----------------------------------------------------------------- decimal commas

def test_semicolon_file_with_decimal_commas_gives_no_false_disagreements(tmp_path):
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    head = ["study", "arm", "outcome", "timepoint_weeks", "n", "mean", "sd"]
    write_rows(a, [head, ["S1", "rf", "pain", "26,5", "40", "4,20", "1,9"],
                   ["S1", "sham", "pain", "26,5", "41", "5,1", "2,05"]], delimiter=";")
    write_rows(b, [head, ["S1", "rf", "pain", "26.5", "40", "4.2", "1.90"],
                   ["S1", "sham", "pain", "26.5", "41", "5.1", "2.05"]])
    res = CliRunner().invoke(main, ["compare-extractions", str(a), str(b)])
    assert res.exit_code == 0, res.output
    write_rows(b, [head, ["S1", "rf", "pain", "26.5", "40", "4.3", "1.90"],
                   ["S1", "sham", "pain", "26.5", "41", "5.1", "2.05"]])
    res = CliRunner().invoke(main, ["compare-extractions", str(a), str(b)])
    assert res.exit_code == 1 and "4,20" in res.output          # the real one, shown as typed


def test_decimal_comma_project_compares_like_the_loader_reads(tmp_path):
    p = copy_example(tmp_path)
    rows = read_rows(p / "outcomes.csv")
    rows = [[c.replace(".", ",") if c.replace(".", "", 1).isdigit() and "." in c else c for c in r] for r in rows]
    write_rows(p / "outcomes.csv", rows, delimiter=";")
    from netstrata.appraisal import compare_project
    got = compare_project(p).counts()
    assert got == compare_project(copy_example(tmp_path / "plain")).counts()


# ----------------------------------------------------------------- surprises

def test_pack_name_never_resolves_to_a_spine_folder_in_the_working_directory(tmp_path, monkeypatch):
    fake = tmp_path / "spine"
    shutil.copytree(PACKS_DIR / "spine", fake)
    (fake / "pack.toml").write_text((fake / "pack.toml").read_text().replace('name = "spine"', 'name = "evil"'))
    monkeypatch.chdir(tmp_path)
    assert load_pack("spine").path == str((PACKS_DIR / "spine").resolve())
    assert load_pack("./spine").name == "evil"                 # an explicit path is honoured
    with pytest.raises(DataError, match="write it as a path: './mine'"):
        shutil.copytree(fake, tmp_path / "mine")
        load_pack("mine")


def test_plan_pack_path_is_relative_to_the_project_not_the_working_directory(tmp_path, monkeypatch):
    p = copy_example(tmp_path)
    shutil.copytree(PACKS_DIR / "spine", p / "mypack")
    toml = p / "netstrata.toml"
    toml.write_text(toml.read_text().replace('pack = "spine"', 'pack = "mypack"'), encoding="utf-8")
    monkeypatch.chdir(p)                                      # even from inside the project ...
    with pytest.raises(DataError, match="domain pack not found"):
        load_review(p)                                        # ... a bare name is a bundled pack only
    toml.write_text(toml.read_text().replace('pack = "mypack"', 'pack = "./mypack"'), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_review(p).pack.path == str((p / "mypack").resolve())


def test_fingerprint_does_not_depend_on_column_order(tmp_path):
    p = copy_example(tmp_path)
    before = load_review(p).fingerprint
    for table in ("outcomes", "arms", "studies", "contrasts", "exclusions", "extraction-b", "studies-b",
                  "fidelity"):
        rows = read_rows(p / f"{table}.csv")
        write_rows(p / f"{table}.csv", [r[::-1] for r in rows])
    review = load_review(p)
    assert review.fingerprint == before
    assert "n" in set("|".join(review.outcomes["not_reported"].dropna()).split("|"))


def test_column_order_leaves_not_reported_lists_in_spec_order(tmp_path):
    p = copy_example(tmp_path)
    rows = read_rows(p / "outcomes.csv")
    write_rows(p / "outcomes.csv", [r[::-1] for r in rows])
    nr = load_review(p).outcomes["not_reported"].dropna()
    order = ["timepoint_weeks", "events", "n", "mean", "sd"]              # the outcomes table's spec order
    assert any("|" in v for v in nr)
    assert all(v.split("|") == sorted(v.split("|"), key=order.index) for v in nr)


def test_results_are_the_same_when_a_log_less_project_is_loaded_through_load_project(tmp_path):
    from netstrata.synthesis.adjudicated import load_project
    review, adj = load_project(copy_example(tmp_path))
    assert adj is None and review.amendments == ()
    assert review.fingerprint == load_review(copy_example(tmp_path / "b")).fingerprint
    assert os.path.basename(review.path) == "project"
    assert isinstance(review.outcomes, pd.DataFrame)
