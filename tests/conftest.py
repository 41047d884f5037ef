"""Shared pytest fixtures."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's headless-capable Chromium (``scripts/install-chromium.sh`` installs it).

    Skipped when absent on a developer machine; in CI (``CI=true``) a missing browser is a
    failure, because ``.ci/run`` installs it.
    """
    candidates = [Path("/usr/bin/chromium"), shutil.which("chromium"), shutil.which("chromium-browser")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return str(c)
    reason = ("Chromium not found at /usr/bin/chromium; install it with scripts/install-chromium.sh "
              "(apt-get install chromium) to run the browser test of the HTML report")
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


# Property tests are reproducible: the same examples on every machine and every run (CI included),
# and never timed (no hypothesis deadline: tests assert results, not wall-clock time),
# so a red run is a finding, not a dice roll. HYPOTHESIS_PROFILE=explore draws fresh examples.
from hypothesis import settings as _settings

_settings.register_profile("netstrata", derandomize=True, database=None, print_blob=True, deadline=None)
_settings.register_profile("explore", derandomize=False, deadline=None)
_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "netstrata"))
