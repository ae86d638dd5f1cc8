#!/bin/sh
# Debian's headless Chromium and its WebDriver, which the dashboard's
# end-to-end test (karbor/tests/e2e/test_dashboard.py) drives. Run by
# tox -e e2e before the tests; installs them (as root) when missing.
set -e
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "$0: chromium and chromium-driver are missing; install them" \
         "(apt-get install chromium chromium-driver) or run as root" >&2
    exit 1
fi
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver
