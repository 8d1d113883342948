#!/usr/bin/env bash
# Builds public/vendor/ from npm packages; cargo-leptos copies it into the site, so every asset the
# pages need is served by our own host, never a CDN:
#   echarts.min.js      charts (the charming options are drawn by it): only the parts our pages
#                       use, bundled by esbuild from scripts/echarts-bundle.mjs
#   geo/                US state outlines and ZIP places for the ZIP map (scripts/build-geo.mjs)
#   swagger-ui/         the API's readable docs at /api/docs (swagger-ui-dist, as published)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
mkdir -p public/vendor
if [ ! -f public/vendor/echarts.min.js ] || [ scripts/echarts-bundle.mjs -nt public/vendor/echarts.min.js ] \
   || [ package-lock.json -nt public/vendor/echarts.min.js ]; then
  node_modules/.bin/esbuild scripts/echarts-bundle.mjs --bundle --minify --format=iife --legal-comments=none \
    --log-level=warning --outfile=public/vendor/echarts.min.js
fi
cp node_modules/echarts/LICENSE public/vendor/echarts.LICENSE.txt
cp node_modules/zrender/LICENSE public/vendor/zrender.LICENSE.txt
mkdir -p public/vendor/swagger-ui
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/LICENSE \
  public/vendor/swagger-ui/
if [ ! -f public/vendor/geo/zip-places.csv ] || [ scripts/build-geo.mjs -nt public/vendor/geo/zip-places.csv ] \
   || [ package-lock.json -nt public/vendor/geo/zip-places.csv ]; then
  node scripts/build-geo.mjs public/vendor/geo
fi
