#!/usr/bin/env bash
# The browser test of the explorer page (ctest label "browser"): installs what it needs
# when missing (Debian's chromium, Node.js and npm through scripts/install-deps.sh; the
# npm packages from the committed lock file), then runs explorer_test.js.
# Environment: PEERCHAIN_BIN (the binary under test), PEERCHAIN_ARTIFACTS (screenshots).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/../../scripts/install-deps.sh"
cd "$here"
# Exactly the lock file's packages (a few seconds; npm's cache serves a repeat run).
npm ci --no-audit --no-fund --loglevel=error
exec node explorer_test.js
