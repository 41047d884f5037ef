"""Node maps built from arm fields at the pack's lumping levels, with a justification per merge."""
from __future__ import annotations

import dataclasses

import pytest

from netstrata import ParameterError
from netstrata.data import load_review
from netstrata.taxonomy import NodeMap, build_node_map

from .test_data_support import EXAMPLE


@pytest.fixture(scope="module")
def review():
    return load_review(EXAMPLE)


def test_family_level_nodes(review):
    m = review.node_map("family")
    assert isinstance(m, NodeMap) and m.level == "family"
    assert {n.name: n.role for n in m.nodes} == {
        "PRF_DRG": "active", "RFN_FACET": "active", "RFN_FACET+RFN_SIJ+DISC_PROC": "active", "RFN_SIJ": "active",
        "exercise_program": "control", "sham_procedure": "control"}
    assert m.node_of("Lord 1996", "sham") == m.node_of("Cohen 2008", "placebo") == "sham_procedure"
    assert len(m.assignment) == len(review.arms)


def test_every_merge_is_justified(review):
    for level in review.pack.level_names:
        for node in review.node_map(level).nodes:
            assert bool(node.justification) == node.merged, (level, node.name)


def test_family_merge_records_differing_fields(review):
    facet = review.node_map("family").node("RFN_FACET")
    assert set(facet.studies) == {"Lord 1996", "van Kleef 1999", "van Wijk 2005", "Juch 2017 MINT facet",
                                  "Govind 2003", "MacVicar 2013"}
    assert "region" in facet.differing and "approach" in facet.differing
    assert facet.justification.startswith("Arms sharing a procedure family")
    sham = review.node_map("family").node("sham_procedure")
    assert sham.differing == ("comparator_type",) and len(sham.definitions) == 4


def test_finer_levels_split_nodes(review):
    counts = [len(review.node_map(lv).nodes) for lv in ("family", "technique", "anatomy", "selection")]
    assert counts == sorted(counts) and counts[0] < counts[-1]
    tech = review.node_map("technique")
    assert tech.node_of("Lord 1996", "sham") == "needle_no_current"   # sham subtypes split
    assert tech.node_of("Cohen 2008", "rf") == "RFN_SIJ:lateral_branch+dorsal_ramus_L5:cooled"
    sel = review.node_map("selection")
    assert sel.node_of("Lord 1996", "rf").endswith(":placebo_controlled:NR")


def test_wang2025_map_lumps_joint_rfa(review):
    m = review.node_map("wang2025")
    assert m.node_of("Lord 1996", "rf") == m.node_of("Cohen 2008", "rf") == "joint_RFA"
    assert m.node_of("Shanthanna 2014", "prf") == "DRG_RF"
    assert "region" in m.node("joint_RFA").differing


def test_custom_map_needs_justification(review):
    with pytest.raises(ParameterError, match="justification"):
        build_node_map(review.arms, review.studies, review.pack, custom={"RFN_SIJ": "RF"})
    m = build_node_map(review.arms, review.studies, review.pack, custom={"RFN_SIJ": "RF", "RFN_FACET": "RF"},
                       justification="all RF neurotomy together")
    assert m.node_of("Cohen 2008", "rf") == m.node_of("Lord 1996", "rf") == "RF"
    assert m.node("RF").justification.startswith("all RF neurotomy together")


def test_unknown_level(review):
    with pytest.raises(ParameterError, match="'level' parameter of build_node_map must be one of"):
        review.node_map("famly")


def test_default_level_and_frames(review):
    m = review.node_map()
    assert m.level == review.plan.node_level == "family"
    frame = m.to_frame()
    assert list(frame.columns) == ["study", "arm", "node", "role"] and len(frame) == len(review.arms)
    nf = m.nodes_frame()
    assert nf.loc["RFN_FACET", "arms"] == 7 and nf.loc["RFN_FACET", "studies"] == 6
    assert "Node map at level 'family'" in m.summary().as_text()
    assert repr(m) == "NodeMap(level='family', nodes=6, merged=3, arms=19)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.level = "x"


def test_node_map_ignores_arm_order(review):
    shuffled = review.arms.sample(frac=1, random_state=3)
    a = build_node_map(review.arms, review.studies, review.pack, "anatomy")
    b = build_node_map(shuffled, review.studies, review.pack, "anatomy")
    assert dict(a.assignment) == dict(b.assignment)
    assert [n.name for n in a.nodes] == [n.name for n in b.nodes]
