#!/usr/bin/env python3
"""Checks that the test build reuses README command one's build.

Usage: cargo test --workspace --no-run --message-format=json | check-shared-build.py
run right after `cargo build --workspace --all-targets` (what scripts/okta-connect, README
command one, builds). Every artifact must then be fresh: a crate compiled again means
the two commands build differently (a flag or feature differs) and a newcomer compiles
it twice. Exits 1 naming such crates.
"""
import json
import sys


def main():
    rebuilt, seen = [], 0
    for line in sys.stdin:
        line = line.strip()
        if not line.startswith("{"):
            continue
        msg = json.loads(line)
        if msg.get("reason") != "compiler-artifact":
            continue
        seen += 1
        if not msg["fresh"]:
            rebuilt.append(f'{msg["package_id"]} ({msg["target"]["name"]})')
    if rebuilt:
        print("The test build compiled these again after README command one's build:")
        for item in sorted(set(rebuilt)):
            print("  ", item)
        print("Make scripts/okta-connect and scripts/test.sh build the same way.")
        return 1
    print(f"shared build: the test build reused all {seen} artifacts of README command one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
