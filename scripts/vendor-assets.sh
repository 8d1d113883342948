#!/usr/bin/env bash
# Builds public/vendor/ from npm packages; cargo-leptos copies it into the site, so every asset the
# pages need is served by our own host, never a CDN:
#   echarts.min.js      charts (the charming options are drawn by it)
#   geo/                US state outlines and ZIP places for the ZIP map (scripts/build-geo.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
mkdir -p public/vendor
cp node_modules/echarts/dist/echarts.min.js public/vendor/echarts.min.js
cp node_modules/echarts/LICENSE public/vendor/echarts.LICENSE.txt
if [ ! -f public/vendor/geo/zip-places.csv ] || [ scripts/build-geo.mjs -nt public/vendor/geo/zip-places.csv ] \
   || [ package-lock.json -nt public/vendor/geo/zip-places.csv ]; then
  node scripts/build-geo.mjs public/vendor/geo
fi
