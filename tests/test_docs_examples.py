"""Every example in docs/data-format.md and the README is executed; the format page documents every
table, column, plan section and key.

- ```` ```toml minimal/FILE ```` / ```` ```csv minimal/FILE ```` blocks form the minimal project:
  written to a folder, validated and run.
- other ``toml`` blocks are plan snippets: merged into the minimal project's plan, they must pass
  every plan check (:func:`netstrata.synthesis.checks.plan_problems`).
- ``python`` blocks run in a folder holding the minimal project and the bundled examples.
- ``bash`` blocks: each ``netstrata ...`` line runs through the CLI in document order (after
  ``netstrata init DIR`` the minimal project's files are copied into DIR, as a user fills the
  tables); other shell lines (``make ...``) are not run here.
"""
from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from netstrata.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "data-format.md"
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.S | re.M)


def blocks(path: Path):
    """(language, label, text) of every fenced block."""
    return [(m[1], m[2].strip(), m[3]) for m in FENCE.finditer(path.read_text(encoding="utf-8"))]


def _minimal(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for lang, label, text in blocks(DOC):
        if label.startswith("minimal/"):
            (dest / label.split("/", 1)[1]).write_text(text, encoding="utf-8")
    return dest


def _workspace(tmp_path: Path) -> Path:
    _minimal(tmp_path / "minimal")
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    return tmp_path


def test_minimal_project_validates_and_runs(tmp_path):
    from netstrata.synthesis.validation import validate_project
    project = _minimal(tmp_path / "minimal")
    assert sorted(p.name for p in project.iterdir()) == ["arms.csv", "exclusions.csv", "fidelity.csv",
                                                         "netstrata.toml", "outcomes.csv", "studies.csv"]
    v = validate_project(project)
    assert v.ok, v.problems
    out = CliRunner().invoke(main, ["run", str(project), "--out", str(tmp_path / "out"), "--workers", "1"])
    assert out.exit_code == 0, out.output
    import json
    doc = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert doc["record_counts"]["unaccounted"] == 0
    assert not [n for n in doc["notes"] if "could not" in n or "Error" in n], doc["notes"]
    reasons = {r["reason_code"] for r in doc["register"]} if "register" in doc else set()
    assert not reasons or "time_point_not_selected" in reasons


def _snippets():
    return [text for lang, label, text in blocks(DOC) if lang == "toml" and not label]


@pytest.mark.parametrize("i", range(len(_snippets())))
def test_plan_snippets_pass_every_plan_check(tmp_path, i):
    from netstrata.data.plan import parse_plan
    from netstrata.synthesis.checks import plan_problems
    from netstrata.taxonomy import load_pack
    base = tomllib.loads((_minimal(tmp_path / "m") / "netstrata.toml").read_text(encoding="utf-8"))
    snippet = tomllib.loads(_snippets()[i])
    merged = _merge(base, snippet)
    if "node_level" in merged.get("sensitivity", {}):       # its first alternative must be [nodes] level
        merged["nodes"]["level"] = merged["sensitivity"]["node_level"][0]
    plan = parse_plan(merged)
    assert plan_problems(plan, load_pack(plan.pack)) == []


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@pytest.mark.parametrize("path", [DOC, README], ids=["data-format", "README"])
def test_python_blocks_run(tmp_path, monkeypatch, path):
    code = [text for lang, _, text in blocks(path) if lang == "python"]
    assert code
    monkeypatch.chdir(_workspace(tmp_path))
    namespace = {"__name__": "__doc_example__"}     # the blocks of a page read on from each other
    for text in code:
        exec(compile(text, f"{path.name} python block", "exec"), namespace)


@pytest.mark.parametrize("path", [DOC, README], ids=["data-format", "README"])
def test_shell_blocks_run(tmp_path, monkeypatch, path):
    monkeypatch.chdir(_workspace(tmp_path))
    runner = CliRunner()
    ran = 0
    for lang, _, text in blocks(path):
        if lang not in ("bash", "sh", "console"):
            continue
        for line in text.splitlines():
            cmd = line.split("#", 1)[0].strip()
            if not cmd.startswith("netstrata "):
                continue
            args = shlex.split(cmd)[1:]
            res = runner.invoke(main, args)
            assert res.exit_code == 0, f"{cmd}\n{res.output}"
            ran += 1
            if args[0] == "init":
                _minimal(tmp_path / args[1])
    assert ran or path == README


def _section(text: str, heading: str) -> str:
    """The text of the section whose heading starts with ``heading`` (up to the next heading of
    the same or a higher level)."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("#") and ln.lstrip("#").strip().startswith(heading))
    level = len(lines[start]) - len(lines[start].lstrip("#"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")
                and len(lines[i]) - len(lines[i].lstrip("#")) <= level), len(lines))
    return "\n".join(lines[start:end])


def test_every_table_and_column_is_documented():
    from netstrata.data.spec import TABLES, table_spec
    from netstrata.taxonomy import load_pack
    text = DOC.read_text(encoding="utf-8")
    pack = load_pack("spine")
    for name in TABLES:
        if name.endswith("-b"):
            assert f"`{name}.csv`" in text
            continue
        sec = _section(text, f"`{name}.csv`")
        for col in table_spec(name, pack).columns:
            assert f"`{col.name}`" in sec, f"{name}.{col.name} is not documented"


def test_every_plan_section_and_key_is_documented():
    from netstrata.appraisal.fidelity.appraise import _PLAN_KEYS
    from netstrata.data import plan
    from netstrata.synthesis import config, evidence, panel, transitivity
    from netstrata.synthesis.certainty_plan import CERTAINTY_KEYS
    from netstrata.synthesis.checks import APPRAISAL_KEYS
    text = DOC.read_text(encoding="utf-8")
    keys = {"[project]": plan._PROJECT, "[outcomes.ID]": plan._OUTCOME, "[nodes]": plan._NODES + plan._STRATA
            + plan._KNOWN, "[models]": config._MODELS, "[evidence]": evidence._KEYS,
            "[sensitivity]": (*config.DIMENSIONS, *config._EXTRA_KEYS), "[report]": config._REPORT,
            "[certainty]": (*CERTAINTY_KEYS, *transitivity.PLAN_KEYS), "[appraisal.fidelity]": _PLAN_KEYS,
            "[panel]": (*panel._KEYS, *panel._MEMBER_KEYS)}
    for heading, names in keys.items():
        sec = _section(text, f"`{heading}")
        for k in names:
            assert re.search(rf"(^|[\s`]){re.escape(k)} =|`{re.escape(k)}`", sec, re.M), f"{heading} {k}"
    for top in plan._TOP:
        assert f"[{top}" in text or f"[[{top}" in text, top
    assert set(APPRAISAL_KEYS) == {"fidelity"}


def test_readme_using_it_defines_what_it_uses():
    """The README's 'Using it' snippet runs on its own (it used to call network(contrasts) with
    contrasts undefined)."""
    code = [text for lang, _, text in blocks(README) if lang == "python"]
    assert any("contrasts =" in c for c in code)
