#!/usr/bin/env bash
# The operator site's third-party code, copied from the npm registry at the versions pinned in
# scripts/vendor-web/package-lock.json (npm ci checks each package's integrity hash) into
# web/vendor/ (served as is, no CDN at run time) and tests/browser/vendor/ (axe-core: tests only).
#   scripts/vendor-web.sh           refresh the copies
#   scripts/vendor-web.sh --check   fail when a copy differs from the pinned packages
# To upgrade: change a version in scripts/vendor-web/package.json, run
# `npm install --package-lock-only` in that folder, then this script, and commit all three.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-write}
case "$mode" in write | --check) ;; *) echo "usage: $0 [--check]" >&2; exit 2 ;; esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp scripts/vendor-web/package.json scripts/vendor-web/package-lock.json "$work/"
npm ci --prefix "$work" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null

# source in node_modules -> destination in the repository
files=(
  "bootstrap/dist/css/bootstrap.min.css            web/vendor/bootstrap.min.css"
  "bootstrap/dist/js/bootstrap.bundle.min.js       web/vendor/bootstrap.bundle.min.js"
  "alpinejs/dist/module.esm.min.js                 web/vendor/alpine.esm.min.js"
  "@azure/msal-browser/lib/msal-browser.min.js     web/vendor/msal-browser.min.js"
  "@azure/msal-browser/lib/redirect-bridge/msal-redirect-bridge.min.js web/vendor/msal-redirect-bridge.min.js"
  "bootstrap/LICENSE                               web/vendor/LICENSE.bootstrap"
  "@azure/msal-browser/LICENSE                     web/vendor/LICENSE.msal-browser"
  "axe-core/axe.min.js                             tests/browser/vendor/axe.min.js"
  "axe-core/LICENSE                                tests/browser/vendor/LICENSE.axe-core"
)

status=0
for entry in "${files[@]}"; do
  read -r source destination <<<"$entry"
  if [ "$mode" = --check ]; then
    if ! cmp -s "$work/node_modules/$source" "$destination"; then
      echo "$destination differs from $source in the pinned package (run scripts/vendor-web.sh)" >&2
      status=1
    fi
  else
    mkdir -p "$(dirname "$destination")"
    cp "$work/node_modules/$source" "$destination"
  fi
done
[ "$mode" = --check ] && [ "$status" -eq 0 ] && echo "web/vendor and tests/browser/vendor match the pinned packages"
exit "$status"
