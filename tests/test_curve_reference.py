"""A large specification curve is written once (tables/specification_curve.csv) and results.json
references it with its row count and SHA-256; the report draws the summary-of-findings curves of a
large multiverse. Compared by bytes and by content, never by time."""
from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from netstrata.cli import main
from netstrata.present.build import multiverse as mvsec
from netstrata.synthesis import pipeline

from .test_data_support import copy_example, set_sensitivity

SENSITIVITY = """
[sensitivity]
node_level = ["family", "technique"]
design = ["randomised", "comparative"]
time_window = ["plan", "closest to 3 months"]
"""


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same project run with the curve inline and with the curve referenced."""
    tmp = tmp_path_factory.mktemp("curve")
    project = set_sensitivity(copy_example(tmp), SENSITIVITY)
    inline, referenced = tmp / "inline", tmp / "referenced"
    assert _run("run", project, "--out", inline, "--quiet", "--workers", "1").exit_code == 0
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "CURVE_JSON_ROWS", 10)
        res = _run("run", project, "--out", referenced, "--quiet", "--workers", "1")
    assert res.exit_code == 0, res.output
    return inline, referenced


def test_referenced_curve_is_the_inline_curve_pinned_by_its_hash(runs):
    inline, referenced = runs
    a = json.loads((inline / "results.json").read_text("utf-8"))
    b = json.loads((referenced / "results.json").read_text("utf-8"))
    body = (referenced / "tables" / "specification_curve.csv").read_bytes()
    mv = b["multiverse"]
    assert mv["curve"] == [] and mv["curve_file"] == "tables/specification_curve.csv"
    assert mv["curve_sha256"] == hashlib.sha256(body).hexdigest()
    assert mv["curve_rows"] == len(a["multiverse"]["curve"]) == body.count(b"\n") - 1
    assert body == (inline / "tables" / "specification_curve.csv").read_bytes()      # the same table
    for key in ("curve", "curve_file", "curve_rows", "curve_sha256"):
        a["multiverse"].pop(key, None), b["multiverse"].pop(key, None)
    assert a == b                                                   # everything else unchanged


def test_report_reads_the_referenced_curve_and_draws_the_same(runs, tmp_path):
    inline, referenced = runs
    html = (inline / "report.html").read_bytes()
    out = tmp_path / "again.html"
    res = _run("report", referenced / "results.json", "--out", out)
    assert res.exit_code == 0, res.output
    # the run's report (curve passed in memory), the one read back from the CSV and the report of
    # the inline results are identical
    assert out.read_bytes() == (referenced / "report.html").read_bytes() == html
    assert out.read_bytes().count(b"<details><summary>") == html.count(b"<details><summary>") > 10


def test_changed_or_missing_curve_file_is_a_clear_error(runs, tmp_path):
    import shutil
    _, referenced = runs
    copy = tmp_path / "copy"
    shutil.copytree(referenced, copy)
    csv = copy / "tables" / "specification_curve.csv"
    csv.write_bytes(csv.read_bytes().replace(b"\n", b"\r\n", 1))
    res = _run("report", copy / "results.json", "--out", tmp_path / "r.html")
    assert res.exit_code == 1 and "SHA-256 differs" in res.output and "specification_curve.csv" in res.output
    csv.unlink()
    res = _run("report", copy / "results.json", "--out", tmp_path / "r.html")
    assert res.exit_code == 1 and "was not found" in res.output and "keep the tables folder" in res.output
    doc = json.loads((referenced / "results.json").read_text("utf-8"))
    doc["multiverse"]["curve_file"] = "../elsewhere.csv"
    (copy / "results.json").write_text(json.dumps(doc), "utf-8")
    res = _run("report", copy / "results.json", "--out", tmp_path / "r.html")
    assert res.exit_code == 1 and "inside the results folder" in res.output


def test_large_multiverse_draws_the_summary_of_findings_curves(runs, monkeypatch):
    """Beyond ALL_CURVES_UP_TO comparisons the report draws each intervention versus its stratum's
    reference (the summary of findings' rows), says so, and --curves all draws every one."""
    from netstrata.present.build import build_context
    inline, _ = runs
    data = json.loads((inline / "results.json").read_text("utf-8"))
    every = build_context(data)
    n = len({r["comparison"] for r in data["multiverse"]["curve"]})
    assert sum(len(g.blocks) for g in every.curves) == n and every.curves_note == ""
    monkeypatch.setattr(mvsec, "ALL_CURVES_UP_TO", 1)
    chosen = build_context(data)
    refs = mvsec.summary_comparisons(data)
    want = {r["comparison"] for r in data["multiverse"]["curve"]
            if r["stratum"] in refs and (refs[r["stratum"]] is None or refs[r["stratum"]] in (r["treat1"], r["treat2"]))}
    assert 0 < len(want) < n
    assert sum(len(g.blocks) for g in chosen.curves) == len(want)
    assert f"Curves are drawn for the {len(want)} comparisons of the summary of findings" in chosen.curves_note
    assert f"of the {n} comparisons" in chosen.curves_note
    assert sum(len(g.blocks) for g in build_context(data, curves="all").curves) == n
    with pytest.raises(Exception, match="curves must be one of"):
        build_context(data, curves="some")


def test_a_referenced_curve_is_written_without_the_other_tables(runs, tmp_path, monkeypatch):
    """run_project(tables=False) writes no table but the curve that results.json references."""
    from netstrata.synthesis.pipeline import run_project
    inline, referenced = runs
    monkeypatch.setattr(pipeline, "CURVE_JSON_ROWS", 10)
    assert json.loads((inline / "results.json").read_text("utf-8"))["multiverse"]["curve"]
    out = run_project(referenced.parent / "project", out_dir=tmp_path / "o", tables=False, report_writer=None)
    assert out.tables_dir is None
    assert sorted(p.name for p in (tmp_path / "o" / "tables").iterdir()) == ["specification_curve.csv"]
    assert (tmp_path / "o" / "tables" / "specification_curve.csv").read_bytes() == \
        (referenced / "tables" / "specification_curve.csv").read_bytes()
    doc = json.loads((tmp_path / "o" / "results.json").read_text("utf-8"))
    assert doc["multiverse"]["curve_file"] == "tables/specification_curve.csv"
