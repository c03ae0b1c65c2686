#!/usr/bin/env bash
# Regenerates docs/screenshots/NN-name.png, one per step, by running every
# step's browser tests (headless Chromium) with SCREENSHOT_DIR set.
#
# Usage: scripts/screenshots/run.sh [go test flags...]
# Needs Chromium (Debian/Ubuntu: sudo apt-get install chromium).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/docs/screenshots"
cd "$root"

if [ ! -x /usr/bin/chromium ] && ! command -v chromium >/dev/null 2>&1; then
	echo "screenshots/run.sh: Chromium not found; install it (sudo apt-get install chromium)" >&2
	exit 1
fi

mkdir -p "$out"
# CI=true: a browser test that cannot run fails instead of skipping, so a
# screenshot is never silently left out.
SCREENSHOT_DIR="$out" CI=true go test -count=1 -run '^TestBrowser' "$@" ./steps/...

echo "screenshots in ${out#"$root"/}:"
ls -l "$out"/*.png
