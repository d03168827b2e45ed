#!/usr/bin/env bash
# The main job: sets up a fresh machine, builds the peers if needed, runs the conformance suite and the interop
# matrix, and prints where the report is and its counts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
status=0
mvn -B verify -pl conformance,interop-docker -am "$@" || status=$?
report=interop-docker/target/interop-report
echo
if [ -f "$report/report.json" ]; then
  python3 - "$report/report.json" <<'PY'
import json, sys, collections
r = json.load(open(sys.argv[1]))
cells = r.get("cells", [])
by = collections.Counter(c.get("state") for c in cells)
print("interop: %d cells: %s" % (len(cells), ", ".join("%s %d" % kv for kv in sorted(by.items()))))
conf = r.get("conformance")
if conf:
    print("conformance: %s" % conf)
PY
  echo "report: $(pwd)/$report/index.html"
else
  echo "no interop report was written (see the build output above)"
fi
for f in conformance/target/surefire-reports/*.txt; do [ -f "$f" ] && grep -h "Tests run" "$f"; done 2>/dev/null || true
exit $status
