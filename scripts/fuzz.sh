#!/usr/bin/env bash
# Fuzzes every Jazzer target (@FuzzTest, see docs/security.md "Fuzzing") for N minutes each, one after the other.
#   scripts/fuzz.sh [minutes] [filter]      minutes: per target, default 5; filter: only targets matching (grep -E)
# Each target runs as `JAZZER_FUZZ=1 mvn test -Dtest=Class#method` with PARANOID leak detection (the modules' argLine).
# New coverage goes to <module>/.cifuzz-corpus/ (not committed); a finding is written as crash-<sha1> into the
# target's corpus directory src/test/resources/<package>/<Class>Inputs/<method>/, where `mvn verify` replays it.
# Rename it (crash-* is git-ignored) after fixing, e.g. to the bug's name, and commit it. Logs: target/fuzz/.
# Exit status: 1 when any target found something.
set -uo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-5}"
filter="${2:-.}"

# module  Class#method
TARGETS=(
  "impl GunFrameDecoderFuzzTest#decode"
  "impl WsFuzzTest#frameDecoder"
  "impl WsFuzzTest#masking"
  "impl WsFuzzTest#handshake"
  "impl ProxyHandlerFuzzTest#vless"
  "impl ProxyHandlerFuzzTest#relay"
  "impl ProxyHandlerFuzzTest#socks5"
  "impl ProxyHandlerFuzzTest#http"
  "impl ProxyHandlerFuzzTest#auto"
  "impl PhtFuzzTest#server"
  "impl PhtFuzzTest#lines"
  "impl ProxyProtocolFuzzTest#header"
  "conformance FixtureLoaderFuzzTest#parse"
  "cli CliFuzzTest#commandLine"
  "cli CliFuzzTest#configFile"
)

mkdir -p target/fuzz
failed=()
for t in "${TARGETS[@]}"; do
  module="${t%% *}"
  target="${t#* }"
  echo "$target" | grep -Eq -- "$filter" || continue
  log="target/fuzz/${target//#/.}.log"
  echo "== $target: ${minutes} min (log: $log)"
  # timeout.mode=disabled: the build's 120 s JUnit default would otherwise end a longer fuzzing run; Jazzer still
  # turns it into libFuzzer's per-input -timeout.
  if JAZZER_FUZZ=1 mvn -B -pl "$module" -am test -Dtest="$target" -Dsurefire.failIfNoSpecifiedTests=false \
      -Djazzer.max_duration="${minutes}m" -Djunit.jupiter.execution.timeout.mode=disabled >"$log" 2>&1; then
    grep -E "^Done [0-9]+ runs" "$log" | tail -1
  else
    echo "   FINDING or failure: see $log"
    grep -E "== Java Exception|FuzzTestFinding|Test unit written|crash-" "$log" | head -5
    failed+=("$target")
  fi
done
if ((${#failed[@]})); then
  echo "targets with findings: ${failed[*]}"
  exit 1
fi
echo "no findings"
