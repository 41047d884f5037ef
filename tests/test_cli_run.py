"""`netstrata run` and `netstrata report` through click's CliRunner."""
from __future__ import annotations

import json

from click.testing import CliRunner

from netstrata.cli import main

from .test_data_support import EXAMPLE, copy_example, set_sensitivity


def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_run_example_writes_json_and_exits_0(tmp_path):
    out = tmp_path / "out"
    res = _run("run", str(EXAMPLE), "--out", str(out), "--workers", "1")
    assert res.exit_code == 0, res.output
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["name"] == "spine-landmark" and data["record_counts"]["unaccounted"] == 0
    assert {s["name"] for s in data["strata"]} >= {"cervical / whiplash_cervical_facet / success",
                                                   "lumbar / facet_joint_pain / success"}
    assert (out / "tables" / "comparisons.csv").is_file()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "spine-landmark" in html and "Cervical \u00b7 Cervical facet pain after whiplash" in html
    for part in ("netstrata run: 'spine-landmark'",
                 "Records: 32 in, 15 analysed, 17 excluded; exclusion register: 19 rows (2 for whole studies)",
                 "Strata (region, diagnosis x outcome): 8 ", "Stratified versus lumped",
                 "test for subgroup differences: Q = 2.68, df = 1, p = 0.102", "LUMPED (all strata pooled)",
                 "Cervical \u00b7 Cervical facet pain after whiplash", "study result", "Results:"):
        assert part in res.output, part
    assert "RFN_FACET" not in res.output.split("Stratified versus lumped")[1].split("Results:")[0]
    assert not (EXAMPLE / "netstrata-output").exists()


def test_run_twice_gives_identical_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert _run("run", str(EXAMPLE), "--out", str(a), "--quiet", "--seed", "3").exit_code == 0
    assert _run("run", str(EXAMPLE), "--out", str(b), "--quiet", "--seed", "3").exit_code == 0
    assert (a / "results.json").read_bytes() == (b / "results.json").read_bytes()


def test_run_quiet_prints_nothing(tmp_path):
    res = _run("run", str(EXAMPLE), "--out", str(tmp_path), "--quiet")
    assert res.exit_code == 0 and res.output == ""


def test_run_bad_project_exit_1_without_traceback(tmp_path):
    res = _run("run", str(tmp_path / "missing"))
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "not a review project" in res.output


def test_run_bad_sensitivity_section_exit_1(tmp_path):
    project = set_sensitivity(copy_example(tmp_path), '[sensitivity]\nnode_levle = ["family"]')
    res = _run("run", str(project), "--out", str(tmp_path / "o"))
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "node_levle" in res.output and "did you mean 'node_level'?" in res.output


def test_run_rejects_zero_workers(tmp_path):
    res = _run("run", str(EXAMPLE), "--out", str(tmp_path), "--workers", "0")
    assert res.exit_code == 2


def test_report_from_json_without_reader_is_a_clear_error(tmp_path):
    assert _run("run", str(EXAMPLE), "--out", str(tmp_path), "--quiet").exit_code == 0
    res = _run("report", str(tmp_path / "results.json"))
    assert "Traceback" not in res.output
    if res.exit_code != 0:
        assert res.exit_code == 1 and "project folder" in res.output
    else:   # the present layer reads results JSON
        assert (tmp_path / "report.html").is_file()


def test_report_from_project(tmp_path):
    out = tmp_path / "r.html"
    res = _run("report", str(EXAMPLE), "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "lumbar / facet_joint_pain / success" in out.read_text(encoding="utf-8")


def test_run_and_demo_level_honoured(tmp_path):
    """--level sets the primary node level (and the multiverse's primary specification)."""
    out = tmp_path / "out"
    res = _run("run", str(EXAMPLE), "--out", str(out), "--workers", "1", "--level", "wang2025")
    assert res.exit_code == 0, res.output
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["node_level"] == "wang2025"
    primary = next(s for s in data["multiverse"]["specifications"] if s["primary"])
    assert primary["node_level"] == "wang2025" and primary["specification"] == 0
    assert "joint RFA vs Sham procedure" in res.output
    assert "node level 'wang2025' = Wang 2025 BMJ NMA classes" in res.output
    bad = _run("run", str(EXAMPLE), "--out", str(out), "--level", "famly")
    assert bad.exit_code == 1 and "Did you mean 'family'" in bad.output and "Traceback" not in bad.output


def test_demo_level_honoured(tmp_path):
    res = CliRunner().invoke(main, ["demo", "--level", "technique", "--out", str(tmp_path / "d"), "--workers", "1",
                                    "--quiet"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "d" / "results.json").read_text(encoding="utf-8"))
    assert data["node_level"] == "technique"
