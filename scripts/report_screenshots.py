"""Refresh the README's report pictures (docs/report.png, docs/report-sof-800.png).

Runs ``netstrata demo --level wang2025`` (the BMJ NMA's route x agent nodes) into a temporary
folder and photographs its report in Debian's Chromium through Playwright (no browser download:
``executable_path``):

* docs/report.png: the first stratified-versus-lumped block at 1400 px (forest with the
  certainty of each stratum and of the lumped network estimate);
* docs/report-sof-800.png: the top of the summary of findings at 800 px (tables as cards).

Usage: ``.venv/bin/python scripts/report_screenshots.py [--chromium /usr/bin/chromium]``
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
DOCS = Path(__file__).resolve().parent.parent / "docs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        netstrata = Path(sys.executable).with_name("netstrata")       # the console script beside this python
        subprocess.run([str(netstrata), "demo", "--level", "wang2025", "--out", tmp, "--quiet", "--workers", "1"],
                       check=True, stdout=subprocess.DEVNULL)
        report = (Path(tmp) / "report.html").resolve().as_uri()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(report, wait_until="load")
            page.locator("#stratified-vs-lumped .block").first.screenshot(path=str(DOCS / "report.png"))
            page.close()
            page = browser.new_page(viewport={"width": 800, "height": 1000})
            page.goto(report, wait_until="load")
            top = page.evaluate("document.querySelector('#summary-of-findings').getBoundingClientRect().top"
                                " + window.scrollY")
            page.screenshot(path=str(DOCS / "report-sof-800.png"), full_page=True,
                            clip={"x": 0, "y": top - 14, "width": 800, "height": 1000})
            browser.close()
    print(f"wrote {DOCS / 'report.png'} and {DOCS / 'report-sof-800.png'}")


if __name__ == "__main__":
    main()
