"""Property: whatever tables are fed to the loader, it returns a Review or raises DataError only."""
from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netstrata import DataError
from netstrata.data import Review, load_review, table_spec
from netstrata.taxonomy import load_pack

from .test_data_support import EXAMPLE, read_rows

PACK = load_pack("spine")
TABLE_NAMES = ("studies", "arms", "outcomes", "exclusions", "contrasts")
COLUMNS = {name: [c.name for c in table_spec(name, PACK).columns] for name in TABLE_NAMES}
EXAMPLE_ROWS = {name: read_rows(EXAMPLE / f"{name}.csv") for name in TABLE_NAMES}
# Cells that look like real data mixed with hostile ones.
VALUES = sorted({c for rows in EXAMPLE_ROWS.values() for r in rows[1:] for c in r})
HOSTILE = ["", "NR", "nr", "unclear", "-1", "0", "1e999", "nan", "1,5", "3.5", " 12 ", "=SUM(A1)",
           "\ufeffstudy", "Lord 1996", "a;b", "x|y", "RFN_FACET|", "|", "\"", "\n", "é", "0x10", "True"]
cells = st.one_of(st.sampled_from(VALUES), st.sampled_from(HOSTILE), st.text(max_size=8))


@st.composite
def table(draw, name):
    columns = COLUMNS[name]
    header = draw(st.lists(st.sampled_from(columns + ["extra", "Study", "", "row", "selected"]), min_size=0,
                           max_size=len(columns) + 2, unique=True))
    if draw(st.booleans()):
        header = list(columns)           # often a full, correct header: the cell rules get exercised
    base = [r for r in EXAMPLE_ROWS[name][1:]]
    n = draw(st.integers(0, 6))
    rows = []
    for _ in range(n):
        if base and draw(st.booleans()):
            src = dict(zip(EXAMPLE_ROWS[name][0], draw(st.sampled_from(base))))
            row = [src.get(h, "") for h in header]
            if row and draw(st.booleans()):
                row[draw(st.integers(0, len(row) - 1))] = draw(cells)
        else:
            row = [draw(cells) for _ in header]
        if draw(st.integers(0, 9)) == 0:
            row = row + [draw(cells)]    # a ragged row now and then
        rows.append(row)
    return [header] + rows


@st.composite
def project(draw):
    files = {}
    for name in TABLE_NAMES:
        if name in ("studies", "arms", "outcomes") or draw(st.booleans()):
            files[name] = draw(table(name))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    bom = draw(st.booleans())
    plan = draw(st.sampled_from(["example", "missing", "garbage", "unknown_key"]))
    return files, delimiter, bom, plan


def _write(root: Path, files, delimiter, bom, plan):
    for name, rows in files.items():
        buf = io.StringIO()
        csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
        (root / f"{name}.csv").write_text(("\ufeff" if bom else "") + buf.getvalue(), encoding="utf-8")
    text = (EXAMPLE / "netstrata.toml").read_text()
    if plan == "example":
        (root / "netstrata.toml").write_text(text)
    elif plan == "garbage":
        (root / "netstrata.toml").write_text("[project\nname = = 3")
    elif plan == "unknown_key":
        (root / "netstrata.toml").write_text(text.replace("[nodes]", "[nodes]\nlevl = 'x'"))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(project())
def test_random_tables_give_review_or_data_error(spec):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write(root, *spec)
        try:
            review = load_review(root)
        except DataError as exc:
            assert exc.problems and all(str(p) for p in exc.problems)
        else:
            assert isinstance(review, Review) and len(review.fingerprint) == 64


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(TABLE_NAMES[:3]))
def test_random_bytes_give_data_error(data, name):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "p"
        shutil.copytree(EXAMPLE, root)
        (root / f"{name}.csv").write_bytes(data)
        try:
            load_review(root)
        except DataError:
            pass


@settings(max_examples=30, deadline=None)
@given(st.permutations(EXAMPLE_ROWS["outcomes"][1:]), st.permutations(EXAMPLE_ROWS["studies"][1:]))
def test_fingerprint_ignores_row_order(outcomes, studies):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "p"
        shutil.copytree(EXAMPLE, root)
        for name, rows in (("outcomes", outcomes), ("studies", studies)):
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows([EXAMPLE_ROWS[name][0], *rows])
            (root / f"{name}.csv").write_text(buf.getvalue())
        assert load_review(root).fingerprint == load_review(EXAMPLE).fingerprint


@st.composite
def edited_example(draw):
    """The example project with a few random edits: cells swapped within a column, hostile cells,
    dropped rows. Many of these load; the rest must fail with DataError only."""
    files = {name: [list(r) for r in EXAMPLE_ROWS[name]] for name in TABLE_NAMES}
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(TABLE_NAMES))
        rows = files[name]
        if len(rows) < 2:
            continue
        i = draw(st.integers(1, len(rows) - 1))
        action = draw(st.sampled_from(["swap", "swap", "hostile", "drop"]))
        if action == "drop":
            del rows[i]
            continue
        j = draw(st.integers(0, len(rows[0]) - 1))
        column_values = sorted({r[j] for r in EXAMPLE_ROWS[name][1:]})
        rows[i][j] = draw(st.sampled_from(column_values)) if action == "swap" else draw(cells)
    return files


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited_example())
def test_edited_example_gives_review_or_data_error(files):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "p"
        shutil.copytree(EXAMPLE, root)
        _write(root, files, ",", False, "example")
        try:
            review = load_review(root)
        except DataError as exc:
            assert exc.problems
        else:
            # every outcome row is either selected or explained (register) or its study is excluded
            o = review.outcomes
            explained = {(r.study, r.arm, r.outcome, r.row) for r in review.register if r.file == "outcomes.csv"}
            excluded = set(review.exclusions["study"])
            for row, r in o.iterrows():
                assert (r["selected"] or (r["study"], r["arm"], r["outcome"], row) in explained
                        or r["study"] in excluded or r["outcome"] not in review.plan.outcome_ids)
