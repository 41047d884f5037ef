"""Adjudication log: append-only, hash-chained; any tampering is detected; reconciliation is reproducible."""
from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from netstrata.appraisal import AdjudicationLog, apply_adjudications, read_log, verify_log
from netstrata.appraisal.adjudication import GENESIS, entry_hash
from netstrata.errors import DataError, ParameterError

COLUMNS = ["seq", "table", "study", "arm", "outcome", "timepoint", "column", "value", "who", "at", "why",
           "prev_hash", "hash"]


def fixed_clock(start=datetime(2025, 3, 18, 9, 0, tzinfo=timezone.utc)):
    state = {"t": start}

    def clock():
        state["t"] += timedelta(minutes=1)
        return state["t"]
    return clock


@pytest.fixture(scope="module")
def log_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("log") / "adj.db"
    handle = AdjudicationLog.create(path, clock=fixed_clock())
    for i, (arm, col, value) in enumerate([("rf", "events", "7"), ("sham", "events", "1"),
                                           ("sham", "n", "12"), ("rf", "sd", "1.9")]):
        handle.record(table="outcomes", study="Lord 1996", arm=arm, outcome="relief", timepoint="26",
                      column=col, value=value, who=f"rev{i}", why=f"Table 2, p1723 ({i})")
    return path.read_bytes()


@pytest.fixture
def log(tmp_path, log_bytes):
    """A fresh copy of a four-entry log for each test (built once: appends are fsync-bound)."""
    path = tmp_path / "adj.db"
    path.write_bytes(log_bytes)
    return AdjudicationLog.open(path, clock=fixed_clock(datetime(2025, 3, 19, tzinfo=timezone.utc)))


def _tamper(path, sql, params=()):
    con = sqlite3.connect(path)
    for t in ("meta", "decisions", "head"):
        for op in ("update", "delete"):
            con.execute(f"DROP TRIGGER IF EXISTS no_{op}_{t}")
    con.execute(sql, params)
    con.commit()
    con.close()


def test_fresh_log_is_intact_with_iso_utc_times_and_a_known_chain(log):
    check = verify_log(log.path)
    assert check.intact and check.n_entries == 4 and check.first_bad is None
    decisions = read_log(log.path)
    assert [d.seq for d in decisions] == [1, 2, 3, 4]
    assert decisions[0].at == "2025-03-18T09:01:00.000000Z"
    assert decisions[0].prev_hash == GENESIS and decisions[1].prev_hash == decisions[0].hash
    first = decisions[0]
    doc = {k: getattr(first, k) for k in COLUMNS[:-2]} | {"prev_hash": GENESIS}
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert first.hash == hashlib.sha256(text.encode()).hexdigest() == entry_hash(doc, GENESIS)
    assert check.head_hash == decisions[-1].hash


def test_triggers_refuse_update_and_delete(log):
    con = sqlite3.connect(log.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE decisions SET value = '8' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM decisions WHERE seq = 4")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM head")
    con.close()
    assert verify_log(log.path).intact


@pytest.mark.parametrize("seq", [1, 2, 4])
@pytest.mark.parametrize("column", COLUMNS)
def test_editing_any_column_of_any_row_is_detected(log, seq, column):
    new = 99 if column == "seq" else "tampered"
    _tamper(log.path, f'UPDATE decisions SET "{column}" = ? WHERE seq = ?', (new, seq))
    check = verify_log(log.path)
    assert not check.intact
    assert check.first_bad == seq
    assert check.problem


def test_changing_only_the_type_of_a_value_is_detected(log):
    _tamper(log.path, "UPDATE decisions SET value = X'37' WHERE seq = 1")   # '7' as text -> b'7' as blob
    check = verify_log(log.path)
    assert check.first_bad == 1 and "type" in check.problem


@pytest.mark.parametrize("seq", [1, 2, 3, 4])
def test_deleting_any_row_is_detected(log, seq):
    _tamper(log.path, "DELETE FROM decisions WHERE seq = ?", (seq,))
    check = verify_log(log.path)
    assert not check.intact and check.first_bad == seq


def test_deleting_the_last_rows_of_both_tables_is_caught_by_a_recorded_head(log):
    head = verify_log(log.path).head_hash
    _tamper(log.path, "DELETE FROM decisions WHERE seq = 4")
    _tamper(log.path, "DELETE FROM head WHERE seq = 4")
    assert verify_log(log.path).intact                  # a consistent truncation looks intact ...
    check = verify_log(log.path, expect_head=head)      # ... unless the head was recorded elsewhere
    assert not check.intact and "expected head" in check.problem


def test_reordering_rows_is_detected(log):
    _tamper(log.path, "UPDATE decisions SET seq = 100 WHERE seq = 2")
    _tamper(log.path, "UPDATE decisions SET seq = 2 WHERE seq = 3")
    _tamper(log.path, "UPDATE decisions SET seq = 3 WHERE seq = 100")
    check = verify_log(log.path)
    assert not check.intact and check.first_bad == 2


def test_swapping_contents_of_two_rows_is_detected(log):
    con = sqlite3.connect(log.path)
    r2 = con.execute("SELECT * FROM decisions WHERE seq = 2").fetchone()
    r3 = con.execute("SELECT * FROM decisions WHERE seq = 3").fetchone()
    con.close()
    _tamper(log.path, "DELETE FROM decisions WHERE seq IN (2, 3)")
    _tamper(log.path, f"INSERT INTO decisions VALUES ({','.join('?' * 13)})", (2, *r3[1:]))
    _tamper(log.path, f"INSERT INTO decisions VALUES ({','.join('?' * 13)})", (3, *r2[1:]))
    assert verify_log(log.path).first_bad == 2


def test_inserting_a_row_in_the_middle_is_detected(log):
    for seq in (4, 3):
        _tamper(log.path, "UPDATE decisions SET seq = seq + 1 WHERE seq = ?", (seq,))
    row = (3, "outcomes", "Lord 1996", "rf", "relief", "26", "n", "99", "x", "2025-01-01T00:00:00Z", "y",
           GENESIS, "0" * 64)
    _tamper(log.path, f"INSERT INTO decisions VALUES ({','.join('?' * 13)})", row)
    check = verify_log(log.path)
    assert not check.intact and check.first_bad == 3


def test_appending_a_forged_row_without_the_head_is_detected(log):
    last = read_log(log.path)[-1]
    entry = {"seq": 5, "table": "outcomes", "study": "Lord 1996", "arm": "rf", "outcome": "relief",
             "timepoint": "26", "column": "n", "value": "99", "who": "x", "at": "2025-01-01T00:00:00Z", "why": "y"}
    forged = (*entry.values(), last.hash, entry_hash(entry, last.hash))
    _tamper(log.path, f"INSERT INTO decisions VALUES ({','.join('?' * 13)})", forged)
    check = verify_log(log.path)
    assert not check.intact and check.first_bad == 5
    bad = (*entry.values(), last.hash, "f" * 64)          # wrong hash, head also forged
    _tamper(log.path, "DELETE FROM decisions WHERE seq = 5")
    _tamper(log.path, f"INSERT INTO decisions VALUES ({','.join('?' * 13)})", bad)
    _tamper(log.path, "INSERT INTO head VALUES (5, ?)", ("f" * 64,))
    assert verify_log(log.path).first_bad == 5


def test_verification_is_read_only(log):
    before = log.path.read_bytes()
    mtime = log.path.stat().st_mtime_ns
    verify_log(log.path)
    read_log(log.path)
    assert log.path.read_bytes() == before and log.path.stat().st_mtime_ns == mtime


def test_broken_log_refuses_appends_and_reconciliation(log):
    _tamper(log.path, "UPDATE decisions SET why = 'x' WHERE seq = 2")
    with pytest.raises(DataError, match="broken at entry 2"):       # a new handle checks the whole chain
        AdjudicationLog(log.path).record(table="outcomes", study="S", column="n", value="1", who="a", why="b")
    with pytest.raises(DataError, match="broken at entry 2"):
        AdjudicationLog.open(log.path)
    a = pd.DataFrame({"study": ["S"], "n": ["1"]})
    with pytest.raises(DataError, match="broken"):
        apply_adjudications(a, a, log.path)


def test_bad_files_give_clear_errors(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(DataError, match="not an SQLite database"):
        verify_log(text)
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="not an SQLite database"):
        verify_log(empty)
    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(DataError, match="without the adjudication-log schema"):
        verify_log(foreign)
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    con.execute("INSERT INTO meta VALUES ('format', 'something-else')")
    con.commit()
    con.close()
    with pytest.raises(DataError, match="not an adjudication log"):
        verify_log(other)
    with pytest.raises(DataError, match="not found"):
        verify_log(tmp_path / "nope.db")
    with pytest.raises(DataError, match="never overwritten"):
        AdjudicationLog.create(text)
    assert text.read_text() == "hello"


def test_version_marker_is_checked(log):
    _tamper(log.path, "UPDATE meta SET value = '99' WHERE key = 'version'")
    with pytest.raises(DataError, match="unsupported adjudication-log version"):
        verify_log(log.path)


def test_record_validates_its_arguments(log):
    with pytest.raises(ParameterError, match="'why'"):
        log.record(table="outcomes", study="S", column="n", value="1", who="a", why=" ")
    with pytest.raises(ParameterError, match="keep' or 'drop"):
        log.record(table="outcomes", study="S", column="*", value="maybe", who="a", why="b")
    naive = AdjudicationLog.open(log.path, clock=lambda: datetime(2025, 1, 1))
    with pytest.raises(ParameterError, match="timezone-aware"):
        naive.record(table="outcomes", study="S", column="n", value="1", who="a", why="b")
    assert verify_log(log.path).n_entries == 4


# ----------------------------------------------------------------------------- reconciliation

def _extractions():
    a = pd.DataFrame({"study": ["Lord 1996", "Lord 1996", "Lord 1996", "Only A 2001"],
                      "arm": ["rf", "sham", "extra", "x"], "outcome": ["relief"] * 4,
                      "timepoint_weeks": ["26"] * 4, "events": ["7", "1", "3", "2"], "n": ["12", "12", "5", "9"],
                      "location": ["p1723"] * 4, "extractor": ["JW"] * 4})
    b = pd.DataFrame({"study": ["Lord 1996", "Lord 1996"], "arm": ["rf", "sham"], "outcome": ["relief"] * 2,
                      "timepoint_weeks": ["26.0", "26"], "events": ["7", "NR"], "n": ["12", "13"],
                      "location": ["p1723 T2"] * 2, "extractor": ["MB"] * 2})
    return a, b


def test_unadjudicated_disagreements_are_listed_as_unresolved(tmp_path):
    a, b = _extractions()
    res = apply_adjudications(a, b, AdjudicationLog.create(tmp_path / "x.db"))
    assert not res.complete
    assert set(zip(res.unresolved["arm"], res.unresolved["column"])) == {("sham", "events"), ("sham", "n"),
                                                                          ("extra", "*"), ("x", "*")}
    assert list(res.table["arm"]) == ["rf", "sham"]
    sham = res.table.set_index("arm").loc["sham"]
    assert sham["events"] == "" and sham["n"] == ""
    assert res.table.set_index("arm").loc["rf", "events"] == "7"


def test_adjudicated_table_is_reproducible_and_latest_decision_wins(tmp_path):
    a, b = _extractions()
    log = AdjudicationLog.create(tmp_path / "x.db", clock=fixed_clock())
    common = dict(table="outcomes", study="Lord 1996", outcome="relief", timepoint="26", who="JW")
    log.record(**common, arm="sham", column="events", value="2", why="first reading")
    log.record(**common, arm="sham", column="events", value="1", why="Table 2 re-read: 1/12")
    log.record(**common, arm="sham", column="n", value="12", why="CONSORT diagram")
    log.record(**common, arm="extra", column="*", value="drop", why="not a randomised arm")
    log.record(table="outcomes", study="Only A 2001", column="*", value="keep", who="JW", why="B missed it")
    log.record(table="arms", study="Lord 1996", arm="rf", column="n", value="12", who="JW", why="other table")
    res = apply_adjudications(a, b, log.path)
    assert res.complete
    rows = res.table.set_index("arm")
    assert rows.loc["sham", "events"] == "1" and rows.loc["sham", "n"] == "12"
    assert "extra" not in rows.index and rows.loc["x", "study"] == "Only A 2001"
    assert rows.loc["rf", "location"] == "p1723 | p1723 T2"
    assert sorted(res.applied["seq"]) == [2, 3, 4, 5]
    assert list(res.unused["seq"]) == [1]            # superseded by entry 2
    again = apply_adjudications(a, b, log.path)
    pd.testing.assert_frame_equal(res.table, again.table)
    assert repr(res).startswith("AdjudicatedTable('outcomes'")
