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
