"""Every docstring example in the netstrata package runs and prints what it says."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import netstrata

MODULES = sorted(m.name for m in pkgutil.walk_packages(netstrata.__path__, "netstrata."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_doctests_exist_in_public_entry_points():
    """The three public entry points document themselves with runnable examples."""
    for name in ("netstrata.effects.escalc", "netstrata.ma.pairwise"):
        assert doctest.testmod(importlib.import_module(name), report=False).attempted > 0
