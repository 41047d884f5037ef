"""The bundled example projects: regenerable, loadable, and analysed deterministically."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from netstrata.cli import main
from netstrata.data import example_path, load_review

EXAMPLES = Path(example_path()).parent
SIMULATED = EXAMPLES / "simulated-spine"
GENERATED = ("studies.csv", "arms.csv", "outcomes.csv", "fidelity.csv", "netstrata.toml", "truth.json")


def test_simulated_example_is_regenerated_byte_for_byte(tmp_path):
    out = tmp_path / "sim"
    result = CliRunner().invoke(main, ["simulate", str(out), "--seed", "2026"])
    assert result.exit_code == 0, result.output
    for name in GENERATED:
        assert (out / name).read_bytes() == (SIMULATED / name).read_bytes(), name


def test_simulated_example_loads_with_its_multiverse():
    review = load_review(SIMULATED)
    assert len(review.studies) == 40
    assert "sensitivity" in review.plan.sections


def test_multiverse_of_simulated_example_runs_from_cli_deterministically(tmp_path):
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = CliRunner().invoke(main, ["run", str(SIMULATED), "--out", str(out), "--quiet", "--workers", "1"])
        assert result.exit_code == 0, result.output
        outs.append((out / "results.json").read_bytes())
    assert outs[0] == outs[1]
    assert b'"multiverse"' in outs[0]
