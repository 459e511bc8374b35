#!/usr/bin/env bash
# Installs every Debian package that building, testing, fuzzing and benchmarking spacetime need.
# Idempotent: when everything is present it changes nothing. As root it runs apt-get; otherwise it
# prints the exact command to run and exits non-zero.
set -euo pipefail

packages=(
  build-essential cmake pkg-config           # toolchain
  clang-format                               # the tree's format (.clang-format; tests/format_check.sh)
  clang libclang-rt-14-dev                   # libFuzzer targets (make fuzz)
  libssl-dev                                 # SHA-256 (OpenSSL libcrypto), base64
  libb2-dev                                  # BLAKE2b
  libsecp256k1-dev                           # secp256k1 keys, signatures, ECVRF arithmetic
  libgmp-dev                                 # token amounts and Q.256 fixed point
  libjansson-dev                             # JSON
  libcmocka-dev                              # unit tests
  libsqlite3-dev                             # registry database (embedded default)
  libpq-dev postgresql                       # registry on PostgreSQL; the tests start their own server
  libmicrohttpd-dev                          # HTTP servers (registry API)
  libcurl4-openssl-dev                       # HTTP client (registry client)
  liblmdb-dev                                # chain store
  libjwt-dev                                 # API tokens (JSON-RPC)
  wrk                                        # HTTP benchmarks (make bench)
  openssl                                    # checks the blst source's integrity hash (blst_src below)
  curl jq bc                                 # the daemon's shell tests talk JSON-RPC and do big-number arithmetic
  sshfs openssh-server iproute2             # the multi-host harness (tests/hosts): hosts as network namespaces, storage over sshfs
  chromium fonts-wqy-zenhei                  # the explorer's browser test (headless), with CJK glyphs for its screenshots
)

# playwright-core, pinned by tests/explorer/package-lock.json, once npm is there
npm_deps() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/explorer"
  [[ -d $dir/node_modules/playwright-core ]] && return 0
  echo "install-deps: npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund)
}

# blst, the BLS12-381 library Filecoin uses, for Fr arithmetic (Poseidon). Not in Debian; the npm
# package @chainsafe/blst 0.2.11 carries blst 0.3.10's complete C source (Apache-2.0). Fetched by
# version, checked against the registry's integrity hash, unpacked into third_party/blst, which
# CMakeLists.txt builds.
BLST_NPM=@chainsafe/blst@0.2.11
BLST_INTEGRITY=sha512-URyOLq5GtxBoxibOnd2pgLydCy0UZzbiIIBcsRAvGxAsRzjZL04TsQfwRkz5aphU3a1ebeRoMmI/HHyMCiFSQg==
blst_src() {
  local top dest tmp tgz got
  top="$(cd "$(dirname "$0")/.." && pwd)"
  dest="$top/third_party/blst"
  [[ -f $dest/.integrity ]] && [[ $(cat "$dest/.integrity") == "$BLST_INTEGRITY" ]] && return 0
  echo "install-deps: fetching blst source ($BLST_NPM) into $dest"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$BLST_NPM" >/dev/null)
  tgz="$(ls "$tmp"/*.tgz)"
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [[ $got != "$BLST_INTEGRITY" ]]; then
    echo "install-deps: $BLST_NPM: integrity $got, want $BLST_INTEGRITY" >&2
    rm -rf "$tmp"
    return 1
  fi
  tar -xzf "$tgz" -C "$tmp" package/blst
  rm -rf "$dest.new" && mkdir -p "$top/third_party" && mv "$tmp/package/blst" "$dest.new"
  echo "$BLST_INTEGRITY" >"$dest.new/.integrity"
  rm -rf "$dest" && mv "$dest.new" "$dest"
  rm -rf "$tmp"
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# node and npm run playwright-core (tests/explorer); any install of them will do (NodeSource's
# nodejs carries its own npm and conflicts with Debian's npm package)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  npm_deps
  blst_src
  exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root:  sudo apt-get update && sudo $cmd" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when a package cannot be found in the current ones.
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
npm_deps
blst_src
