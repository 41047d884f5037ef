"""Issue 19, the adjudication log: no false alarms under concurrency, nothing forged, decisions applied.

Each test is named after a finding of the hostile-but-fair probe.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import netstrata.appraisal._chain as chain
from netstrata.appraisal import AdjudicationLog, read_log, verify_log
from netstrata.appraisal._logdb import ENTRY
from netstrata.appraisal.adjudication import GENESIS, entry_hash
from netstrata.cli import main
from netstrata.errors import DataError, ParameterError

from .test_data_support import copy_example, find_row, set_sensitivity

KEY = b"0123456789abcdef-team-key"
_WRITER = """
import sys
from netstrata.appraisal import AdjudicationLog
from netstrata.errors import DataError
path, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
log, refused = AdjudicationLog(path), 0
for i in range(n):
    try:
        log.record(table="outcomes", study=f"{who} {i}", column="n", value=str(i), who=who, why="w")
    except DataError as exc:
        refused += 1
        print(exc, file=sys.stderr)
print(refused)
"""
_VERIFIER = """
import os, sys
from netstrata.appraisal import verify_log
path, stop = sys.argv[1], sys.argv[2]
checks = alarms = 0
while not os.path.exists(stop) or checks < 20:
    check = verify_log(path)
    checks += 1
    if not check.intact:
        alarms += 1
        print(check, file=sys.stderr)
print(checks, alarms)
"""
_CLI_WRITER = """
import subprocess, sys
path, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
refused = 0
for i in range(n):
    res = subprocess.run([sys.argv[4], "adjudicate", path, "--table", "outcomes",
                          "--study", f"{who} {i}", "--column", "n", "--value", str(i), "--who", who,
                          "--why", "w", "--create"], capture_output=True, text=True)
    refused += res.returncode != 0
    if res.returncode:
        print(res.stderr, file=sys.stderr)
print(refused)
"""


def _bulk_log(path: Path, n: int, key: bytes | None = None) -> None:
    """A valid log of ``n`` entries written in one transaction."""
    AdjudicationLog.create(path, key=key)
    prev, rows = GENESIS, []
    for i in range(1, n + 1):
        e = {"seq": i, "table": "outcomes", "study": f"S{i}", "arm": "", "outcome": "", "timepoint": "",
             "column": "n", "value": str(i), "who": "A", "at": "2025-01-01T00:00:00.000000Z", "why": "w"}
        h = entry_hash(e, prev, key)
        rows.append([e[k] for k in ENTRY] + [prev, h])
        prev = h
    con = sqlite3.connect(path)
    con.executemany(f"INSERT INTO decisions VALUES ({','.join('?' * 13)})", rows)
    con.executemany("INSERT INTO head VALUES (?, ?)", [(r[0], r[-1]) for r in rows])
    con.commit()
    con.close()


def _tamper(path, *sql):
    con = sqlite3.connect(path)
    for t in ("meta", "decisions", "head"):
        for op in ("update", "delete"):
            con.execute(f"DROP TRIGGER IF EXISTS no_{op}_{t}")
    for statement in sql:
        con.execute(*statement) if isinstance(statement, tuple) else con.execute(statement)
    con.commit()
    con.close()


def _forge(path, key: bytes | None = None, seq: int = 2, value: str = "999"):
    """What a 30-line script does: edit a decision and recompute the whole chain and head table."""
    rows = [list(r) for r in sqlite3.connect(path).execute(
        'SELECT seq, "table", study, arm, outcome, timepoint, "column", value, who, at, why FROM decisions '
        "ORDER BY seq").fetchall()]
    statements, prev = ["DELETE FROM decisions", "DELETE FROM head"], GENESIS
    for r in rows:
        e = dict(zip(ENTRY, r))
        if e["seq"] == seq:
            e["value"] = value
        h = entry_hash(e, prev, key)
        statements.append((f"INSERT INTO decisions VALUES ({','.join('?' * 13)})", [e[k] for k in ENTRY] + [prev, h]))
        statements.append(("INSERT INTO head VALUES (?, ?)", (e["seq"], h)))
        prev = h
    _tamper(path, *statements)


# ----------------------------------------------------------------- concurrency

def _race(tmp_path: Path, writer: str, n: int) -> tuple[list[int], tuple[int, int], Path]:
    path, stop = tmp_path / "log.sqlite", tmp_path / "stop"
    if writer == _WRITER:
        AdjudicationLog.create(path)
    else:
        path.unlink(missing_ok=True)        # both CLI writers race to --create it
    cli = str(Path(sys.executable).parent / "netstrata")
    writers = [subprocess.Popen([sys.executable, "-c", writer, str(path), who, str(n), cli],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for who in "AB"]
    while not path.exists():
        pass
    verifier = subprocess.Popen([sys.executable, "-c", _VERIFIER, str(path), str(stop)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = [w.communicate(timeout=600) for w in writers]
    stop.touch()
    out, err = verifier.communicate(timeout=600)
    assert not err, err
    assert all(not e for _, e in results), [e for _, e in results]
    return [int(o) for o, _ in results], tuple(int(x) for x in out.split()), path


def test_two_writer_processes_and_a_verifier_see_no_false_alarm_and_lose_no_entry(tmp_path):
    refused, (checks, alarms), path = _race(tmp_path, _WRITER, 200)
    assert refused == [0, 0] and alarms == 0 and checks >= 20
    decisions = read_log(path)
    assert len(decisions) == 400 and [d.seq for d in decisions] == list(range(1, 401))
    assert {d.study for d in decisions} == {f"{w} {i}" for w in "AB" for i in range(200)}


def test_two_cli_adjudicators_racing_to_create_and_append_lose_nothing(tmp_path):
    refused, (checks, alarms), path = _race(tmp_path, _CLI_WRITER, 15)
    assert refused == [0, 0] and alarms == 0
    assert len(read_log(path)) == 30 and verify_log(path).intact


# ----------------------------------------------------------------- incremental verification

def test_append_verifies_only_the_entries_after_the_last_verified_one(tmp_path, monkeypatch):
    path = tmp_path / "log.sqlite"
    _bulk_log(path, 2000)
    calls = []
    real = chain.entry_hash
    monkeypatch.setattr(chain, "entry_hash", lambda *a, **k: calls.append(1) or real(*a, **k))
    log = AdjudicationLog.open(path)
    assert len(calls) == 2000                                  # open: the whole chain, once
    calls.clear()
    kw = dict(table="outcomes", study="S", column="n", value="1", who="a", why="b")
    log.record(**kw)
    assert len(calls) == 1                                     # the last verified entry re-checked
    other = AdjudicationLog.open(path)
    for _ in range(5):
        other.record(**kw)                                     # another adjudicator appends 5
    calls.clear()
    log.record(**kw)
    assert len(calls) == 6                                     # those 5 + the checkpoint, not 2007
    assert verify_log(path).n_entries == 2007


def test_append_after_a_rewrite_of_the_last_verified_entry_is_refused(tmp_path):
    path = tmp_path / "log.sqlite"
    _bulk_log(path, 10)
    log = AdjudicationLog.open(path)
    _forge(path, seq=10)
    with pytest.raises(DataError, match="broken at entry 10"):
        log.record(table="outcomes", study="S", column="n", value="1", who="a", why="b")


# ----------------------------------------------------------------- forgery

def test_edited_decision_with_recomputed_chain_passes_an_unkeyed_check_but_not_the_recorded_head(tmp_path):
    path = tmp_path / "log.sqlite"
    _bulk_log(path, 5)
    head = verify_log(path).head_hash
    _forge(path)
    assert verify_log(path).intact                              # the limit of an unkeyed chain (README)
    check = verify_log(path, expect_head=head)
    assert not check.intact and "not in the chain" in check.problem


def test_edited_decision_with_recomputed_chain_is_detected_in_a_keyed_log(tmp_path):
    path = tmp_path / "log.sqlite"
    _bulk_log(path, 5, key=KEY)
    assert verify_log(path, key=KEY).intact and verify_log(path, key=KEY).keyed
    _forge(path, key=None)                                      # the forger has no key: plain sha256
    check = verify_log(path, key=KEY)
    assert not check.intact and check.first_bad == 1
    _forge(path, key=b"another key of 16+ bytes")               # or a key of their own
    assert not verify_log(path, key=KEY).intact
    _tamper(path, "UPDATE meta SET value = 'sha256' WHERE key = 'chain'")
    _forge(path, key=None)                                      # or turn it into an unkeyed log
    check = verify_log(path, key=KEY)
    assert not check.intact and check.first_bad == 0 and "not keyed" in check.problem


def test_keyed_log_needs_its_key_and_names_a_wrong_one(tmp_path, monkeypatch):
    path = tmp_path / "log.sqlite"
    log = AdjudicationLog.create(path, key=KEY)
    log.record(table="outcomes", study="S", column="n", value="1", who="a", why="b")
    with pytest.raises(DataError, match="keyed"):
        verify_log(path)
    with pytest.raises(DataError, match="keyed"):
        AdjudicationLog.open(path)
    check = verify_log(path, key=b"wrong key but long enough")
    assert not check.intact and "does not match" in check.problem
    with pytest.raises(ParameterError, match="at least 16 bytes"):
        AdjudicationLog.create(tmp_path / "short.sqlite", key="short")
    keyfile = tmp_path / "team.key"
    keyfile.write_bytes(KEY + b"\n")
    res = CliRunner().invoke(main, ["verify-log", str(path), "--key-file", str(keyfile)])
    assert res.exit_code == 0 and "intact (keyed), 1 entries" in res.output
    assert CliRunner().invoke(main, ["verify-log", str(path)]).exit_code == 2
    monkeypatch.setenv("NETSTRATA_LOG_KEY", KEY.decode())
    res = CliRunner().invoke(main, ["adjudicate", str(path), "--table", "outcomes", "--study", "S",
                                    "--column", "n", "--value", "2", "--who", "a", "--why", "b"])
    assert res.exit_code == 0 and verify_log(path, key=KEY).n_entries == 2


def test_deleting_the_last_entry_from_both_tables_is_caught_by_verify_log_expect_head_results_json(tmp_path):
    project = _adjudicated_project(tmp_path)
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["run", str(project), "--out", str(out), "--quiet"]).exit_code == 0
    log = project / "adjudication.sqlite"
    res = CliRunner().invoke(main, ["verify-log", str(log), "--expect-head", str(out / "results.json")])
    assert res.exit_code == 0 and "contains the expected head" in res.output
    n = verify_log(log).n_entries
    _tamper(log, ("DELETE FROM decisions WHERE seq = ?", (n,)), ("DELETE FROM head WHERE seq = ?", (n,)))
    assert verify_log(log).intact                               # consistent truncation: intact alone ...
    res = CliRunner().invoke(main, ["verify-log", str(log), "--expect-head", str(out / "results.json")])
    assert res.exit_code == 1 and "not in the chain" in res.output     # ... but not against the results
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps({"name": "x"}))
    res = CliRunner().invoke(main, ["verify-log", str(log), "--expect-head", str(bad)])
    assert res.exit_code == 2 and "records no adjudication-log head" in res.output


# ----------------------------------------------------------------- run applies the log

def _adjudicated_project(tmp_path: Path, log_name: str | None = None) -> Path:
    """The example (without multiverse) with a log resolving van Kleef 1999's sham events (A: 6,
    B: 7) in favour of B and dropping Cohen 2008's outcome rows."""
    project = set_sensitivity(copy_example(tmp_path), "")
    path = project / (log_name or "adjudication.sqlite")
    log = AdjudicationLog.create(path)
    log.record(table="outcomes", study="van Kleef 1999", arm="sham", outcome="success", timepoint="8",
               column="events", value="5", who="JW", why="first reading")
    log.record(table="outcomes", study="van kleef 1999 ", arm="sham", outcome="success", timepoint="8.0",
               column="events", value="7", who="MB", why="Table 2 re-read: 7/16")
    log.record(table="studies", study="Cohen 2008", column="*", value="drop", who="JW", why="duplicate cohort")
    log.record(table="exclusions", study="Lord 1996", column="message", value="x", who="JW", why="n/a")
    if log_name:
        toml = project / "netstrata.toml"
        toml.write_text(toml.read_text(encoding="utf-8") + f'\n[appraisal]\nadjudication_log = "{log_name}"\n',
                        encoding="utf-8")
    return project


def test_run_applies_the_logs_decisions_and_records_its_head_in_results_and_report(tmp_path):
    project = _adjudicated_project(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(project), "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    head = verify_log(project / "adjudication.sqlite").head_hash
    adj = data["adjudication"]
    assert adj["head"] == head and adj["log"] == "adjudication.sqlite" and adj["entries"] == 4
    assert adj["applied"] == [2, 3] and [u["seq"] for u in adj["unused"]] == [1, 4]
    assert "superseded" in adj["unused"][0]["reason"] and "cannot be amended" in adj["unused"][1]["reason"]
    drops = [r for r in data["exclusion_register"] if r["reason_code"] == "adjudicated_drop"]
    assert {r["study"] for r in drops} == {"Cohen 2008"} and "entry 3" in drops[0]["message"]
    assert data["record_counts"]["unaccounted"] == 0
    assert head in (out / "report.html").read_text(encoding="utf-8")
    from netstrata.synthesis.adjudicated import load_project
    review, _ = load_project(project)
    o = review.outcomes
    row = find_row(project, "outcomes", study="van Kleef 1999", arm="sham", outcome="success")
    assert o.loc[row, "events"] == 7.0


def test_plan_names_its_log_and_a_missing_or_broken_log_stops_the_run(tmp_path):
    project = _adjudicated_project(tmp_path, "log.sqlite")
    from netstrata.synthesis.adjudicated import load_project
    _, adj = load_project(project)
    assert adj["log"] == "log.sqlite" and adj["applied"] == [2, 3]
    _tamper(project / "log.sqlite", "UPDATE decisions SET value = '6' WHERE seq = 2")
    res = CliRunner().invoke(main, ["run", str(project), "--out", str(tmp_path / "out"), "--quiet"])
    assert res.exit_code == 1 and "broken at entry 2" in res.output and "Traceback" not in res.output
    (project / "log.sqlite").unlink()
    res = CliRunner().invoke(main, ["run", str(project), "--out", str(tmp_path / "out"), "--quiet"])
    assert res.exit_code == 1 and "adjudication log named in the plan does not exist" in res.output
