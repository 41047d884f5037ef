"""A multiverse on local processes runs in the background while the run's other stages run
(start_multiverse / PendingMultiverse): results are those of the serial run, byte for byte."""
from __future__ import annotations

import threading

import pandas as pd
import pytest

import netstrata
from netstrata.synthesis import SerialExecutor, analyse_review
from netstrata.synthesis import multiverse as mvmod
from netstrata.synthesis.choices import Choices
from netstrata.synthesis.config import parse_sensitivity

from .test_data_support import copy_example, set_sensitivity
from .test_multiverse import SENSITIVITY


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    return netstrata.load_review(set_sensitivity(copy_example(tmp_path_factory.mktemp("pending")), SENSITIVITY))


@pytest.fixture(scope="module")
def serial(review):
    return analyse_review(review, seed=3, executor=SerialExecutor(), progress=False)


@pytest.fixture
def two_processes(monkeypatch):
    """Processes chosen whatever the machine's load (the choice is tested in test_multiverse_scale)."""
    monkeypatch.setattr(mvmod, "choose_workers", lambda n, per_spec, workers=None, load=None: 2)


def _sens(review):
    return parse_sensitivity(review.plan.sections.get("sensitivity"), review.plan, review.pack)


def test_batches_run_in_the_background_and_give_the_serial_result(review, serial, two_processes):
    seen = []
    pending = mvmod.start_multiverse(review, _sens(review), serial.settings,
                                     primary=Choices(node_level=review.plan.node_level), seed=3, progress=False,
                                     log=seen.append)
    assert pending._pool is not None and pending._thread is not None      # the caller goes on meanwhile
    assert any("2 local processes" in m for m in seen)
    assert any(t.name == "netstrata-multiverse" for t in threading.enumerate()) or not pending._thread.is_alive()
    res = pending.result()
    assert pending._pool is None                                          # shut down
    pd.testing.assert_frame_equal(res.curve, serial.multiverse.curve)
    pd.testing.assert_frame_equal(res.robustness, serial.multiverse.robustness)


def test_whole_run_with_a_background_multiverse_is_byte_identical(review, serial, two_processes):
    assert analyse_review(review, seed=3, progress=False).to_json() == serial.to_json()


def test_a_failing_stage_stops_the_background_processes(review, serial, two_processes, monkeypatch):
    from netstrata.synthesis import pipeline
    started = []
    real = mvmod.start_multiverse

    def start(*a, **k):
        started.append(real(*a, **k))
        return started[-1]
    monkeypatch.setattr(pipeline, "start_multiverse", start)

    def boom(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(pipeline, "_stages", boom)
    with pytest.raises(KeyboardInterrupt):
        analyse_review(review, seed=3, progress=False)
    assert started and started[0]._pool is None                           # cancelled, not left running


def test_an_error_in_the_batches_is_raised_by_result():
    def collect():
        raise ValueError("batch 3 failed")

    class Pool:
        def shutdown(self, wait=True, cancel_futures=False):
            self.down = True
    pool = Pool()
    pending = mvmod.PendingMultiverse(collect, lambda: "assembled", pool)
    with pytest.raises(ValueError, match="batch 3 failed"):
        pending.result()
    assert pool.down


def test_results_json_of_run_is_the_results_to_json(review, tmp_path, two_processes):
    """run_project converts the parts that do not depend on the multiverse while it runs
    (ProjectResult.analysis_dict); the file is still exactly ProjectResult.to_json()."""
    from netstrata.synthesis.jsontext import encode_bytes
    from netstrata.synthesis.pipeline import run_project
    out = run_project(review.path, out_dir=tmp_path / "o", seed=3, quiet=True)
    assert out.json_path.read_bytes() == encode_bytes(out.result.to_dict())
    assert out.result.to_dict(analysis=out.result.analysis_dict()) == out.result.to_dict()
