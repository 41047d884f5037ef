"""Issue 19: a hostile-but-fair probe of bad inputs, through files and the CLI and through the API.

Every case must end in one of two ways, never a traceback and never a silent wrong answer:

* a clear error: ``DataError``/``ParameterError`` (API) or a non-zero exit with a message (CLI);
* the bad record is left out of every analysis *and* named in the exclusion register, or flagged
  by the plausibility checks when it is not a record the analyses use (``arms.n``).

``PROBE_COUNT`` (asserted below) is the number of cases.
"""
from __future__ import annotations

import json
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import netstrata
from netstrata.cli import main
from netstrata.data import load_review
from netstrata.errors import DataError, ParameterError

from .test_data_support import copy_example, find_row, read_rows, set_cell, write_rows

# ----------------------------------------------------------------- project cells (table, row match, column, value)

LORD_RF = {"study": "Lord 1996", "arm": "rf"}
LORD_SUCCESS = {"study": "Lord 1996", "arm": "rf", "outcome": "success"}
JUCH = {"study": "Juch 2017 MINT facet"}
CELLS = [
    ("outcomes", LORD_SUCCESS, "events", v) for v in
    ("-1", "1.5", "abc", "13", "1e30", "inf", "-inf", "nan", "1e400", "0x10", "NR", "", "7/12", "7%", "seven",
     "--7", "1,5", "None", "null", "+", "∞")
] + [
    ("outcomes", LORD_SUCCESS, "n", v) for v in
    ("0", "-5", "1e30", "13", "abc", "NR", "", "12.5", "inf", "1e-300", "2e9")
] + [
    ("outcomes", LORD_SUCCESS, "timepoint_weeks", v) for v in ("-3", "abc", "NR", "", "1e30", "inf")
] + [
    ("outcomes", LORD_SUCCESS, "outcome", v) for v in ("succes", "", "SUCCESS")
] + [
    ("outcomes", LORD_SUCCESS, "arm", v) for v in ("rf2", "")
] + [
    ("outcomes", LORD_SUCCESS, col, "") for col in ("source", "location", "extractor")
] + [
    ("contrasts", JUCH, "effect", v) for v in ("abc", "", "inf", "nan", "-0.9", "1e300")
] + [
    ("contrasts", JUCH, "ci_low", v) for v in ("0.5", "-0.18", "NR", "", "abc", "-1e300", "-inf")
] + [
    ("contrasts", JUCH, "ci_high", v) for v in ("-0.5", "-0.18", "-0.1799999999", "NR", "1e300")
] + [
    ("contrasts", JUCH, "measure", v) for v in ("RR", "XYZ", "", "md")
] + [
    ("contrasts", JUCH, "arm1", v) for v in ("zz", "", "exercise")
] + [
    ("contrasts", JUCH, "timepoint_weeks", v) for v in ("-1", "abc")
] + [
    ("arms", LORD_RF, "n", v) for v in ("0", "-1", "abc", "1e30", "", "3.5")
] + [
    ("arms", LORD_RF, "family", v) for v in ("NOT_A_CODE", "rfn_facet", "RFN_FACET|XX")
] + [
    ("arms", LORD_RF, "region", v) for v in ("mars", "")
] + [
    ("arms", LORD_RF, "arm", v) for v in ("", "sham")
] + [
    ("studies", {"study": "Lord 1996"}, "design", v) for v in ("cohort", "", "rct")
] + [
    ("studies", {"study": "Lord 1996"}, "year", v) for v in ("1800", "abc", "2200", "1996.5")
] + [
    ("studies", {"study": "Lord 1996"}, "study", v) for v in ("", "van Kleef 1999")
] + [
    ("studies", {"study": "Lord 1996"}, "region", v) for v in ("mars",)
] + [
    ("exclusions", {"study": "Ghahreman 2010"}, "reason_code", v) for v in ("bogus", "")
] + [
    ("exclusions", {"study": "Ghahreman 2010"}, "message", "")
]


def _record_key(project: Path, table: str, match: dict):
    if table in ("outcomes", "contrasts"):
        return table, find_row(project, table, **match)
    return None


def _judge_project(project: Path, key, study: str) -> str:
    """'error', 'register' or 'flagged' (see the module docstring); fails on anything else."""
    res = CliRunner().invoke(main, ["validate", str(project)])
    assert not (res.exception and not isinstance(res.exception, SystemExit)), res.exception
    if res.exit_code != 0:
        assert res.exit_code == 1 and "problem" in res.output and "Traceback" not in res.output
        return "error"
    from netstrata.synthesis.records import prepare
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        review = load_review(project)
        prepared = prepare(review)
    registered = {(r.file.split(".")[0], r.row) for r in (*review.register.rows, *prepared.exclusions)
                  if r.file and r.row is not None}
    if key is not None and key not in prepared.analysed:
        assert key in registered, f"{key} neither analysed nor in the register"
        return "register"
    from netstrata.appraisal import check_plausibility
    findings = [check_plausibility(review.outcomes, review.arms).findings]
    if review.table("contrasts") is not None:
        findings.append(check_plausibility(review.table("contrasts")).findings)
    if any((f["study"] == study).any() for f in findings):      # an error or a warning naming the value
        return "flagged"
    return "accepted"


# Cells whose new value is valid (a clean value, or one netstrata normalises): accepted as data.
ACCEPTED = {("outcomes", "outcome", "SUCCESS"), ("contrasts", "measure", "md"), ("arms", "family", "rfn_facet"),
            ("studies", "design", "rct"), ("contrasts", "effect", "-0.9"), ("contrasts", "arm1", "exercise"),
            ("outcomes", "events", "NR"), ("contrasts", "ci_high", "NR"), ("contrasts", "ci_low", "NR"),
            ("outcomes", "events", "1,5"), ("arms", "arm", "sham"), ("studies", "study", "van Kleef 1999"),
            ("arms", "n", ""), ("arms", "region", "")}      # optional arm fields left empty


@pytest.mark.parametrize("table,match,column,value", CELLS,
                         ids=[f"{t}.{c}={v!r}" for t, _, c, v in CELLS])
def test_probe_project_cell(tmp_path, table, match, column, value):
    p = copy_example(tmp_path)
    key = _record_key(p, table, match)
    set_cell(p, table, find_row(p, table, **match), column, value)
    verdict = _judge_project(p, key, match["study"])
    if verdict == "accepted":          # only values that are valid data of the column
        assert (table, column, value) in ACCEPTED, (table, column, value)


# ----------------------------------------------------------------- whole files and the plan

def _write(p: Path, name: str, data: bytes | str):
    (p / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def _plan(p: Path, old: str, new: str):
    toml = p / "netstrata.toml"
    text = toml.read_text(encoding="utf-8")
    assert old in text, old
    toml.write_text(text.replace(old, new, 1), encoding="utf-8")


FILES = {
    "outcomes_latin1": lambda p: _write(p, "outcomes.csv", (p / "outcomes.csv").read_text().replace("ACP", "ÀCP")
                                        .encode("latin-1")),
    "outcomes_empty": lambda p: _write(p, "outcomes.csv", b""),
    "outcomes_binary": lambda p: _write(p, "outcomes.csv", bytes(range(256)) * 4),
    "outcomes_nul": lambda p: _write(p, "outcomes.csv", (p / "outcomes.csv").read_bytes() + b"\x00\x00"),
    "outcomes_header_only": lambda p: _write(p, "outcomes.csv", (p / "outcomes.csv").read_text().splitlines()[0]),
    "outcomes_extra_cell": lambda p: _write(p, "outcomes.csv", (p / "outcomes.csv").read_text()
                                            .replace("pain-free,\n", "pain-free,,surprise\n", 1)),
    "outcomes_duplicate_header": lambda p: write_rows(p / "outcomes.csv", [
        r + [r[4]] for r in read_rows(p / "outcomes.csv")]),
    "outcomes_missing_column": lambda p: write_rows(p / "outcomes.csv", [
        r[:4] + r[5:] for r in read_rows(p / "outcomes.csv")]),
    "outcomes_unbalanced_quote": lambda p: _write(p, "outcomes.csv", (p / "outcomes.csv").read_text() + '"x,1\n'),
    "outcomes_deleted": lambda p: (p / "outcomes.csv").unlink(),
    "outcomes_is_a_folder": lambda p: ((p / "outcomes.csv").unlink(), (p / "outcomes.csv").mkdir()),
    "studies_deleted": lambda p: (p / "studies.csv").unlink(),
    "arms_renamed": lambda p: (p / "arms.csv").rename(p / "Arms.csv"),
    "exclusions_misnamed": lambda p: (p / "exclusions.csv").rename(p / "exclusion.csv"),
    "duplicate_outcome_row": lambda p: write_rows(p / "outcomes.csv", read_rows(p / "outcomes.csv")
                                                  + [read_rows(p / "outcomes.csv")[1]]),
    "duplicate_study": lambda p: write_rows(p / "studies.csv", read_rows(p / "studies.csv")
                                            + [read_rows(p / "studies.csv")[1]]),
    "reserved_column": lambda p: write_rows(p / "outcomes.csv", [r + (["selected"] if i == 0 else ["1"])
                                                                 for i, r in enumerate(read_rows(p / "outcomes.csv"))]),
    "plan_bad_toml": lambda p: _write(p, "netstrata.toml", "[project\nname = 'x'"),
    "plan_missing": lambda p: (p / "netstrata.toml").unlink(),
    "plan_not_utf8": lambda p: _write(p, "netstrata.toml", b"\xff\xfe[project]"),
    "plan_measure": lambda p: _plan(p, 'measure = "RR"', 'measure = "XX"'),
    "plan_kind": lambda p: _plan(p, 'kind = "binary"', 'kind = "ordinal"'),
    "plan_time_window": lambda p: _plan(p, 'time_window = "closest to but not after 6 months"\ntolerance_weeks = 1\n'
                                           'time_window_by', 'time_window = "whenever"\ntolerance_weeks = 1\n'
                                                             'time_window_by'),
    "plan_tolerance": lambda p: _plan(p, "tolerance_weeks = 1", "tolerance_weeks = -4"),
    "plan_mid": lambda p: _plan(p, "mid = 1.25", 'mid = "big"'),
    "plan_pack_unknown": lambda p: _plan(p, 'pack = "spine"', 'pack = "spinal"'),
    "plan_pack_path_missing": lambda p: _plan(p, 'pack = "spine"', 'pack = "./no/such/pack"'),
    "plan_pack_injection": lambda p: _plan(p, 'pack = "spine"', 'pack = "../../../../etc"'),
    "plan_node_level": lambda p: _plan(p, 'level = "family"', 'level = "galaxy"'),
    "plan_strata_variable": lambda p: _plan(p, 'variables = ["region", "diagnosis"]', 'variables = ["planet"]'),
    "plan_unknown_key": lambda p: _plan(p, "[nodes]", "[nodes]\nlevle = 1"),
    "plan_sensitivity_key": lambda p: _plan(p, "[sensitivity]", "[sensitivity]\nwhim = [1, 2]"),
    "plan_sensitivity_value": lambda p: _plan(p, 'node_level = ["family", "technique", "wang2025"]',
                                              'node_level = ["family", "nonsense"]'),
    "plan_log_not_text": lambda p: _plan(p, "[nodes]", "[appraisal]\nadjudication_log = 5\n\n[nodes]"),
    "plan_log_missing": lambda p: _plan(p, "[nodes]", '[appraisal]\nadjudication_log = "nope.sqlite"\n\n[nodes]'),
    "log_is_text": lambda p: _write(p, "adjudication.sqlite", "not a database"),
    "log_truncated": lambda p: _write(p, "adjudication.sqlite", b"SQLite format 3\x00" + b"\x00" * 80),
    "log_broken": lambda p: _broken_log(p / "adjudication.sqlite"),
    "log_keyed_without_key": lambda p: _keyed_log(p / "adjudication.sqlite"),
    "known_trials_not_a_list": lambda p: _plan(p, "[[known_trials]]\nstudy = \"Lord 1996\"", "[known_trials]\nstudy = 3"),
}


def _broken_log(path: Path):
    from netstrata.appraisal import AdjudicationLog
    log = AdjudicationLog.create(path)
    log.record(table="outcomes", study="Lord 1996", column="events", value="7", who="a", why="b",
               arm="rf", outcome="success", timepoint="27")
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER no_update_decisions")
    con.execute("UPDATE decisions SET value = '8'")
    con.commit()
    con.close()


def _keyed_log(path: Path):
    from netstrata.appraisal import AdjudicationLog
    AdjudicationLog.create(path, key=b"k" * 32)


@pytest.mark.parametrize("name", sorted(FILES))
def test_probe_project_file(tmp_path, name):
    p = copy_example(tmp_path)
    FILES[name](p)
    res = CliRunner().invoke(main, ["run", str(p), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"])
    assert isinstance(res.exception, SystemExit) and res.exit_code == 1, (res.exit_code, res.output,
                                                                          res.exception)
    assert "Traceback" not in res.output and len(res.output.strip()) > 20
    assert not (tmp_path / "out" / "results.json").exists()


def _xlsx(tmp_path: Path, edit) -> Path:
    import openpyxl
    from netstrata.data import example_path
    src = example_path("spine-landmark")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name in ("studies", "arms", "outcomes", "exclusions"):
        ws = wb.create_sheet(name)
        for r in read_rows(src / f"{name}.csv"):
            ws.append(r)
    edit(wb)
    path = tmp_path / "review.xlsx"
    wb.save(path)
    (tmp_path / "review.toml").write_text((src / "netstrata.toml").read_text())
    return path


WORKBOOKS = {
    "formula_no_cache": lambda wb: wb["outcomes"].__setitem__("F2", "=6*2"),
    "array_formula": lambda wb: wb["outcomes"].__setitem__("E3", "=SUM(E4:E5)"),
    "missing_sheet": lambda wb: wb.remove(wb["arms"]),
    "renamed_sheet": lambda wb: setattr(wb["arms"], "title", "Arms"),
    "number_as_text_negative": lambda wb: wb["arms"].__setitem__("C2", "-12"),
    "date_in_numeric": lambda wb: wb["outcomes"].__setitem__("F2", __import__("datetime").date(2020, 1, 1)),
}


@pytest.mark.parametrize("name", sorted(WORKBOOKS))
def test_probe_workbook(tmp_path, name):
    path = _xlsx(tmp_path, WORKBOOKS[name])
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert isinstance(res.exception, SystemExit) and res.exit_code == 1
    assert "review.xlsx" in res.output and "Traceback" not in res.output


def test_probe_corrupt_workbook(tmp_path):
    bad = tmp_path / "review.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not a zip")
    (tmp_path / "review.toml").write_text("[project]\nname='x'\npack='spine'\n")
    for args in (["validate", str(bad)], ["compare-extractions", str(bad), str(bad)]):
        res = CliRunner().invoke(main, args)
        assert isinstance(res.exception, SystemExit) and res.exit_code in (1, 2)
        assert "cannot" in res.output and "Traceback" not in res.output


# ----------------------------------------------------------------- CLI commands

def _cli_cases(tmp: Path) -> dict[str, list[str]]:
    text = tmp / "text.txt"
    text.write_text("hello")
    empty = tmp / "empty.csv"
    empty.write_text("")
    binary = tmp / "bin.csv"
    binary.write_bytes(bytes(range(256)))
    dup = tmp / "dup.csv"
    write_rows(dup, [["study", "arm", "outcome", "timepoint_weeks", "n"], ["S", "a", "o", "1", "2"],
                     ["S", "a", "o", "1.0", "3"]])
    nokey = tmp / "nokey.csv"
    write_rows(nokey, [["name", "n"], ["S", "2"]])
    good = tmp / "good.csv"
    write_rows(good, [["study", "arm", "outcome", "timepoint_weeks", "n"], ["S", "a", "o", "1", "2"]])
    foreign = tmp / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    folder = tmp / "folder"
    folder.mkdir()
    log = tmp / "log.sqlite"
    from netstrata.appraisal import AdjudicationLog
    AdjudicationLog.create(log)
    base = ["--table", "outcomes", "--study", "S", "--column", "n", "--who", "a"]
    bad_json = tmp / "bad.json"
    bad_json.write_text('{"schema_version": 1, "name": "x", "strata": [{"layers": [{"layer": 1}]}]}')
    return {
        "compare_missing": ["compare-extractions", str(tmp / "no.csv"), str(good)],
        "compare_text_vs_csv": ["compare-extractions", str(text), str(good)],
        "compare_empty": ["compare-extractions", str(empty), str(good)],
        "compare_binary": ["compare-extractions", str(binary), str(good)],
        "compare_duplicate_key": ["compare-extractions", str(dup), str(good)],
        "compare_no_key_column": ["compare-extractions", str(nokey), str(good)],
        "compare_bad_table": ["compare-extractions", str(good), str(good), "--table", "bogus"],
        "compare_negative_atol": ["compare-extractions", str(good), str(good), "--atol", "-1"],
        "compare_nan_rtol": ["compare-extractions", str(good), str(good), "--rtol", "nan"],
        "compare_empty_folder": ["compare-extractions", str(folder)],
        "compare_one_csv": ["compare-extractions", str(good)],
        "compare_csv_into_folder": ["compare-extractions", str(good), str(dup), "--csv", str(folder)],
        "compare_csv_into_missing_dir": ["compare-extractions", str(good), str(dup), "--csv",
                                         str(tmp / "no" / "d.csv")],
        "verify_text": ["verify-log", str(text)],
        "verify_empty": ["verify-log", str(empty)],
        "verify_foreign": ["verify-log", str(foreign)],
        "verify_missing": ["verify-log", str(tmp / "none.db")],
        "verify_folder": ["verify-log", str(folder)],
        "verify_bad_expect_head": ["verify-log", str(log), "--expect-head", "xyz"],
        "verify_expect_head_text_file": ["verify-log", str(log), "--expect-head", str(text)],
        "verify_missing_key_file": ["verify-log", str(log), "--key-file", str(tmp / "no.key")],
        "verify_empty_key_file": ["verify-log", str(log), "--key-file", str(empty)],
        "verify_short_key_file": ["verify-log", str(log), "--key-file", str(text)],
        "adjudicate_no_log": ["adjudicate", str(tmp / "new.sqlite"), *base, "--value", "1", "--why", "x"],
        "adjudicate_row_maybe": ["adjudicate", str(log), *base[:-4], "--column", "*", "--who", "a", "--value",
                                 "maybe", "--why", "x"],
        "adjudicate_blank_why": ["adjudicate", str(log), *base, "--value", "1", "--why", "  "],
        "adjudicate_text_log": ["adjudicate", str(text), *base, "--value", "1", "--why", "x"],
        "adjudicate_create_over_text": ["adjudicate", str(text), *base, "--value", "1", "--why", "x", "--create"],
        "adjudicate_foreign": ["adjudicate", str(foreign), *base, "--value", "1", "--why", "x"],
        "report_bad_structure": ["report", str(bad_json)],
        "report_text_json": ["report", str(_copy(text, tmp / "text.json"))],
        "report_not_a_project": ["report", str(folder)],
        "run_missing_project": ["run", str(tmp / "nowhere")],
        "run_file_as_project": ["run", str(good)],
        "validate_missing": ["validate", str(tmp / "nowhere")],
        "validate_file": ["validate", str(good)],
    }


def _copy(src: Path, dest: Path) -> Path:
    dest.write_bytes(src.read_bytes())
    return dest


CLI_NAMES = [
    "compare_missing", "compare_text_vs_csv", "compare_empty", "compare_binary", "compare_duplicate_key",
    "compare_no_key_column", "compare_bad_table", "compare_negative_atol", "compare_nan_rtol",
    "compare_empty_folder", "compare_one_csv", "compare_csv_into_folder", "compare_csv_into_missing_dir",
    "verify_text", "verify_empty", "verify_foreign", "verify_missing", "verify_folder", "verify_bad_expect_head",
    "verify_expect_head_text_file", "verify_missing_key_file", "verify_empty_key_file", "verify_short_key_file",
    "adjudicate_no_log", "adjudicate_row_maybe", "adjudicate_blank_why", "adjudicate_text_log",
    "adjudicate_create_over_text", "adjudicate_foreign", "report_bad_structure", "report_text_json",
    "report_not_a_project", "run_missing_project", "run_file_as_project", "validate_missing", "validate_file"]


@pytest.mark.parametrize("name", CLI_NAMES)
def test_probe_cli(tmp_path, name):
    args = _cli_cases(tmp_path)[name]
    res = CliRunner().invoke(main, args)
    assert isinstance(res.exception, SystemExit), (name, res.exception)
    assert res.exit_code in (1, 2), (name, res.exit_code, res.output)
    assert "Traceback" not in res.output and len(res.output.strip()) > 10


# ----------------------------------------------------------------- the API

def _net(**change):
    frame = pd.DataFrame({"study": ["A", "B", "C"], "treat1": ["x", "x", "y"], "treat2": ["y", "z", "z"],
                          "effect": [0.1, 0.2, 0.3], "se": [0.1, 0.2, 0.15]})
    for k, v in change.items():
        frame[k] = v
    return frame


API = {
    "effect_sizes_unknown_measure": lambda: netstrata.effect_sizes("XX", events_1=[1], n_1=[2], events_2=[1], n_2=[2]),
    "effect_sizes_negative_events": lambda: netstrata.effect_sizes("OR", events_1=[-1], n_1=[10], events_2=[1], n_2=[10]),
    "effect_sizes_events_over_n": lambda: netstrata.effect_sizes("RR", events_1=[11], n_1=[10], events_2=[1], n_2=[10]),
    "effect_sizes_zero_n": lambda: netstrata.effect_sizes("RD", events_1=[0], n_1=[0], events_2=[1], n_2=[10]),
    "effect_sizes_text": lambda: netstrata.effect_sizes("OR", events_1=["a"], n_1=[10], events_2=[1], n_2=[10]),
    "effect_sizes_lengths": lambda: netstrata.effect_sizes("OR", events_1=[1, 2], n_1=[10], events_2=[1], n_2=[10]),
    "effect_sizes_inf": lambda: netstrata.effect_sizes("MD", mean_1=[np.inf], sd_1=[1], n_1=[10], mean_2=[1],
                                                       sd_2=[1], n_2=[10]),
    "effect_sizes_negative_sd": lambda: netstrata.effect_sizes("MD", mean_1=[1], sd_1=[-1], n_1=[10], mean_2=[1],
                                                               sd_2=[1], n_2=[10]),
    "effect_sizes_missing_args": lambda: netstrata.effect_sizes("MD", mean_1=[1]),
    "effect_sizes_nested": lambda: netstrata.effect_sizes("OR", events_1=[[1]], n_1=[10], events_2=[1], n_2=[10]),
    "pairwise_negative_variance": lambda: netstrata.pairwise([0.1, 0.2], [-0.1, 0.2]),
    "pairwise_zero_variance": lambda: netstrata.pairwise([0.1, 0.2], [0.0, 0.2]),
    "pairwise_nan": lambda: netstrata.pairwise([np.nan, 0.2], [0.1, 0.2]),
    "pairwise_inf_effect": lambda: netstrata.pairwise([np.inf, 0.2], [0.1, 0.2]),
    "pairwise_lengths": lambda: netstrata.pairwise([0.1, 0.2, 0.3], [0.1, 0.2]),
    "pairwise_empty": lambda: netstrata.pairwise([], []),
    "pairwise_method": lambda: netstrata.pairwise([0.1, 0.2], [0.1, 0.2], method="reml2"),
    "pairwise_ci": lambda: netstrata.pairwise([0.1, 0.2], [0.1, 0.2], ci="bootstrap"),
    "pairwise_strings": lambda: netstrata.pairwise(["a", "b"], [0.1, 0.2]),
    "pairwise_tiny_variance": lambda: netstrata.pairwise([0.1, 0.2], [1e-320, 0.2]),
    "pairwise_level_zero": lambda: netstrata.pairwise([0.1, 0.2], [0.1, 0.2], level=0),
    "pairwise_level_100": lambda: netstrata.pairwise([0.1, 0.2], [0.1, 0.2], level=100),
    "network_missing_column": lambda: netstrata.network(_net().drop(columns="se")),
    "network_self_comparison": lambda: netstrata.network(_net(treat2=["x", "z", "z"])),
    "network_reference": lambda: netstrata.network(_net(), reference="nope"),
    "network_method": lambda: netstrata.network(_net(), method="bayes"),
    "network_empty": lambda: netstrata.network(_net().iloc[0:0]),
    "network_not_a_frame": lambda: netstrata.network([[1, 2]]),
    "network_text_effect": lambda: netstrata.network(_net(effect=["a", "b", "c"])),
    "network_tau2_negative": lambda: netstrata.network(_net(), tau2=-1.0),
    "network_level": lambda: netstrata.network(_net(), level=0),
    "load_review_int": lambda: load_review(123),
    "load_review_missing": lambda: load_review("/no/such/project"),
    "load_review_none": lambda: load_review(None),
    "load_pack_missing": lambda: netstrata.taxonomy.pack.load_pack("/no/such/pack"),
    "load_pack_bare_unknown": lambda: netstrata.taxonomy.pack.load_pack("spine2"),
    "plausibility_not_a_frame": lambda: _appraisal().check_plausibility([1, 2]),
    "plausibility_bad_tolerance": lambda: _appraisal().check_plausibility(pd.DataFrame({"study": ["s"]}),
                                                                          n_tolerance=-1),
    "plausibility_bad_arms": lambda: _appraisal().check_plausibility(pd.DataFrame({"study": ["s"]}),
                                                                     pd.DataFrame({"x": [1]})),
    "compare_not_frames": lambda: _appraisal().compare_extractions([1], [2]),
    "compare_bad_table": lambda: _appraisal().compare_extractions(pd.DataFrame(), pd.DataFrame(), table="x"),
    "compare_negative_atol": lambda: _appraisal().compare_extractions(pd.DataFrame(), pd.DataFrame(), atol=-1),
    "compare_missing_key": lambda: _appraisal().compare_extractions(pd.DataFrame({"study": ["a"], "arm": ["x"]}),
                                                                    pd.DataFrame({"study": ["a"]}), table="arms"),
    "log_record_blank": lambda: _log().record(table="outcomes", study=" ", column="n", value="1", who="a", why="b"),
    "log_record_not_text": lambda: _log().record(table="outcomes", study=5, column="n", value="1", who="a", why="b"),
    "log_record_row_value": lambda: _log().record(table="outcomes", study="s", column="*", value="x", who="a",
                                                  why="b"),
    "log_create_existing": lambda: _appraisal().AdjudicationLog.create(_log().path),
    "log_verify_dir": lambda: _appraisal().verify_log(Path(_log().path).parent),
    "log_key_type": lambda: _appraisal().AdjudicationLog.create("/tmp/never.sqlite", key=12345),
    "log_key_short": lambda: _appraisal().verify_log(_log().path, key="short"),
    "log_expected_head_garbage": lambda: _expected_head("not a hash or file"),
    "apply_adjudications_bad_log": lambda: _appraisal().apply_adjudications(pd.DataFrame({"study": ["a"]}),
                                                                           pd.DataFrame({"study": ["a"]}), log=42),
    "se_from_ci_ratio_zero": lambda: _conv().se_from_ci([0.0], [2.0], [1.0], measure="RR"),
    "se_from_ci_reversed": lambda: _conv().se_from_ci([2.0], [1.0], measure="MD"),
    "render_report_none": lambda: _present().render_report(None),
    "build_context_list": lambda: _present().build_context([]),
    "check_results_not_dict": lambda: _check_results()("text"),
    "analyse_review_not_review": lambda: _pipeline().analyse_review("not a review"),
}


# Bad rows that netmeta itself leaves out with a warning (and netstrata alike, naming them):
# the answer is the network without them, and the user is told.
DROPPED = {
    "network_zero_se": _net(se=[0.0, 0.2, 0.15]),
    "network_negative_se": _net(se=[-0.1, 0.2, 0.15]),
    "network_nan_se": _net(se=[np.nan, 0.2, 0.15]),
    "network_inf_effect": _net(effect=[np.inf, 0.2, 0.3]),
    "network_nan_effect": _net(effect=[np.nan, 0.2, 0.3]),
}
# Inputs whose documented answer is "missing" (metafor's NA pattern), not an error.
MISSING = {
    "effect_sizes_nan_n": lambda: netstrata.effect_sizes("OR", events_1=[1], n_1=[np.nan], events_2=[1], n_2=[10]),
    "effect_sizes_nan_mean": lambda: netstrata.effect_sizes("MD", mean_1=[np.nan], sd_1=[1], n_1=[10], mean_2=[1],
                                                            sd_2=[1], n_2=[10]),
}


@pytest.mark.parametrize("name", sorted(DROPPED))
def test_probe_api_dropped_with_a_warning(name):
    with pytest.warns(UserWarning, match="missing effect or a missing/zero se"):
        res = netstrata.network(DROPPED[name])
    assert "A" not in set(res.rows["study"]) and res.k == 2


@pytest.mark.parametrize("name", sorted(MISSING))
def test_probe_api_missing_in_missing_out(name):
    out = MISSING[name]()
    assert out["effect"].isna().all() and out["variance"].isna().all()


def _appraisal():
    import netstrata.appraisal as a
    return a


def _conv():
    import netstrata.effects.conversions as c
    return c


def _present():
    import netstrata.present as p
    import netstrata.present.build as b
    p.build_context = b.build_context
    return p


def _check_results():
    from netstrata.synthesis.result_check import check_results
    return check_results


def _pipeline():
    import netstrata.synthesis.pipeline as p
    return p


def _expected_head(value):
    from netstrata.appraisal.adjudication import expected_head
    return expected_head(value)


_LOGS: dict = {}


def _log():
    import tempfile
    from netstrata.appraisal import AdjudicationLog
    if "log" not in _LOGS:
        path = Path(tempfile.mkdtemp()) / "probe.sqlite"
        _LOGS["log"] = AdjudicationLog.create(path)
    return _LOGS["log"]


@pytest.mark.parametrize("name", sorted(API))
def test_probe_api(name):
    import netstrata.taxonomy.pack  # noqa: F401 - used by the cases through the netstrata namespace
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((DataError, ParameterError)) as err:
            API[name]()
    assert len(str(err.value)) > 15


PROBE_COUNT = len(CELLS) + len(FILES) + len(WORKBOOKS) + 1 + len(CLI_NAMES) + len(API) + len(DROPPED) + len(MISSING)


def test_probe_has_at_least_150_cases():
    assert PROBE_COUNT >= 150, PROBE_COUNT
    assert len(set(CLI_NAMES)) == len(CLI_NAMES)
