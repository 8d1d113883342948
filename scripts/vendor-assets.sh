#!/usr/bin/env bash
# Copies the front-end assets the pages need from npm packages into public/vendor/, which
# cargo-leptos copies into the site: every asset is served by our own host, never a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/echarts ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
mkdir -p public/vendor
cp node_modules/echarts/dist/echarts.min.js public/vendor/echarts.min.js
cp node_modules/echarts/LICENSE public/vendor/echarts.LICENSE.txt
