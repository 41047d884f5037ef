#!/bin/sh
# Install Debian's chromium for the headless browser test of the HTML report
# (tests/test_report_browser.py). Idempotent: does nothing when already present.
set -eu
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(command -v chromium || echo /usr/bin/chromium)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium
echo "chromium installed: $(command -v chromium)"
