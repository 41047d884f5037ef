"""Issue 19, outputs: nothing stale, nothing half-written, nothing a spreadsheet or terminal runs.

Each test is named after a finding of the hostile-but-fair probe.
"""
from __future__ import annotations

import csv
import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from netstrata._io import OutputSet, recover_output_folder
from netstrata._text import BIDI_CONTROLS, neutralise_cell, safe_csv_frame
from netstrata.cli import main

from .test_data_support import copy_example, read_rows, set_sensitivity, write_rows

FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _quick_project(tmp_path: Path) -> Path:
    """The example without its multiverse (runs in seconds)."""
    return set_sensitivity(copy_example(tmp_path), "")


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _old_set(out: Path) -> dict[str, str]:
    """A previous run's outputs, each file marked OLD."""
    (out / "tables").mkdir(parents=True)
    files = {"results.json": '{"old": true}\n', "report.html": "<p>OLD report</p>\n",
             "tables/comparisons.csv": "OLD\n", "tables/specifications.csv": "OLD multiverse\n"}
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return files


def _listing(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))


def _rename_study(project: Path, old: str, new: str) -> None:
    for f in project.glob("*.csv"):
        rows = read_rows(f)
        write_rows(f, [[new if c == old else c for c in r] for r in rows])
    toml = project / "netstrata.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(f'"{old}"', json.dumps(new)), encoding="utf-8")


# ----------------------------------------------------------------- output sets

def test_rerun_without_sensitivity_removes_the_stale_multiverse_tables(tmp_path):
    out = tmp_path / "out"
    _old_set(out)
    (out / "my-notes.txt").write_text("mine")                   # not an output: never touched
    res = _run("run", _quick_project(tmp_path), "--out", out, "--quiet")
    assert res.exit_code == 0, res.output
    assert not (out / "tables" / "specifications.csv").exists()
    assert "OLD" not in (out / "report.html").read_text(encoding="utf-8")
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["name"] == "spine-landmark"
    assert (out / "my-notes.txt").read_text() == "mine"
    assert not [n for n in _listing(out) if ".netstrata" in n or n.endswith(".tmp")]


def test_failed_report_exits_non_zero_and_leaves_no_stale_report(tmp_path, monkeypatch):
    import netstrata.cli.report as report

    def broken(result, path, **kwargs):
        raise RuntimeError("figure backend exploded")
    monkeypatch.setattr(report, "write_html", broken)
    out = tmp_path / "out"
    _old_set(out)
    res = _run("run", _quick_project(tmp_path), "--out", out, "--quiet")
    assert res.exit_code == 1
    assert "report could not be written" in res.output and "figure backend exploded" in res.output
    assert not (out / "report.html").exists()                    # the old report is not left beside new results
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["name"] == "spine-landmark"


def test_full_disk_leaves_the_previous_outputs_untouched(tmp_path, monkeypatch):
    import netstrata._io as io
    real = io.atomic_write_bytes

    def full(path, data):
        if Path(path).name == "register.csv":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)
    monkeypatch.setattr(io, "atomic_write_bytes", full)
    out = tmp_path / "out"
    files = _old_set(out)
    res = _run("run", _quick_project(tmp_path), "--out", out, "--quiet")
    assert res.exit_code == 1 and "No space left" in res.output and "previous run" in res.output
    assert {n: (out / n).read_text(encoding="utf-8") for n in files} == files
    assert _listing(out) == sorted({*files, "tables"})


def test_atomic_write_never_leaves_a_truncated_file(tmp_path, monkeypatch):
    from netstrata._io import atomic_write_text
    target = tmp_path / "results.json"
    target.write_text("complete previous content")

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError):
        atomic_write_text(target, "x" * 100_000)
    assert target.read_text() == "complete previous content" and os.listdir(tmp_path) == ["results.json"]


def test_swap_cut_short_by_a_crash_is_rolled_forward(tmp_path):
    out = tmp_path / "out"
    _old_set(out)
    outputs = OutputSet(out, ("results.json", "tables", "report.html"))
    outputs.path("results.json").write_text("NEW")
    outputs.path("tables").mkdir()
    outputs.path("tables/comparisons.csv").write_text("NEW")
    # what commit() does, stopped after the journal and the first rename (as by a power cut)
    journal = {"staging": outputs.staging.name, "old": outputs._old.name,
               "names": list(outputs.names), "new": ["results.json", "tables"]}
    (out / ".netstrata-swap.json").write_text(json.dumps(journal))
    outputs._old.mkdir()
    os.replace(out / "results.json", outputs._old / "results.json")
    os.replace(outputs.staging / "results.json", out / "results.json")
    recover_output_folder(out)
    assert (out / "results.json").read_text() == "NEW" and (out / "tables/comparisons.csv").read_text() == "NEW"
    assert not (out / "report.html").exists() and not (out / "tables/specifications.csv").exists()
    assert _listing(out) == ["results.json", "tables", "tables/comparisons.csv"]


_RUN = """
import sys
from netstrata.cli import main
sys.exit(main(["run", sys.argv[1], "--out", sys.argv[2], "--quiet", "--workers", "1"]))
"""


def _set_is_consistent(out: Path, old: dict) -> str:
    """'old' if the folder holds exactly the previous set, 'new' if a complete new set."""
    names = _listing(out)
    if {n: (out / n).read_text(encoding="utf-8") for n in old if (out / n).exists()} == old \
            and names == sorted({*old, "tables"}):
        return "old"
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["name"] == "spine-landmark"
    assert "OLD" not in (out / "report.html").read_text(encoding="utf-8")
    assert "tables/specifications.csv" not in names and (out / "tables" / "register.csv").is_file()
    assert not [n for n in names if n.startswith(".netstrata")]
    return "new"


def test_sigint_mid_run_leaves_the_old_set_or_the_new_set(tmp_path):
    project = _quick_project(tmp_path)
    seen = set()
    for i, delay in enumerate((0.3, 1.5, 3.0, 5.0, 8.0, None)):   # None: never interrupted
        out = tmp_path / f"out{i}"
        old = _old_set(out)
        proc = subprocess.Popen([sys.executable, "-c", _RUN, str(project), str(out)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            proc.wait(timeout=delay if delay is not None else 600)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=120)
        err = proc.stderr.read().decode()
        state = _set_is_consistent(out, old)
        assert state == "new" or proc.returncode != 0, (state, proc.returncode, err)   # never "done" on the old set
        if proc.returncode == 130:
            assert "keeps the previous run's outputs" in err
        seen.add(state)
    assert seen == {"old", "new"}          # both outcomes happened (the last run is never interrupted)


# ----------------------------------------------------------------- unsafe text

@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://evil\",\"Lord\")", "+1+cmd|' /C calc'!A0", "-2+3",
                                  "@SUM(A1:A9)", "\tLord 1996", "=1+1\u202e"])
def test_study_names_that_start_a_formula_are_neutralised_in_tables_csv(tmp_path, name):
    p = _quick_project(tmp_path)
    _rename_study(p, "Lord 1996", name)
    out = tmp_path / "out"
    res = _run("run", p, "--out", out, "--quiet")
    assert res.exit_code == 0, res.output
    found, numbers = False, 0
    for f in (out / "tables").glob("*.csv"):
        for row in list(csv.reader(open(f, encoding="utf-8", newline="")))[1:]:
            for cell in row:
                assert not cell.startswith(FORMULA) or re.fullmatch(r"-?[\d.]+(e-?\d+)?", cell), (f.name, cell)
                assert not set(cell) & set(BIDI_CONTROLS)
                found |= cell.startswith("'") and name.strip("\t\u202e")[1:6] in cell
                numbers += bool(re.fullmatch(r"-\d.*", cell))
    assert found and numbers > 0          # the name is there, neutralised; negative numbers stay numbers


def test_compare_extractions_csv_neutralises_text_but_keeps_negative_numbers(tmp_path):
    head = ["study", "arm", "outcome", "timepoint_weeks", "mean", "definition"]
    a, b, out = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "d.csv"
    write_rows(a, [head, ["=cmd|' /C calc'!A0", "rf", "pain", "4", "-0.18", "@risk"]])
    write_rows(b, [head, ["=cmd|' /C calc'!A0", "rf", "pain", "4", "-0.19", "+x"]])
    res = _run("compare-extractions", a, b, "--csv", out)
    assert res.exit_code == 1
    rows = list(csv.DictReader(open(out, encoding="utf-8", newline="")))
    assert {r["study"] for r in rows} == {"'=cmd|' /C calc'!A0"}
    mean = next(r for r in rows if r["column"] == "mean")
    assert (mean["value_a"], mean["value_b"]) == ("-0.18", "-0.19")
    defn = next(r for r in rows if r["column"] == "definition")
    assert (defn["value_a"], defn["value_b"]) == ("'@risk", "'+x")


def test_neutralise_cell_follows_owasp_and_spares_numbers():
    assert [neutralise_cell(x) for x in ("=1", "+1a", "-a", "@a", "\ta", "\ra", "ok", "-0.5", "+3", "1e-9")] == \
        ["'=1", "'+1a", "'-a", "'@a", "'\ta", "'\ra", "ok", "-0.5", "+3", "1e-9"]
    assert neutralise_cell("\uff1dcmd") == "'\uff1dcmd" and neutralise_cell(3.5) == 3.5
    import pandas as pd
    frame = safe_csv_frame(pd.DataFrame({"s": ["=x", None], "v": [-1.5, 2.0]}))
    assert frame["s"].tolist()[0] == "'=x" and frame["v"].tolist() == [-1.5, 2.0]


def test_bidi_override_characters_are_visible_in_csv_and_cli_output(tmp_path):
    p = _quick_project(tmp_path)
    sneaky = "Lord 1996 \u202egnp.exe\u202c \u2066x\u2069"
    _rename_study(p, "Lord 1996", sneaky)
    out = tmp_path / "out"
    res = _run("run", p, "--out", out, "--quiet")
    assert res.exit_code == 0, res.output
    res = _run("validate", "--verbose", p)
    assert "<U+202E>gnp.exe<U+202C>" in res.output and not set(res.output) & set(BIDI_CONTROLS)
    text = "".join(f.read_text(encoding="utf-8") for f in (out / "tables").glob("*.csv"))
    assert "<U+202E>" in text and "<U+2066>" in text and not set(text) & set(BIDI_CONTROLS)


def test_report_has_a_content_security_policy_forbidding_scripts_and_remote_loads():
    from netstrata.present import Overview, ReportContext, render_report
    html = render_report(ReportContext(overview=Overview(project="p", software={})))
    head = html[:html.index("</head>")]
    (csp,) = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', head)
    rules = dict(r.strip().split(" ", 1) for r in csp.split(";"))
    assert rules["default-src"] == "'none'" and rules["script-src"] == "'none'"
    assert rules["img-src"] == "data:" and "http" not in csp
    assert head.index("Content-Security-Policy") < head.index("<style")


@pytest.mark.parametrize("text", ["[]", '{"name": "x", "strata": "oops"}', "{not json",
                                  '{"schema_version": 1, "name": "x", "strata": [{"layers": 5}]}',
                                  '{"schema_version": 2, "name": "x", "strata": []}', "\ufffe\x00"])
def test_report_on_a_malformed_results_json_gives_a_clear_error(tmp_path, text):
    f = tmp_path / "results.json"
    f.write_text(text, encoding="utf-8")
    res = _run("report", f)
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
    assert "results.json" in res.output and "Traceback" not in res.output


def test_report_from_results_json_is_written_atomically(tmp_path):
    p = _quick_project(tmp_path)
    out = tmp_path / "out"
    assert _run("run", p, "--out", out, "--quiet").exit_code == 0
    (out / "report.html").unlink()
    t = time.time()
    res = _run("report", out / "results.json")
    assert res.exit_code == 0 and (out / "report.html").stat().st_mtime >= t - 1
    assert sorted(os.listdir(out)) == ["report.html", "results.json", "tables"]
