"""Issue 14, done means: a project built only through `init` + filling tables by code validates and
runs; the Excel template filled by openpyxl validates and runs as it is; `vocab` lists the codes."""
from __future__ import annotations

import csv
import json
import tomllib

import pytest
from click.testing import CliRunner

from netstrata.cli import main
from netstrata.data.scaffold import SCAFFOLD_TABLES, plan_text, table_header
from netstrata.synthesis.validation import validate_project

PROV = {"source": "Example 2001. J Example 2001;1:1-9", "location": "Table 2", "extractor": "AB"}
STUDIES = [
    {"study": "Alpha 2001", "citation": "Alpha 2001", "year": 2001, "design": "RCT", "region": "lumbar",
     "diagnosis": "facet_joint_pain"},
    {"study": "Beta 2005", "citation": "Beta 2005", "year": 2005, "design": "RCT", "region": "lumbar",
     "diagnosis": "facet_joint_pain"},
    {"study": "Gamma 2010", "citation": "Gamma 2010", "year": 2010, "design": "single_arm",
     "data_collection": "prospective", "region": "lumbar", "diagnosis": "facet_joint_pain"},
]
ARMS = [
    {"study": "Alpha 2001", "arm": "rf", "n": 20, "family": "RFN_FACET", "region": "lumbar"},
    {"study": "Alpha 2001", "arm": "sham", "n": 20, "comparator_type": "needle_no_current", "region": "lumbar"},
    {"study": "Beta 2005", "arm": "rf", "n": 30, "family": "RFN_FACET", "region": "lumbar"},
    {"study": "Beta 2005", "arm": "sham", "n": 31, "comparator_type": "sham_procedure", "region": "lumbar"},
    {"study": "Gamma 2010", "arm": "cohort", "n": 40, "family": "RFN_FACET", "region": "lumbar"},
]
OUTCOMES = [
    {"study": "Alpha 2001", "arm": "rf", "outcome": "success", "timepoint_weeks": 26, "events": 12, "n": 20, **PROV},
    {"study": "Alpha 2001", "arm": "sham", "outcome": "success", "timepoint_weeks": 26, "events": 6, "n": 20, **PROV},
    {"study": "Beta 2005", "arm": "rf", "outcome": "success", "timepoint_weeks": 26, "events": 15, "n": 30, **PROV},
    {"study": "Beta 2005", "arm": "sham", "outcome": "success", "timepoint_weeks": 26, "events": 10, "n": 31, **PROV},
    {"study": "Gamma 2010", "arm": "cohort", "outcome": "success", "timepoint_weeks": 26, "events": 25, "n": 40,
     **PROV},
]
FIDELITY = [{"study": "Alpha 2001", "arm": "rf", "item": "temperature_C", "value": 80, "status": "reported",
             "extractor": "AB"}]


def _fill_csv(path, rows):
    with open(path, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    with open(path, "a", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        for r in rows:
            assert set(r) <= set(header), set(r) - set(header)
            w.writerow([r.get(h, "") for h in header])


def _results(out_dir):
    return json.loads((out_dir / "results.json").read_text(encoding="utf-8"))


def test_init_then_fill_by_code_validates_and_runs(tmp_path):
    project = tmp_path / "my-review"
    res = CliRunner().invoke(main, ["init", str(project)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in project.iterdir()) == sorted(["netstrata.toml", *(f"{t}.csv" for t in SCAFFOLD_TABLES)])
    empty = validate_project(project)          # ready to fill: only the three empty required tables
    assert {p.message for p in empty.problems} == {"the table has a header but no data rows"}
    _fill_csv(project / "studies.csv", STUDIES)
    _fill_csv(project / "arms.csv", ARMS)
    _fill_csv(project / "outcomes.csv", OUTCOMES)
    _fill_csv(project / "fidelity.csv", FIDELITY)
    toml = project / "netstrata.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("variables = []", 'variables = ["region"]'), "utf-8")
    v = validate_project(project)
    assert v.ok, v.problems
    run = CliRunner().invoke(main, ["run", str(project), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"])
    assert run.exit_code == 0, run.output
    doc = _results(tmp_path / "out")
    assert doc["name"] == "my-review"
    assert not [n for n in doc["notes"] if "could not" in n or "Error" in n], doc["notes"]
    assert doc["record_counts"]["unaccounted"] == 0 and doc["record_counts"]["analysed"] == 5


def test_init_refuses_to_overwrite(tmp_path):
    assert CliRunner().invoke(main, ["init", str(tmp_path / "p")]).exit_code == 0
    again = CliRunner().invoke(main, ["init", str(tmp_path / "p")])
    assert again.exit_code == 2 and "already holds netstrata.toml" in again.stderr
    assert CliRunner().invoke(main, ["init", str(tmp_path / "p"), "--force"]).exit_code == 0


def test_headers_are_the_validators_columns():
    from netstrata.data.spec import table_spec
    from netstrata.taxonomy import load_pack
    pack = load_pack("spine")
    for t in SCAFFOLD_TABLES:
        spec = table_spec(t, pack)
        left_out = {"item", "answer"} if t == "rob" else set()     # rob.csv starts in its wide layout
        assert sorted(table_header(t, "spine")) == sorted(c.name for c in spec.columns if c.name not in left_out)


def test_every_commented_key_of_the_plan_is_valid():
    """Uncommenting every example line of the init plan still gives a plan the checks accept."""
    from netstrata.data.plan import parse_plan
    from netstrata.synthesis.checks import plan_problems
    from netstrata.taxonomy import load_pack
    text = plan_text("spine")
    lines = []
    for line in text.splitlines():
        body = line[2:] if line.startswith("# ") else line
        if line.startswith("# ") and (body.startswith("[") or (" = " in body and not body[0].isupper())):
            lines.append(body)
        else:
            lines.append(line)
    data = tomllib.loads("\n".join(lines))
    assert {"models", "sensitivity", "evidence", "report", "certainty", "appraisal", "known_trials", "panel"} <= set(data)
    plan = parse_plan(data)
    assert plan_problems(plan, load_pack("spine")) == []
    from netstrata.appraisal.fidelity.appraise import _PLAN_KEYS
    from netstrata.data import plan as plan_module
    from netstrata.synthesis import config, evidence, panel, transitivity
    from netstrata.synthesis.certainty_plan import CERTAINTY_KEYS
    documented = {"project": plan_module._PROJECT, "outcomes.success": plan_module._OUTCOME, "models": config._MODELS,
                  "sensitivity": (*config.DIMENSIONS, *config._EXTRA_KEYS), "evidence": evidence._KEYS,
                  "report": config._REPORT, "certainty.transitivity": transitivity.PLAN_KEYS,
                  "appraisal.fidelity": _PLAN_KEYS, "panel": panel._KEYS, "certainty": CERTAINTY_KEYS}
    for where, keys in documented.items():
        table = data
        for part in where.split("."):
            table = table[part]
        assert set(keys) <= set(table), (where, set(keys) - set(table))


def _fill_sheet(wb, sheet, rows):
    ws = wb[sheet]
    head = [c.value for c in ws[1]]
    for i, r in enumerate(rows, start=2):
        for k, v in r.items():
            ws.cell(i, head.index(k) + 1, v)


def test_excel_template_filled_by_openpyxl_validates_and_runs(tmp_path):
    import openpyxl
    path = tmp_path / "review.xlsx"
    res = CliRunner().invoke(main, ["template", str(path)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "instructions" and wb["_lists"].sheet_state == "hidden"
    assert {*SCAFFOLD_TABLES, "plan"} <= set(wb.sheetnames)
    dv = {str(d.sqref).split(":")[0]: d for d in wb["arms"].data_validations.dataValidation}
    head = [c.value for c in wb["arms"][1]]
    fam = dv[f"{openpyxl.utils.get_column_letter(head.index('family') + 1)}2"]
    assert fam.type == "list" and fam.errorStyle == "warning"       # multi: combinations may be typed
    comp = dv[f"{openpyxl.utils.get_column_letter(head.index('comparator_type') + 1)}2"]
    assert comp.errorStyle == "stop" and "_lists!" in comp.formula1
    items = [c.value for c in wb["_lists"]["A"]]
    assert items[0] == "arms.agent"
    _fill_sheet(wb, "studies", STUDIES)
    _fill_sheet(wb, "arms", ARMS)
    _fill_sheet(wb, "outcomes", OUTCOMES)
    _fill_sheet(wb, "fidelity", FIDELITY)
    wb.save(path)
    v = validate_project(path)
    assert v.ok, v.problems
    run = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"])
    assert run.exit_code == 0, run.output
    doc = _results(tmp_path / "out")
    assert doc["name"] == "review" and doc["record_counts"]["analysed"] == 5
    assert not [n for n in doc["notes"] if "could not" in n or "Error" in n], doc["notes"]


def test_excel_template_lists_come_from_the_pack(tmp_path):
    import openpyxl
    from netstrata.data.template import column_lists, write_template
    from netstrata.taxonomy import load_pack
    path = write_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    store = wb["_lists"]
    lists = {store.cell(1, j).value: [c.value for c in store[openpyxl.utils.get_column_letter(j)][1:]]
             for j in range(1, store.max_column + 1)}
    pack = load_pack("spine")
    for (table, col), (values, _) in column_lists(pack).items():
        assert [v for v in lists[f"{table}.{col}"] if v is not None] == list(values)
    assert "needle_no_current" in lists["arms.comparator_type"]
    assert "temperature_C" in lists["fidelity.item"]
    assert lists["studies.design"][:3] == ["RCT", "NRS_comparative", "single_arm"]
    with pytest.raises(Exception, match="exists"):
        write_template(path)


def test_excel_with_a_wrong_code_is_reported_by_sheet_and_row(tmp_path):
    import openpyxl
    path = tmp_path / "review.xlsx"
    CliRunner().invoke(main, ["template", str(path)])
    wb = openpyxl.load_workbook(path)
    _fill_sheet(wb, "studies", STUDIES)
    _fill_sheet(wb, "arms", ARMS[:1] + [{**ARMS[1], "family": "RFN_FACET"}] + ARMS[2:])
    _fill_sheet(wb, "outcomes", OUTCOMES)
    wb.save(path)
    (prob,) = validate_project(path).problems
    assert (prob.file, prob.row, prob.study) == ("review.xlsx[arms]", 3, "Alpha 2001")


def test_vocab_lists_codes_with_labels():
    runner = CliRunner()
    out = runner.invoke(main, ["vocab"])
    assert out.exit_code == 0 and "arms.family" in out.output and "fidelity.item" in out.output
    out = runner.invoke(main, ["vocab", "arms.comparator_type"])
    assert out.exit_code == 0
    assert "needle_no_current" in out.output and "Sham: needle placed, no current" in out.output
    assert "parent sham_procedure" in out.output and "Also allowed: NR, unclear" in out.output
    out = runner.invoke(main, ["vocab", "arms.approach"])
    assert "only with family in ESI" in out.output
    out = runner.invoke(main, ["vocab", "studies.data_collection"])
    assert "prospective" in out.output and "retrospective" in out.output
    out = runner.invoke(main, ["vocab", "fidelity.item"])
    assert "temperature_C" in out.output and "C1" in out.output
    out = runner.invoke(main, ["vocab", "exclusions.reason_code"])
    assert "mixed_duration_population" in out.output
    out = runner.invoke(main, ["vocab", "arms.famly"])
    assert out.exit_code == 2 and "did you mean 'arms.family'?" in out.output
