#!/usr/bin/env bash
# Builds the three Lambda binaries (okta-connect-ingest, okta-connect-worker,
# okta-connect-reconcile) with cargo-lambda, in release mode, for `cdk deploy` (infra/).
# Run it before every deploy whose Rust code changed; the CDK app bundles each binary
# with config.ini itself. The reconcile binary is built even for a config.ini without
# [OktaApi] (whose stack has no reconcile function): the artifacts then serve any config.
#
# Output ($OKTA_CONNECT_LAMBDA_DIR, default infra/build/lambda):
#   okta-connect-ingest/bootstrap
#   okta-connect-worker/bootstrap
#   okta-connect-reconcile/bootstrap
#   manifest.json          {"architecture": "arm64"|"x86_64", ...} — read by the CDK app,
#                          so the functions' architecture always matches the binaries.
#
# arm64 (Graviton: ~20 % cheaper per GB-s) is tried first; when the aarch64 Rust target
# cannot be installed or the cross build fails, it falls back to x86_64.
#
# Environment:
#   CARGO_TARGET_DIR         build directory (default cargo's ./target, shared with
#                            scripts/test.sh and `cargo run`, so rebuilds are incremental)
#   OKTA_CONNECT_LAMBDA_DIR  where the artifacts and manifest go
#   OKTA_CONNECT_LAMBDA_ARCH arm64 | x86_64 | auto (default: auto = arm64, else x86_64)
#   OKTA_CONNECT_LAMBDA_VENV Python venv holding cargo-lambda and zig
#                            (default ~/.cache/okta-connect/venv-lambda)
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${XDG_CACHE_HOME:-$HOME/.cache}/okta-connect"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
venv="${OKTA_CONNECT_LAMBDA_VENV:-$cache/venv-lambda}"
out="${OKTA_CONNECT_LAMBDA_DIR:-infra/build/lambda}"
want="${OKTA_CONNECT_LAMBDA_ARCH:-auto}"
bins=(okta-connect-ingest okta-connect-worker okta-connect-reconcile)

say() { printf '==> %s\n' "$*" >&2; }

# cargo-lambda from PyPI brings its own zig (the cross linker): nothing else to install.
if ! command -v cargo-lambda >/dev/null 2>&1; then
  if [ ! -x "$venv/bin/cargo-lambda" ]; then
    say "installing cargo-lambda into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check cargo-lambda
  fi
  export PATH="$venv/bin:$PATH"
fi

# build ARCH: a release build of each binary into the architecture's own lambda dir
# (both architectures would otherwise overwrite target/lambda/<bin>/bootstrap). One
# cargo invocation per binary, so each gets only the features it asks for: built
# together, feature unification would link the worker's AWS services into the ingest.
build() {
  local arch="$1" flag target
  case "$arch" in
    arm64) flag=--arm64; target=aarch64-unknown-linux-gnu ;;
    x86_64) flag=--x86-64; target=x86_64-unknown-linux-gnu ;;
    *) say "unknown architecture: $arch"; return 2 ;;
  esac
  if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    say "adding Rust target $target"
    rustup target add "$target" || return 1
  fi
  local b
  for b in "${bins[@]}"; do
    say "cargo lambda build --release $flag --bin $b ($arch)"
    cargo lambda build --release --locked "$flag" --lambda-dir "$CARGO_TARGET_DIR/lambda-$arch" \
      --package "$b" --bin "$b" || return 1
  done
}

case "$want" in
  auto)
    if build arm64; then arch=arm64
    else
      say "arm64 build failed; falling back to x86_64"
      build x86_64
      arch=x86_64
    fi ;;
  *) build "$want"; arch="$want" ;;
esac

# Copy the binaries into a fresh output folder, then the manifest last: a manifest
# always describes complete artifacts.
rm -rf "$out"
for b in "${bins[@]}"; do
  mkdir -p "$out/$b"
  cp "$CARGO_TARGET_DIR/lambda-$arch/$b/bootstrap" "$out/$b/bootstrap"
done
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
printf '{\n  "architecture": "%s",\n  "commit": "%s",\n  "built_at": "%s"\n}\n' \
  "$arch" "$commit" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$out/manifest.json"
say "artifacts in $out ($arch):"
ls -l "$out"/*/bootstrap >&2
