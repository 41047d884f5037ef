"""CLI: compare-extractions, adjudicate, verify-log (exit codes 0/1/2, deterministic files, no tracebacks)."""
from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from netstrata.cli import main
from netstrata.data import example_path

A = "study,arm,outcome,timepoint_weeks,events,n,location,extractor\n" \
    "Lord 1996,rf,success,27,7,12,p1723,JW\nLord 1996,sham,success,27,1,12,p1723,JW\n"
B = "study,arm,outcome,timepoint_weeks,events,n,location,extractor\n" \
    "Lord 1996,rf,success,27.0,7,12,p1723 T2,MB\nLord 1996,sham,success,27,NR,12,p1723 T2,MB\n"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "a.csv").write_text(A, encoding="utf-8")
    (tmp_path / "b.csv").write_text(B, encoding="utf-8")
    (tmp_path / "a_semicolon_bom.csv").write_bytes("\ufeff".encode() + A.replace(",", ";").encode())
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_compare_identical_files_exit_0(files):
    res = run("compare-extractions", files / "a.csv", files / "a_semicolon_bom.csv")
    assert res.exit_code == 0, res.output
    assert "0 disagreement(s)" in res.output


def test_compare_with_disagreements_exit_1_and_deterministic_outputs(files):
    out1, out2 = files / "r1.json", files / "r2.json"
    res = run("compare-extractions", files / "a.csv", files / "b.csv", "--json", out1, "--csv", files / "r1.csv")
    assert res.exit_code == 1
    assert "unclear_vs_value" in res.output and "sham" in res.output
    run("compare-extractions", files / "a.csv", files / "b.csv", "--json", out2, "--csv", files / "r2.csv")
    assert out1.read_bytes() == out2.read_bytes()
    assert (files / "r1.csv").read_bytes() == (files / "r2.csv").read_bytes()
    doc = json.loads(out1.read_text())
    assert doc["n_disagreements"] == 1
    d = doc["disagreements"][0]
    assert (d["value_a"], d["value_b"], d["extractor_a"], d["extractor_b"]) == ("1", "NR", "JW", "MB")
    assert (files / "r1.csv").read_text().splitlines()[0].startswith("kind,table,study")


def test_compare_bundled_project_reports_lord_1996(tmp_path):
    res = run("compare-extractions", example_path(), "--json", tmp_path / "r.json")
    assert res.exit_code == 1
    doc = json.loads((tmp_path / "r.json").read_text())
    lord = [d for d in doc["disagreements"] if d["study"] == "Lord 1996" and d["column"] == "selection_control"]
    assert [(d["value_a"], d["value_b"]) for d in lord] == [("placebo_controlled", "unclear")]


@pytest.mark.parametrize("args, message", [
    (["missing.csv", "b.csv"], "not found"),
    (["a.csv", "b.csv", "--table", "outcome"], "'table' parameter"),
    (["a.csv"], "project folder"),
    (["binary.csv", "b.csv"], "not UTF-8"),
    (["nokey.csv", "b.csv", "--table", "outcomes"], "key column missing"),
    (["empty.csv", "b.csv"], "empty"),
    (["."], "no second extraction"),
])
def test_compare_bad_input_exit_2_without_traceback(files, args, message, monkeypatch):
    (files / "binary.csv").write_bytes(b"\xff\xfe\x00bad\x81\x82")
    (files / "nokey.csv").write_text("study,n\nS,1\n")
    (files / "empty.csv").write_text("")
    monkeypatch.chdir(files)
    res = run("compare-extractions", *args)
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_adjudicate_then_verify_then_tamper(tmp_path):
    log = tmp_path / "adj.db"
    base = ["--table", "outcomes", "--study", "Lord 1996", "--arm", "sham", "--outcome", "success",
            "--timepoint", "27", "--column", "events", "--who", "JW"]
    assert run("adjudicate", log, *base, "--value", "1", "--why", "x").exit_code == 2   # no log, no --create
    res = run("adjudicate", log, *base, "--value", "1", "--why", "Table 2", "--create")
    assert res.exit_code == 0 and "entry 1 recorded" in res.output
    assert run("adjudicate", log, *base, "--value", "1", "--why", "re-read").exit_code == 0
    res = run("verify-log", log)
    assert res.exit_code == 0 and "intact, 2 entries" in res.output
    con = sqlite3.connect(log)
    con.execute("DROP TRIGGER no_update_decisions")
    con.execute("UPDATE decisions SET who = 'MB' WHERE seq = 1")
    con.commit()
    con.close()
    res = run("verify-log", log)
    assert res.exit_code == 1 and "BROKEN at entry 1" in res.output
    assert run("adjudicate", log, *base, "--value", "1", "--why", "y").exit_code == 2


def test_verify_log_bad_files_exit_2(tmp_path):
    (tmp_path / "x.db").write_text("not a database")
    res = run("verify-log", tmp_path / "x.db")
    assert res.exit_code == 2 and "not an SQLite database" in res.output
    res = run("verify-log", tmp_path / "none.db")
    assert res.exit_code == 2 and "not found" in res.output


def test_commands_are_registered():
    res = run("--help")
    for name in ("compare-extractions", "verify-log", "adjudicate"):
        assert name in res.output
