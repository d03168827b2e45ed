#!/usr/bin/env bash
# The main job: sets up a fresh machine, builds the peers if needed, runs the conformance suite and the interop
# matrix, and prints where the report is and its counts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
status=0
# Build (without their tests) what the report needs, then run the conformance suite and the interop matrix.
mvn -B -q install -DskipTests -pl conformance,interop-docker -am "$@" || exit $?
mvn -B verify -pl conformance,interop-docker "$@" || status=$?
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
    # PeerConformanceIT: every fixture against tunnelwire in-process and the reference peers
    print("conformance: %d cases against tunnelwire and the peers (%.1f s)" % (conf.get("cases", 0),
          conf.get("totalMillis", 0) / 1000.0))
    for target, t in conf.get("targets", {}).items():
        tot = t.get("total", {})
        per = ", ".join("%s %d/%d/%d" % (tr, o.get("pass", 0), o.get("fail", 0), o.get("deviation", 0))
                        for tr, o in sorted(t.get("perTransport", {}).items())
                        if o.get("pass", 0) + o.get("fail", 0) + o.get("deviation", 0) > 0)
        print("conformance %s: %d pass, %d fail, %d deviation, %d n/a%s" % (target, tot.get("pass", 0),
              tot.get("fail", 0), tot.get("deviation", 0), tot.get("n/a", 0),
              "; per transport pass/fail/deviation: " + per if per else ""))
PY
  echo "report: $(pwd)/$report/index.html"
else
  echo "no interop report was written (see the build output above)"
fi
python3 - <<'PY'
import glob, re, collections
per = collections.Counter(); fails = collections.Counter()
for f in glob.glob("conformance/target/surefire-reports/TEST-*ConformanceSuite*.xml"):
    for m in re.finditer(r'<testcase name="(?:fixtures\(\) )?([a-z0-9_]+)\.(?:client|server)\.[^"]*"[^>]*?(/>|>(.*?)</testcase>)', open(f).read(), re.S):
        per[m.group(1)] += 1
        if m.group(3) and ("<failure" in m.group(3) or "<error" in m.group(3)):
            fails[m.group(1)] += 1
if per:
    total = sum(per.values())
    print("conformance: %d fixtures replayed against impl, %d failed; per transport: %s" % (
        total, sum(fails.values()), ", ".join("%s %d" % kv for kv in sorted(per.items()))))
PY
exit $status
