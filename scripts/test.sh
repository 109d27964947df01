#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs (a Python venv with
# moto for the SQS/DynamoDB emulator, cargo-lambda, infra's npm packages), then runs
# formatting, clippy, every test, the Lambda release build and the infra's tests. Used
# by developers and by .ci/run alike.
#
# Environment:
#   CARGO_TARGET_DIR   build directory. Default: cargo's own ./target, the one README
#                      command one (scripts/okta-connect dev) builds into, so a newcomer's two
#                      commands compile the workspace once. CI sets it to a directory
#                      that outlives its clean clones.
#   OKTA_CONNECT_VENV  Python venv holding moto (default ~/.cache/okta-connect/venv).
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${XDG_CACHE_HOME:-$HOME/.cache}/okta-connect"
target="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TARGET_DIR="$target"
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

# README command one's build first (scripts/okta-connect builds exactly this); the tests must
# then compile nothing again (scripts/check-shared-build.py names what they did).
step "cargo build --workspace --all-targets (what README command one builds)"
cargo build --workspace --all-targets --locked
cargo test --workspace --locked --no-run --message-format=json-render-diagnostics \
  | python3 scripts/check-shared-build.py

step "cargo test"
cargo test --workspace --locked

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

# The release build `cdk deploy` ships (~14 min cold on 2 cores, incremental afterwards):
# proves the Lambda artifacts really build with cargo-lambda. Its output (infra/build/
# lambda) is what infra's "bundles the cargo-lambda binaries" test checks.
step "Lambda artifacts: cargo lambda build --release (scripts/build-lambdas.sh)"
scripts/build-lambdas.sh

if [ -f infra/package.json ]; then
  step "infra: npm ci, type-check, CDK assertions, cdk-nag and an offline cdk synth"
  # The CDK app reads config.ini through `okta-connect check-config --json` (built above).
  export OKTA_CONNECT_BIN="$target/debug/okta-connect"
  (cd infra && npm ci --no-audit --no-fund && npm test)
fi
