#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs (a Python venv with
# moto for the SQS/DynamoDB emulator, infra's npm packages), then runs formatting,
# clippy and every test. Used by developers and by .ci/run alike.
#
# Environment:
#   CARGO_TARGET_DIR   shared build directory (default ~/.cache/okta-connect/target), kept
#                      outside the checkout so CI clones reuse a warm build.
#   OKTA_CONNECT_VENV  Python venv holding moto (default ~/.cache/okta-connect/venv).
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${XDG_CACHE_HOME:-$HOME/.cache}/okta-connect"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
venv="${OKTA_CONNECT_VENV:-$cache/venv}"

step() { printf '\n==> %s\n' "$*"; }

step "Python venv with moto (SQS and DynamoDB emulator) in $venv"
if ! "$venv/bin/python" -c 'import moto.server' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
fi
export PATH="$venv/bin:$PATH"
export MOTO_SERVER="$venv/bin/moto_server"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

# The release build `cdk deploy` ships (~13 min cold on 2 cores, incremental afterwards):
# proves the Lambda artifacts really build with cargo-lambda. Its output (infra/build/
# lambda) is what infra's "bundles the cargo-lambda binaries" test checks.
step "Lambda artifacts: cargo lambda build --release (scripts/build-lambdas.sh)"
scripts/build-lambdas.sh

if [ -f infra/package.json ]; then
  step "infra: npm ci, type-check, CDK assertions, cdk-nag and an offline cdk synth"
  # The CDK app reads config.ini through `okta-connect check-config --json`.
  cargo build --locked -q -p okta-connect
  export OKTA_CONNECT_BIN="$CARGO_TARGET_DIR/debug/okta-connect"
  (cd infra && npm ci --no-audit --no-fund && npm test)
fi
