#!/usr/bin/env bash
# A real browser for the web console's tests: Debian's Chromium and its driver (run headless,
# driven by Selenium). Installs them from the system's packages when they are missing.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    echo "using $(/usr/bin/chromedriver --version | head -1)"
    exit 0
fi
echo "installing chromium and chromium-driver (the web console's browser tests) ..."
as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
/usr/bin/chromedriver --version | head -1
