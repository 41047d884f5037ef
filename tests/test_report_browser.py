"""The HTML report in a real browser: headless Chromium loads it without console errors, the
section headings are in the DOM, a study named <script>alert(1)</script> is shown as text and
never executed, and a screenshot is drawn.
"""
from __future__ import annotations

import re
import subprocess
import zlib
from html.parser import HTMLParser

import pytest

from netstrata.present import write_report
from netstrata.present.example import HOSTILE, example_context

pytestmark = pytest.mark.browser

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]
HEADINGS = ("Overview", "How to read this report", "Summary of findings", "Results by stratum",
            "Certainty of evidence", "Transitivity", "Technical fidelity", "Exclusion register",
            "Extraction quality control", "Methods", "PRISMA-NMA checklist")
# The page has no JavaScript, so any console line at all (error, warning or log) is a failure.
CONSOLE_ERRORS = re.compile(r"Uncaught|ERROR:CONSOLE|:CONSOLE[:(\]]|CONSOLE\(\d+\)", re.I)


def _run(chromium, profile, *args, timeout=180):
    cmd = [chromium, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


class _Collect(HTMLParser):
    """Element tags, script bodies and heading texts of a DOM dump."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self.headings, self._in = [], [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in = tag if tag in ("script", "h2", "h3") else self._in
        if tag in ("h2", "h3"):
            self.headings.append("")

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif self._in in ("h2", "h3"):
            self.headings[-1] += data


@pytest.fixture(scope="module")
def page(tmp_path_factory, chromium):
    folder = tmp_path_factory.mktemp("browser")
    html = write_report(example_context(hostile=True), folder / "report.html")
    dom = _run(chromium, folder / "profile-dom", "--dump-dom", html.resolve().as_uri())
    png = folder / "report.png"
    shot = _run(chromium, folder / "profile-shot", f"--screenshot={png}", "--window-size=1280,2000",
                html.resolve().as_uri())
    return {"html": html, "dom": dom, "shot": shot, "png": png}


def test_report_browser_dom_dumped(page):
    assert page["dom"].returncode == 0, page["dom"].stderr[-2000:]
    assert "<html" in page["dom"].stdout


@pytest.mark.parametrize("run", ["dom", "shot"])
def test_report_browser_no_console_errors(page, run):
    hits = [line for line in page[run].stderr.splitlines() if CONSOLE_ERRORS.search(line)]
    assert not hits, "\n".join(hits)


def test_report_browser_console_check_catches_errors(tmp_path, chromium):
    """Negative control: the log check above does see a page's uncaught error."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><h2>x</h2><script>undefined_function();</script></body></html>")
    run = _run(chromium, tmp_path / "profile", "--dump-dom", bad.as_uri())
    assert any(CONSOLE_ERRORS.search(line) for line in run.stderr.splitlines())


def test_report_browser_section_headings_in_dom(page):
    parser = _Collect()
    parser.feed(page["dom"].stdout)
    headings = [h.strip() for h in parser.headings]
    for heading in HEADINGS:
        assert any(h.startswith(heading) for h in headings), heading


def test_report_browser_hostile_study_is_text_not_script(page):
    dom = page["dom"].stdout
    parser = _Collect()
    parser.feed(dom)
    assert "script" not in parser.tags                      # no <script> element at all
    assert not any("alert" in s for s in parser.scripts)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom   # the name is there, escaped, as text
    assert HOSTILE not in dom.replace("&lt;script&gt;alert(1)&lt;/script&gt;", "")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_report_browser_screenshot_non_trivial(page):
    assert page["shot"].returncode == 0, page["shot"].stderr[-2000:]
    data = page["png"].read_bytes()
    assert _png_size(data) == (1280, 2000)
    # a blank page compresses to almost nothing; a rendered report does not
    idat = b"".join(data[m.end():m.end() + int.from_bytes(data[m.start() - 4:m.start()], "big")]
                    for m in re.finditer(b"IDAT", data))
    raw = zlib.decompress(idat)
    assert len(data) > 50_000
    assert len(set(raw[::97])) > 20                           # many distinct byte values: not one colour


def test_report_browser_bundled_example_report(tmp_path, chromium):
    """The report of the bundled example (built from its results.json) loads without console
    output and shows every section heading and each stratum."""
    import json
    import warnings
    from importlib import resources

    from netstrata.data import load_review
    from netstrata.present.build import build_context
    from netstrata.synthesis.pipeline import analyse_review

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyse_review(load_review(resources.files("netstrata").joinpath("examples", "spine-landmark")),
                             multiverse=False, progress=False)
    html = write_report(build_context(json.loads(res.to_json())), tmp_path / "report.html")
    dom = _run(chromium, tmp_path / "profile", "--dump-dom", html.resolve().as_uri())
    assert dom.returncode == 0
    assert not [line for line in dom.stderr.splitlines() if CONSOLE_ERRORS.search(line)]
    found = _Collect()
    found.feed(dom.stdout)
    assert set(HEADINGS) <= {h.strip() for h in found.headings}
    assert "lumbar / facet_joint_pain / success" in {h.strip() for h in found.headings}
    assert "script" not in found.tags
