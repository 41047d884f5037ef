"""The multiverse at scale: shared work across specifications, streaming to disk, resuming after
an interruption, Dask distributed (a real LocalCluster), and the report's pre-rendered figures.

Every test compares results (bytes of results.json, frames), never times.
"""
from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

import netstrata
from netstrata.cli import main
from netstrata.synthesis import SerialExecutor, analyse_review
from netstrata.synthesis import multiverse as mvmod
from netstrata.synthesis.canonical import canonical_review
from netstrata.synthesis.choices import Choices
from netstrata.synthesis.config import parse_sensitivity
from netstrata.synthesis.multiverse import run_multiverse, specifications
from netstrata.synthesis.multiverse_store import batch_size
from netstrata.synthesis.parallel import choose_workers, run_batches
from netstrata.synthesis.records import prepare
from netstrata.synthesis.specrun import SpecRunner

from .test_data_support import EXAMPLE, copy_example, set_sensitivity

SENSITIVITY = """
[sensitivity]
node_level = ["family", "technique", "wang2025"]
design = ["randomised", "comparative"]
time_window = ["plan", "closest to 3 months"]
selection = ["any", "selection_reporting=explicit"]
fidelity = ["any", "fidelity_tier=T1|T2"]
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return set_sensitivity(copy_example(tmp_path_factory.mktemp("scale")), SENSITIVITY)


@pytest.fixture(scope="module")
def review(project):
    return netstrata.load_review(project)


@pytest.fixture(scope="module")
def plain(review):
    """Every specification in this process, no store: the reference result."""
    return analyse_review(review, seed=5, executor=SerialExecutor(), progress=False)


def _parts(review):
    plan = review.plan
    sens = parse_sensitivity(plan.sections.get("sensitivity"), plan, review.pack)
    return sens, specifications(sens, Choices(node_level=plan.node_level), 5)


def test_runner_records_equal_prepare_for_every_specification(review):
    """A specification's records from the shared base equal prepare() run on its own."""
    review = canonical_review(review)
    sens, specs = _parts(review)
    runner = SpecRunner(review, None, tuple(review.plan.strata), review.plan.node_level)
    assert len(specs) == 48
    for spec in specs:
        fast, own = runner.prepared(spec.choices), prepare(review, spec.choices)
        for a, b in ((fast.contrasts, own.contrasts), (fast.rates, own.rates)):
            if len(a) or len(b):
                pd.testing.assert_frame_equal(a, b.reset_index(drop=True))
            else:     # empty: same columns (an empty frame built from no rows has object dtypes)
                assert list(a.columns) == list(b.columns)
        assert fast.roles == own.roles and fast.node_level == own.node_level


def test_memo_shares_fits_and_leaves_results_unchanged(review, plain):
    """Fewer stratum fits than specifications x strata, and the curve of the plain run."""
    review = canonical_review(review)
    settings = plain.settings
    sens, specs = _parts(review)
    runner = SpecRunner(review, settings, tuple(review.plan.strata), review.plan.node_level)
    rows = [r for s in specs for r in runner.rows(s)]
    n_strata = len(plain.strata) + len(plain.lumped)
    assert 0 < runner.fits < len(specs) * n_strata
    curve = mvmod._curve(rows, review.plan)
    pd.testing.assert_frame_equal(curve, plain.multiverse.curve)


class Interrupting:
    """Runs batches in order and stops the run (KeyboardInterrupt) after ``after`` of them."""

    def __init__(self, after: int):
        self.after = after

    def map(self, fn, iterable):
        for i, chunk in enumerate(iterable):
            if i == self.after:
                raise KeyboardInterrupt
            yield fn(chunk)


def test_interrupted_multiverse_resumes_without_redoing_finished_work(review, plain, tmp_path, monkeypatch):
    store = tmp_path / "store"
    sens, specs = _parts(review)
    kw = dict(primary=Choices(node_level=review.plan.node_level), seed=5, progress=False)
    settings = plain.settings
    with pytest.raises(KeyboardInterrupt):
        run_multiverse(review, sens, settings, executor=Interrupting(3), store=store, **kw)
    parts = sorted((store / "parts").glob("part-*.npz"))
    size = batch_size(len(specs))
    assert len(parts) == 4                       # the first batch (run in-process) and three more
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in parts}
    evaluated = []
    original = SpecRunner.rows
    monkeypatch.setattr(SpecRunner, "rows", lambda self, spec: evaluated.append(spec.index) or original(self, spec))
    messages = []
    resumed = run_multiverse(review, sens, settings, executor=SerialExecutor(), store=store, resume=True,
                             log=messages.append, **kw)
    finished = {s.index for p in parts for s in specs[int(p.stem.split("-")[1]) * size:][:size]}
    assert not finished & set(evaluated)
    assert sorted(evaluated) == sorted(set(range(len(specs))) - finished)
    assert any("resuming, 4 of 48" in m for m in messages)
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in parts} == before
    pd.testing.assert_frame_equal(resumed.curve, plain.multiverse.curve)
    pd.testing.assert_frame_equal(resumed.robustness, plain.multiverse.robustness)


def test_store_of_another_run_is_not_reused(review, plain, tmp_path):
    store = tmp_path / "store"
    sens, _ = _parts(review)
    kw = dict(primary=Choices(node_level=review.plan.node_level), progress=False, store=store)
    with pytest.raises(KeyboardInterrupt):
        run_multiverse(review, sens, plain.settings, seed=5, executor=Interrupting(1), **kw)
    from netstrata.synthesis.config import ModelSettings
    other = ModelSettings(network="REML")
    again = run_multiverse(review, sens, other, seed=5, executor=SerialExecutor(), resume=True, **kw)
    fresh = run_multiverse(review, sens, other, seed=5, executor=SerialExecutor(), progress=False,
                           primary=Choices(node_level=review.plan.node_level))
    pd.testing.assert_frame_equal(again.curve, fresh.curve)


def test_large_multiverse_streams_curve_to_csv(review, plain, tmp_path, monkeypatch):
    """Above the in-memory limit the curve goes to a CSV file and robustness is accumulated
    batch by batch: both equal the in-memory results."""
    monkeypatch.setattr(mvmod, "CURVE_IN_MEMORY_ROWS", 10)
    sens, _ = _parts(review)
    res = run_multiverse(review, sens, plain.settings, primary=Choices(node_level=review.plan.node_level), seed=5,
                         executor=SerialExecutor(), progress=False, store=tmp_path / "multiverse")
    assert res.curve_file == "multiverse/specification_curve.csv" and len(res.curve) == 0
    streamed = pd.read_csv(tmp_path / res.curve_file, keep_default_na=False, na_values=[""])
    expected = pd.read_csv(_csv(plain.multiverse.curve), keep_default_na=False, na_values=[""])
    pd.testing.assert_frame_equal(streamed, expected)
    pd.testing.assert_frame_equal(res.robustness, plain.multiverse.robustness, check_dtype=False)


def _csv(frame):
    import io
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.17g")
    buf.seek(0)
    return buf


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_resume_gives_the_uninterrupted_bytes(project, tmp_path, monkeypatch):
    from netstrata.cli.run import run_project
    monkeypatch.setattr(mvmod, "STREAM_MIN_SPECIFICATIONS", 10)     # 48 specifications: stream them
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert _run("run", project, "--out", whole, "--quiet", "--workers", "1").exit_code == 0
    with pytest.raises(KeyboardInterrupt):
        run_project(project, out_dir=cut, executor=Interrupting(2), quiet=True, report=False)
    assert not (cut / "results.json").exists() and len(list((cut / "multiverse" / "parts").iterdir())) == 3
    res = _run("run", project, "--out", cut, "--resume", "--workers", "1")
    assert res.exit_code == 0, res.output
    assert "multiverse: resuming, 3 of 48 specifications already done" in res.output
    assert (cut / "results.json").read_bytes() == (whole / "results.json").read_bytes()
    assert not (cut / "multiverse").exists()            # parts removed once the outputs are written


def test_quiet_prints_nothing(tmp_path):
    res = _run("run", EXAMPLE, "--out", tmp_path / "q", "--quiet")
    assert res.exit_code == 0 and res.output == ""


def test_small_multiverse_interrupted_leaves_nothing_beside_the_outputs(project, tmp_path):
    """Below STREAM_MIN_SPECIFICATIONS the multiverse runs in memory: no store folder."""
    from netstrata.cli.run import run_project
    with pytest.raises(KeyboardInterrupt):
        run_project(project, out_dir=tmp_path / "o", executor=Interrupting(2), quiet=True, report=False)
    assert not (tmp_path / "o" / "multiverse").exists()


def test_choose_workers_follows_measured_cost_and_load(monkeypatch):
    monkeypatch.setattr("netstrata.synthesis.parallel.default_workers", lambda: 2)
    assert choose_workers(100, 0.0001, 2, load=0.0) == 1        # 10 ms of work: serial
    assert choose_workers(100, 0.05, 2, load=0.0) == 2          # 5 s of work on an idle machine: both cores
    assert choose_workers(100, 0.05, 2, load=1.0) == 2          # this process is the load
    assert choose_workers(100, 0.05, 2, load=6.0) == 1          # cores busy with other jobs: serial
    assert choose_workers(100, 0.05, 1, load=0.0) == 1
    assert choose_workers(1, 10.0, 4, load=0.0) == 1


def test_run_batches_streams_every_batch_once_in_any_executor():
    from concurrent.futures import ThreadPoolExecutor
    chunks = [[1, 2], [3], [4, 5, 6]]
    for ex in (None, SerialExecutor(), ThreadPoolExecutor(2)):
        got = dict(run_batches(lambda x: x * 10, chunks, executor=ex, done={1}))
        assert got == {0: [10, 20], 2: [40, 50, 60]}


def test_prerendered_report_is_identical():
    """Displays rendered ahead of time in worker processes give the report's exact bytes."""
    from netstrata.present import render_report
    from netstrata.present.example import example_context
    from netstrata.present.render import displays, prerender
    a, b = example_context(), example_context()
    assert prerender(a, workers=2) == len(displays(a)) > 3
    assert prerender(a) == 0                      # nothing left to render
    assert render_report(a) == render_report(b)


# ----------------------------------------------------------------- Dask distributed (real LocalCluster)

@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as c:
        yield c


def test_localcluster_results_byte_identical_to_local_run(cluster, review, plain, project, tmp_path):
    from distributed import Client
    with Client(cluster) as client:
        remote = analyse_review(review, seed=5, executor=client, progress=False)
    assert remote.to_json().encode() == plain.to_json().encode()
    local, dask = tmp_path / "local", tmp_path / "dask"
    assert _run("run", project, "--out", local, "--quiet", "--workers", "1").exit_code == 0
    res = _run("run", project, "--out", dask, "--quiet", "--scheduler", cluster.scheduler_address)
    assert res.exit_code == 0, res.output
    assert (dask / "results.json").read_bytes() == (local / "results.json").read_bytes()


def test_scheduler_that_cannot_be_reached_is_a_clear_error(tmp_path):
    pytest.importorskip("distributed")
    res = _run("run", EXAMPLE, "--out", tmp_path / "x", "--quiet", "--scheduler", "tcp://127.0.0.1:9")
    assert res.exit_code != 0 and "cannot connect" in res.output


def test_without_an_executor_two_batches_run_here_and_the_rest_as_before(review, plain):
    """The second batch measures a warm specification in this process; the curve is unchanged."""
    sens, specs = _parts(review)
    messages = []
    mv = run_multiverse(review, sens, plain.settings, primary=Choices(node_level=review.plan.node_level),
                        progress=False, log=messages.append, workers=1)
    size = batch_size(len(specs))
    assert any(f"{len(specs)} specifications, {len(specs) - 2 * size} to run (serial;" in m for m in messages)
    pd.testing.assert_frame_equal(mv.curve, plain.multiverse.curve)
