"""Aside: a job in a forked child while this process writes the rest (the run's HTML report)."""
from __future__ import annotations

import threading

import pytest

from netstrata.synthesis import pipeline
from netstrata.synthesis.aside import Aside

from .test_data_support import EXAMPLE


def _write(path, text):
    path.write_text(text, "utf-8")
    return path


def _none(*_):
    return None


def _boom(*_):
    raise RuntimeError("no")


def test_child_writes_and_reports_success(tmp_path):
    job = Aside(_write, tmp_path / "a.txt", "hello")
    assert job.forked == (threading.active_count() == 1)
    assert job.result() is True and (tmp_path / "a.txt").read_text("utf-8") == "hello"


@pytest.mark.parametrize("fn", [_none, _boom])
def test_a_job_that_returns_none_or_fails_is_not_a_success(fn, capfd):
    job = Aside(fn, 1)
    if job.forked:
        assert job.result() is False
    else:
        with pytest.raises(RuntimeError) if fn is _boom else _nothing():
            assert job.result() is False


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_not_forked_when_disabled_or_another_thread_runs(tmp_path):
    assert not Aside(_write, tmp_path / "b.txt", "x", enabled=False).forked
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        job = Aside(_write, tmp_path / "c.txt", "y")
        assert not job.forked and job.result() is True          # runs here instead
    finally:
        stop.set()
        t.join()


def test_report_written_aside_is_the_report_written_here(tmp_path, monkeypatch):
    from netstrata.cli.run import run_project
    monkeypatch.setattr(pipeline, "_aside_pays", lambda workers: True)
    made = []
    monkeypatch.setattr(pipeline, "Aside", lambda *a, **k: made.append(Aside(*a, **k)) or made[-1])
    alone = threading.active_count() == 1
    aside = run_project(EXAMPLE, out_dir=tmp_path / "aside", quiet=True)
    assert len(made) == 1 and made[0].forked == alone
    monkeypatch.setattr(pipeline, "_aside_pays", lambda workers: False)
    here = run_project(EXAMPLE, out_dir=tmp_path / "here", quiet=True)
    assert aside.report_path and here.report_path and not aside.failed
    assert aside.report_path.read_bytes() == here.report_path.read_bytes()


def test_a_report_that_cannot_be_written_aside_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "_aside_pays", lambda workers: True)
    out = pipeline.run_project(EXAMPLE, out_dir=tmp_path / "o", report_writer=_none)
    assert out.report_path is None and out.failed == ("report.html: the report could not be written",)
    assert (tmp_path / "o" / "results.json").exists() and not (tmp_path / "o" / "report.html").exists()


def _loud(path):
    import sys
    print("to stdout")
    print("the report could not be written (boom)", file=sys.stderr)
    return None


def test_what_the_job_prints_reaches_this_process(tmp_path, capsys):
    """A forked job's output is printed by this process (a terminal or a test's capture sees it)."""
    job = Aside(_loud, tmp_path)
    assert job.result() is False
    got = capsys.readouterr()
    assert got.out == "to stdout\n" and got.err == "the report could not be written (boom)\n"
