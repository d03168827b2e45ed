#!/usr/bin/env bash
# The load tier at full size (issue #16): every transport and variant, tunnelwire against tunnelwire, in one
# long-lived listener and dialer each: 3 x 256 MiB sequential echoes on the pooled dialer, 16 concurrent 32 MiB
# tunnels with a latency probe, 1,000 short tunnels, 100 resets mid-transfer, a tunnel idle for 70 s (past the peers'
# 30 s idle timeouts). Results: interop-docker/target/interop-report/ (report.json "load", index.html#load).
# `mvn verify` runs the same tier at a reduced size. Extra arguments go to Maven, e.g. -Dload.variants='^grpc'.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mvn -B -q -pl interop-docker -am install -DskipTests
exec mvn -B -pl interop-docker verify -Dit.test=LoadIT -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
    -DfailIfNoTests=false -Dload.full=true "$@"
