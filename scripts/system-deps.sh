#!/usr/bin/env bash
# Debian packages the test suite needs: PostgreSQL (multi-worker store tests) and Chromium
# (dashboard tests), with a CJK font for Korean commands, and faketime (workers with skewed clocks). Installs only what is missing; needs root (as on CI) or passwordless sudo.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)  # Korean text in the dashboard
command -v faketime >/dev/null 2>&1 || need+=(faketime)  # a worker whose clock runs ahead
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
echo "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
