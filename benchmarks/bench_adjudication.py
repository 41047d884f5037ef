"""Cost of one append to the adjudication log as the log grows (10,000 and 100,000 entries).

Figures, each measured in this run:
* append through an open handle (``AdjudicationLog.record``): verifies only the entries after
  the handle's last verified one, then appends in one transaction;
* baseline: verifying the whole chain once (``verify_log``), which is what every append cost
  before appends became incremental (the old ``record`` verified the whole log, twice read);
* a fresh handle per append (what ``netstrata adjudicate`` does: ``open`` checks the whole chain).
"""
from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from netstrata.appraisal.adjudication import GENESIS, AdjudicationLog, entry_hash, verify_log
from netstrata.appraisal._logdb import ENTRY


def build(path: Path, n: int) -> None:
    """A valid log of ``n`` entries written in bulk (one transaction)."""
    AdjudicationLog.create(path)
    prev, rows, heads = GENESIS, [], []
    for i in range(1, n + 1):
        e = {"seq": i, "table": "outcomes", "study": f"Study {i % 500}", "arm": "rf", "outcome": "pain",
             "timepoint": "12", "column": "mean", "value": str(i), "who": "A",
             "at": "2025-01-01T00:00:00.000000Z", "why": "checked against Table 2"}
        h = entry_hash(e, prev)
        rows.append([e[k] for k in ENTRY] + [prev, h])
        heads.append((i, h))
        prev = h
    con = sqlite3.connect(path)
    con.executemany(f"INSERT INTO decisions VALUES ({','.join('?' * 13)})", rows)
    con.executemany("INSERT INTO head VALUES (?, ?)", heads)
    con.commit()
    con.close()


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(sizes=(10_000, 100_000)) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"log{n}.sqlite"
            build(path, n)
            handle = AdjudicationLog.open(path)
            kw = dict(table="outcomes", study="Lord 1996", arm="rf", outcome="pain", column="sd", value="1.9",
                      who="B", why="re-read")
            append = timed(lambda: handle.record(**kw), 20)
            full = timed(lambda: verify_log(path), 3)
            fresh = timed(lambda: AdjudicationLog.open(path).record(**kw), 3)
            print(f"{n:>7,} entries: append {append * 1e3:7.2f} ms | whole-chain check (old per-append "
                  f"cost, baseline) {full * 1e3:8.1f} ms ({full / append:,.0f}x) | fresh handle "
                  f"(CLI adjudicate) {fresh * 1e3:8.1f} ms", flush=True)


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or (10_000, 100_000))
