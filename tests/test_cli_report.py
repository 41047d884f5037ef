"""``netstrata report``: from results.json (CliRunner) and from a project folder."""
from __future__ import annotations

from importlib import resources

from click.testing import CliRunner

from netstrata.cli import main

EXAMPLE = resources.files("netstrata").joinpath("examples", "spine-landmark")


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cli_report_from_results_json(tmp_path):
    assert _run("run", str(EXAMPLE), "--out", str(tmp_path), "--quiet", "--workers", "1").exit_code == 0
    out = tmp_path / "from-json.html"
    res = _run("report", str(tmp_path / "results.json"), "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output and str(out) in res.output
    html = out.read_text(encoding="utf-8")
    for text in ("Stratified versus lumped", "Lumbar \u00b7 Facet (zygapophysial) joint pain \u00b7 Treatment success",
                 "Risk ratio (95% CI)", "1.28 (0.69 to 2.39)", "Network geometry", "Lord 1996",
                 "Very low (provisional)", "What it means", "Technical fidelity per arm", "Flagged imbalances",
                 "doi:10.1371/journal.pmed.1003082", "Known trials (omission check)"):
        assert text in html, text
    assert "<svg" in html and "No summary-of-findings table" not in html
    # the report built from results.json is the one run wrote, byte for byte
    assert html == (tmp_path / "report.html").read_text(encoding="utf-8")


def test_cli_report_default_output_beside_results(tmp_path):
    assert _run("run", str(EXAMPLE), "--out", str(tmp_path), "--quiet").exit_code == 0
    (tmp_path / "report.html").unlink()
    res = _run("report", str(tmp_path / "results.json"))
    assert res.exit_code == 0 and (tmp_path / "report.html").is_file()


def test_cli_report_bad_json_is_a_clear_error(tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text('{"schema_version": 1}', encoding="utf-8")
    res = _run("report", str(bad))
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "results.json" in res.output


def test_cli_report_project_with_baseline_risk_shows_absolute_effects(tmp_path):
    """[report] baseline_risk in the plan: events per 1000 = 1000 * (RR * p0 - p0) (GRADE, Guyatt
    2013), in `report PROJECT`, in `run`'s report and in `run`'s summary alike (defect: `run`
    ignored the baseline risk, so one project gave two summaries)."""
    import math
    import shutil

    project = tmp_path / "p"
    shutil.copytree(str(EXAMPLE), project)
    toml = project / "netstrata.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[report]\nbaseline_risk = { success = 0.3 }\n",
                    encoding="utf-8")
    # RFN_FACET vs sham_procedure (the reference) in the lumbar facet stratum: log RR 0.246605677050526
    rr = math.exp(0.246605677050526)
    per = f"{1000 * (rr * 0.3 - 0.3):.0f} ("
    out = tmp_path / "r.html"
    res = _run("report", str(project), "--out", str(out))
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "Per 1000 (95% CI)" in html and "baseline risk of 300 per 1000" in html and per in html
    ran = _run("run", str(project), "--out", str(tmp_path / "run"), "--workers", "1")
    assert ran.exit_code == 0, ran.output
    run_html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "Per 1000 (95% CI)" in run_html and per in run_html
    assert f"{1000 * (rr * 0.3 - 0.3):+.0f} per 1000" in ran.output and "at baseline 300 per 1000" in ran.output
