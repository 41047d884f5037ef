"""Review.node_map caches NodeMaps per Review instance: the same maps as build_node_map, built once
per level, and never shared between reviews (a replaced review starts an empty cache)."""
from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest

import netstrata
from netstrata.taxonomy.nodemap import build_node_map

from .test_data_support import EXAMPLE


@pytest.fixture(scope="module")
def review():
    return netstrata.load_review(EXAMPLE)


def _same(a, b) -> bool:
    return (a.level, a.label, a.nodes, dict(a.assignment), a.justification) == \
        (b.level, b.label, b.nodes, dict(b.assignment), b.justification)


@pytest.mark.parametrize("level", [None, "family", "technique"])
def test_cached_node_map_is_the_uncached_one(review, level):
    plain = build_node_map(review.arms, review.studies, review.pack, level or review.plan.node_level)
    first = review.node_map(level)
    assert _same(first, plain)
    assert review.node_map(level) is first          # built once per level


def test_every_pack_level_is_cached_separately(review):
    maps = {name: review.node_map(name) for name in review.pack.level_names}
    for name, m in maps.items():
        assert m.level == name
        assert _same(m, build_node_map(review.arms, review.studies, review.pack, name))


def test_cache_does_not_leak_between_reviews(review):
    before = review.node_map()
    arms = review.arms.copy()
    arms.loc[arms.index[0], "family"] = "-"                 # the first arm becomes a control arm
    arms.loc[arms.index[0], "comparator_type"] = "SHAM"
    other = replace(review, tables=MappingProxyType({**review.tables, "arms": arms}))
    after = other.node_map()
    assert after is not before
    assert _same(after, build_node_map(arms, review.studies, review.pack, review.plan.node_level))
    assert not _same(after, before)
    assert review.node_map() is before                       # the original keeps its own map
    assert _same(netstrata.load_review(EXAMPLE).node_map(), before)   # a reload builds an equal map


def test_a_level_object_is_not_cached(review):
    lv = review.pack.level(review.pack.level_names[0])
    assert review.node_map(lv) is not review.node_map(lv)
    assert _same(review.node_map(lv), build_node_map(review.arms, review.studies, review.pack, lv))
