"""Domain packs: the spine pack's vocabularies as data, and a pack for another field."""
from __future__ import annotations

import shutil
import textwrap

import pytest

from netstrata import DataError
from netstrata.data import load_review
from netstrata.taxonomy import Pack, available_packs, load_pack
from netstrata.taxonomy.pack import PACKS_DIR

from .test_data_support import EXAMPLE, copy_example, read_rows, write_rows


@pytest.fixture(scope="module")
def spine() -> Pack:
    return load_pack("spine")


# Every field of domain brief section B with its codes (B1-B9), as the pack must hold them.
EXPECTED = {
    "family": {"ESI", "MBB", "FJ_IA", "SIJ_IA", "SIJ_PERI", "LBB", "RFN_FACET", "RFN_SIJ", "RF_IA", "PRF_DRG",
               "BVN_ABL", "IM_INJ", "DISC_PROC", "SNRB_DIAG"},
    "energy": {"thermal_conventional", "pulsed", "cooled", "bipolar", "cryo", "chemical", "endoscopic"},
    "agent": {"LA_only", "steroid_only", "LA+steroid", "saline", "none"},
    "selection_n_blocks": {"0", "1", "2", "3+"},
    "selection_control": {"uncontrolled_single", "comparative_LA", "placebo_controlled"},
    "selection_threshold_pct": {"50", "75", "80", "90", "100", "other"},
    "selection_reporting": {"explicit", "unclear", "not_reported"},
    "duration": {"acute", "subacute", "chronic", "mixed"},
    "pain_distribution": {"axial", "radicular", "mixed"},
}


def test_available_packs():
    assert "spine" in available_packs()


@pytest.mark.parametrize("field", sorted(EXPECTED))
def test_spine_vocabulary_codes(spine, field):
    assert {c.code for c in spine.vocabularies[field].codes} == EXPECTED[field]


def test_unverified_codes_are_marked(spine):
    # [U] in domain brief B1/B9 must carry status "unverified"
    for field, code in [("family", "SIJ_PERI"), ("family", "DISC_PROC"), ("family", "SNRB_DIAG"),
                        ("selection_threshold_pct", "80")]:
        assert spine.vocabularies[field].get(code).status == "unverified", (field, code)
    assert spine.vocabularies["selection_control"].get("placebo_controlled").status == "verified"


def test_every_code_has_label_status_and_source(spine):
    for v in spine.vocabularies.values():
        for c in v.codes:
            assert c.label and c.source and c.status in ("verified", "proposed", "unverified"), (v.name, c)


def test_sham_subtypes_have_a_parent(spine):
    v = spine.vocabularies["comparator_type"]
    subtypes = {c.code for c in v.codes if c.parent == "sham_procedure"}
    assert subtypes == {"needle_no_current", "needle_LA_no_current", "saline_injection_same_route",
                        "needle_placement_only", "subcutaneous_sham", "IM_saline"}
    assert v.parent_of("needle_LA_no_current") == "sham_procedure"
    assert v.parent_of("usual_care") == "usual_care"


def test_special_values(spine):
    assert spine.vocabularies["selection_threshold_pct"].special == ("NR", "unclear")
    assert "NR" not in spine.vocabularies["selection_reporting"]
    assert "unclear" in spine.vocabularies["selection_reporting"]


def test_columns_bound_to_vocabularies(spine):
    studies = {c.column for c in spine.columns_of("studies")}
    assert studies == {"region", "diagnosis", "pain_distribution", "duration", "selection_block_type",
                       "selection_n_blocks", "selection_control", "selection_threshold_pct",
                       "selection_threshold_metric", "selection_reporting"}
    arms = {c.column: c for c in spine.columns_of("arms")}
    assert arms["family"].multi and not arms["region"].multi and not arms["laterality"].required


def test_load_by_path_is_the_same_pack(spine):
    by_path = load_pack(PACKS_DIR / "spine")
    assert by_path.fingerprint == spine.fingerprint
    assert load_pack(PACKS_DIR / "spine" / "pack.toml").name == "spine"
    assert load_pack(spine) is spine


def test_unknown_pack_name():
    with pytest.raises(DataError) as info:
        load_pack("spinal")
    assert info.value.problems[0].hint == "did you mean 'spine'?"


def _pack_problems(folder, family_column: str, family_code: str) -> list:
    """The problems of loading a one-column, one-vocabulary pack written to ``folder``."""
    (folder / "pack.toml").write_text(f"[pack]\nname = 'x'\nversion = '1'\n[columns.arms]\nfamily = {family_column}\n")
    (folder / "vocabularies.toml").write_text(f"[family]\ncodes = [{family_code}]\n")
    with pytest.raises(DataError) as info:
        load_pack(folder)
    return info.value.problems


def test_malformed_pack(tmp_path):
    problems = _pack_problems(tmp_path, "{ vocabulary = 'famly' }", "{ code = 'A', status = 'maybe' }")
    assert {"unknown code status", "column refers to an unknown vocabulary"} <= {p.message for p in problems}


def test_pack_column_with_a_list_for_vocabulary_is_a_data_error(tmp_path):
    # a TOML list is unhashable: it used to escape as TypeError from the `in vocabularies` test
    (problem,) = _pack_problems(tmp_path, "{ vocabulary = ['family'] }", "{ code = 'A' }")
    assert (problem.message, problem.column) == ("column refers to an unknown vocabulary", "columns.arms.family")


DENTAL_PACK = textwrap.dedent("""
    [pack]
    name = "dental"
    version = "0.0.1"
    title = "A toy pack for another field"
    [columns.studies]
    setting = { vocabulary = "setting" }
    [columns.arms]
    family = { vocabulary = "family" }
    comparator_type = { vocabulary = "comparator_type" }
    [nodes]
    default = "family"
    [[nodes.levels]]
    name = "family"
    fields = ["family"]
    comparator = "code"
    justification = "toy"
    """)
DENTAL_VOCAB = textwrap.dedent("""
    [setting]
    codes = [{ code = "primary_care", label = "Primary care", status = "proposed", source = "toy" }]
    [family]
    codes = [{ code = "sealant", label = "Fissure sealant", status = "proposed", source = "toy" }]
    [comparator_type]
    codes = [{ code = "no_treatment", label = "No treatment", status = "proposed", source = "toy" }]
    """)


def test_another_field_ships_its_own_pack(tmp_path):
    """Nothing spine-specific in Python: a project validated entirely by a non-spine pack."""
    pack_dir = tmp_path / "dental-pack"
    pack_dir.mkdir()
    (pack_dir / "pack.toml").write_text(DENTAL_PACK)
    (pack_dir / "vocabularies.toml").write_text(DENTAL_VOCAB)
    proj = tmp_path / "caries"
    proj.mkdir()
    (proj / "netstrata.toml").write_text(textwrap.dedent("""
        [project]
        name = "caries"
        pack = "../dental-pack"
        [outcomes.caries]
        kind = "binary"
        measure = "OR"
        """))
    prov = "Toy 2020,p. 3,12/50 vs 20/50,A"
    (proj / "studies.csv").write_text("study,citation,year,design,setting\nToy 2020,Toy J,2020,RCT,primary_care\n")
    (proj / "arms.csv").write_text("study,arm,n,family,comparator_type,label\n"
                                   "Toy 2020,s,50,sealant,,sealant\nToy 2020,c,50,,no_treatment,none\n")
    (proj / "outcomes.csv").write_text(
        "study,arm,outcome,timepoint_weeks,events,n,mean,sd,source,location,quote,extractor\n"
        f"Toy 2020,s,caries,52,12,50,,,{prov}\nToy 2020,c,caries,52,20,50,,,{prov}\n")
    review = load_review(proj)
    assert review.pack.name == "dental" and len(review.analysis_rows("caries")) == 2
    assert [n.name for n in review.node_map().nodes] == ["sealant", "no_treatment"]
    # and the spine vocabulary is not applied: a spine code is rejected
    (proj / "studies.csv").write_text("study,citation,year,design,setting\nToy 2020,Toy J,2020,RCT,lumbar\n")
    with pytest.raises(DataError) as info:
        load_review(proj)
    assert info.value.problems[0].column == "setting"


def test_project_can_override_pack(tmp_path):
    proj = copy_example(tmp_path)
    pack_copy = tmp_path / "spine-copy"
    shutil.copytree(PACKS_DIR / "spine", pack_copy)
    text = (pack_copy / "vocabularies.toml").read_text().replace(
        '{ code = "cryo"', '{ code = "laser", label = "Laser", status = "unverified", source = "test" },\n  { code = "cryo"')
    (pack_copy / "vocabularies.toml").write_text(text)
    rows = read_rows(proj / "arms.csv")
    rows[1][rows[0].index("energy")] = "laser"
    write_rows(proj / "arms.csv", rows)
    with pytest.raises(DataError):
        load_review(proj)
    assert load_review(proj, pack=pack_copy).arms["energy"].iloc[0] == "laser"
    assert load_review(EXAMPLE).fingerprint != load_review(proj, pack=pack_copy).fingerprint
