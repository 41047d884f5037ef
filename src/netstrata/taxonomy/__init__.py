"""netstrata.taxonomy (layer 0): domain packs (vocabularies as data files) and node maps."""
from __future__ import annotations

from .pack import (Code, ColumnBinding, NodeCustomMap, NodeLevel, Pack, Vocabulary, available_packs,
                   load_pack)

__all__ = ["load_pack", "available_packs", "Pack", "Vocabulary", "Code", "ColumnBinding", "NodeLevel",
           "NodeCustomMap", "NodeMap", "Node", "build_node_map"]


def __getattr__(name):
    if name in ("NodeMap", "Node", "build_node_map"):
        from . import nodemap
        return getattr(nodemap, name)
    raise AttributeError(f"module 'netstrata.taxonomy' has no attribute {name!r}")
