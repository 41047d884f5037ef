"""The Examples in the docstrings of netstrata.ma's public functions run and print what they say."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["netstrata.ma.pairwise", "netstrata.ma.metareg", "netstrata.ma.subgroups"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
