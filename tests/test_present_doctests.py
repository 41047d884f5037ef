"""The Examples in the docstrings of netstrata.present run and print what they say."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["netstrata.present.forest", "netstrata.present.network_plot", "netstrata.present.report"]


@pytest.mark.parametrize("name", MODULES)
def test_present_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
