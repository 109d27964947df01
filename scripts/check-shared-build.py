#!/usr/bin/env python3
"""Checks that the test build reuses README command one's build.

Usage: check-shared-build.py RUN_BUILD.jsonl TEST_BUILD.jsonl
Each file holds cargo's `--message-format=json` output: first of
`cargo build -p okta-connect` (what `cargo run -p okta-connect -- dev` builds), then of
`cargo test --workspace --no-run`. A registry crate that the first build made and the
second compiles again means some dev-dependency enables extra features of it (tokio's
`test-util`, say): the newcomer's two commands then compile the dependency tree twice.
Exits 1 naming such crates.
"""
import json
import sys


def artifacts(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            msg = json.loads(line)
            if msg.get("reason") == "compiler-artifact":
                yield msg


def main():
    run_build, test_build = sys.argv[1], sys.argv[2]
    built = {m["package_id"] for m in artifacts(run_build)}
    twice = sorted(
        {
            m["package_id"]
            for m in artifacts(test_build)
            if m["package_id"] in built
            and not m["fresh"]
            and "registry+" in m["package_id"]
            and not m["profile"].get("test", False)
        }
    )
    if twice:
        print("These dependencies were compiled again for the tests although")
        print("`cargo build -p okta-connect` had built them: a dev-dependency changes")
        print("their features. Enable the feature for everyone or drop it.")
        for package in twice:
            print("  ", package)
        return 1
    print(f"shared build: the test build reused all {len(built)} crates of README command one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
