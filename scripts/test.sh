#!/usr/bin/env bash
# The test command: sets up a fresh machine, then runs every test of every module (unit, contract, independent
# clients, conformance, and the interop matrix against the real peers) under PARANOID leak detection.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec mvn -B verify "$@"
