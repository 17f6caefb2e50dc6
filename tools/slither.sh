#!/usr/bin/env bash
# Static analysis of contracts/ with slither, offline, with the pinned compiler (solc-js behind
# tools/solc-js-cli.js, which speaks --standard-json). Test contracts and OpenZeppelin are filtered out.
# Prints every finding; exits non-zero on any High or Medium one. Suppressions live next to the code
# as `// slither-disable-next-line DETECTOR — reason`.
# The standard-json compile slither runs is unoptimized, so solc's contract-size warning there is moot;
# `make compile` builds with the optimizer.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${SOLCX_BINARY_PATH:=$PWD/.tools/solcx}"
version=$(sed -n 's/^ *version: *\([0-9][0-9.]*\) *$/\1/p' brownie-config.yaml)
remaps=$(sed -n 's/^ *- *"\(@[^"]*=[^"]*\)"$/\1/p' brownie-config.yaml | paste -sd' ' -)
exec slither contracts/ \
  --solc-standard-json \
  --solc "$SOLCX_BINARY_PATH/solc-v$version" \
  --solc-remaps "$remaps" \
  --filter-paths 'contracts/test|node_modules' \
  --exclude-dependencies \
  --exclude-informational \
  --exclude-optimization \
  --fail-medium
