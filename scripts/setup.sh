#!/usr/bin/env bash
# Installs what building Maverick needs, and only what is missing (idempotent):
# the wasm32 target, cargo-leptos 0.3.7, wasm-bindgen-cli at the Cargo.lock version, and
# (with --release) nothing more: wasm-opt comes from npm. See the README for why these versions.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo-leptos: newer releases need a newer rustc than this project's toolchain.
if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.7'; then
  say "installing cargo-leptos 0.3.7 (about 15 minutes, once per machine)"
  cargo install cargo-leptos --version 0.3.7 --locked
fi

# wasm-bindgen-cli must match the wasm-bindgen crate exactly; its locked install is broken upstream.
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock 2>/dev/null || true)
[ -n "$wb_version" ] || wb_version=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb_version\$"; then
  say "installing wasm-bindgen-cli $wb_version"
  cargo install wasm-bindgen-cli --version "$wb_version" --force
fi

# Release builds optimise the WASM with binaryen's wasm-opt from npm (package.json, installed by
# `make assets`), not Debian's: its version 108 breaks the module (see the Makefile).
