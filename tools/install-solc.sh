#!/usr/bin/env bash
# Registers solc VERSION where py-solc-x looks for installed compilers
# ($SOLCX_BINARY_PATH/solc-vVERSION), so brownie compiles offline.
# A native solc of exactly that version wins (on PATH or in ~/.solcx);
# otherwise the official solc-js build from npm behind tools/solc-js-cli.js.
set -euo pipefail
version=${1:?usage: install-solc.sh VERSION}
: "${SOLCX_BINARY_PATH:?set SOLCX_BINARY_PATH}"
here=$(cd "$(dirname "$0")" && pwd)
dest=$SOLCX_BINARY_PATH/solc-v$version
mkdir -p "$SOLCX_BINARY_PATH"

is_native_of_version() {
  "$1" --version 2>/dev/null | grep -Eq "^Version: ${version//./\\.}\+commit\.[0-9a-f]+\.(Linux|Darwin)"
}

chosen=""
for candidate in $(type -ap solc 2>/dev/null) "$HOME/.solcx/solc-v$version"; do
  if [ -x "$candidate" ] && [ "$(readlink -f "$candidate")" != "$(readlink -f "$dest")" ] \
      && is_native_of_version "$candidate"; then
    chosen=$candidate
    break
  fi
done
if [ -z "$chosen" ]; then
  chosen=$here/solc-js-cli.js
  npm_version=$(node -p "require('solc/package.json').version")
  if [ "$npm_version" != "$version" ]; then
    echo "install-solc: npm solc is $npm_version but brownie-config.yaml pins $version" >&2
    exit 1
  fi
fi
ln -sfn "$chosen" "$dest"
"$dest" --version | sed -n 's/^Version: /solc /p'
