#!/usr/bin/env bash
# System tools the test suite uses, from Debian's packages: installed through apt where this
# machine allows it (root with apt-get), else one line saying what to install.
set -euo pipefail

needed=()
command -v shellcheck >/dev/null 2>&1 || needed+=(shellcheck)
# The browser tests drive Debian's Chromium (never a browser download) at this path.
[ -x /usr/bin/chromium ] || needed+=(chromium)

[ ${#needed[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing test tools: ${needed[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
else
  echo "The tests need: ${needed[*]}. Install them (e.g. sudo apt-get install ${needed[*]}) and run make test again." >&2
  exit 1
fi
