"""`netstrata demo` and `netstrata validate PROJECT` through click's CliRunner."""
from __future__ import annotations

from click.testing import CliRunner

from netstrata.cli import main

from .test_data_support import EXAMPLE, copy_example, set_cell


def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_demo_prints_summary_and_runs_the_full_flow(tmp_path):
    out_dir = tmp_path / "demo"
    res = _run("demo", "--out", str(out_dir), "--quiet", "--workers", "1")
    assert res.exit_code == 0, res.output
    assert (out_dir / "results.json").is_file() and (out_dir / "report.html").is_file()
    assert f"Open the report in a browser: {out_dir / 'report.html'}" in res.output
    out = res.output
    for part in ("Studies by design:", "RCT                8", "single_arm         2", "Arms: 19",
                 "success          binary     RR", "Candidate nodes at level 'family'", "sham_procedure",
                 "Exclusion register: 19 rows", "time_point_not_reported", "n_not_reported",
                 "Ghahreman 2010: mixed_duration_population; arm_sizes_not_verified",
                 "Known trials (omission check):"):
        assert part in out, part
    assert "Traceback" not in out


def test_demo_other_level():
    res = _run("demo", "--level", "technique", "--validate-only")
    assert res.exit_code == 0 and "Candidate nodes at level 'technique'" in res.output
    bad = _run("demo", "--level", "nope")
    assert bad.exit_code == 2 and "must be one of" in bad.output and bad.exception is not None
    assert "Traceback" not in bad.output


def test_validate_ok():
    res = _run("validate", str(EXAMPLE))
    assert res.exit_code == 0
    assert res.output.startswith("OK: 10 studies, 19 arms, 27 outcome rows, 19 exclusion-register rows")


def test_validate_verbose():
    res = _run("validate", "-v", str(EXAMPLE))
    assert res.exit_code == 0 and "Exclusion register" in res.output


def test_validate_reports_problems_without_traceback(tmp_path):
    p = copy_example(tmp_path)
    set_cell(p, "outcomes", 2, "sd", "-1")
    set_cell(p, "arms", 3, "energy", "coold")
    res = _run("validate", str(p))
    assert res.exit_code == 1
    assert "2 problems found" in res.output
    assert "outcomes.csv, row 2, column 'sd', study 'Lord 1996'" in res.output
    assert "did you mean 'cooled'?" in res.output
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit)


def test_validate_missing_folder(tmp_path):
    res = _run("validate", str(tmp_path / "nothing"))
    assert res.exit_code == 1 and "not a review project" in res.output


def test_validate_workbook(tmp_path):
    from .test_loader_xlsx import make_workbook
    book = make_workbook(tmp_path / "review.xlsx", plan_sheet=True)
    res = _run("validate", str(book))
    assert res.exit_code == 0 and res.output.startswith("OK: 10 studies")
    bad = make_workbook(tmp_path / "bad.xlsx", rename={"arms": "Arms"}, plan_sheet=True)
    res = _run("validate", str(bad))
    assert res.exit_code == 1 and "no sheet named 'arms'" in res.output and "did you mean 'Arms'?" in res.output
