#!/usr/bin/env bash
# Known vulnerabilities in the locked dependencies (issue 10 item 7): `make audit`, run by .ci/run.
#
# The requirements come from uv.lock (`uv export --frozen`, every group), so what is audited is exactly
# what `uv sync --frozen` installs. pip-audit looks each pinned version up at the advisory service
# (PIP_AUDIT_SERVICE: pypi, the default, or osv); nothing is resolved or installed.
#
# Exit status: 0 clean; 1 a known vulnerability (always fatal); 3 the advisory service could not be
# reached for some packages, so they were NOT audited. An audit that did not run never looks clean:
# with AUDIT_OFFLINE=warn (what .ci/run uses on an offline machine) status 3 becomes a loud warning
# naming the packages left unaudited, and the run goes on; the default (AUDIT_OFFLINE=fail) fails.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
service=${PIP_AUDIT_SERVICE:-pypi}
reqs=$(mktemp); report=$(mktemp); log=$(mktemp); trap 'rm -f "$reqs" "$report" "$log"' EXIT

"$VENV/bin/uv" export --frozen --all-groups --format requirements-txt --no-emit-project --quiet >"$reqs" || {
  echo "pip-audit: could not export the locked requirements from uv.lock" >&2; exit 2; }

"$VENV/bin/pip-audit" --requirement "$reqs" --no-deps --disable-pip --progress-spinner off \
  --vulnerability-service "$service" --format json --output "$report" >"$log" 2>&1
status=$?
if [ ! -s "$report" ]; then
  cat "$log" >&2
  echo "pip-audit: no report — the advisory service ($service) could not be reached; NOT audited." >&2
  [ "${AUDIT_OFFLINE:-fail}" = "warn" ] && exit 0
  exit 3
fi
"$VENV/bin/python" - "$report" "$status" "$service" "${AUDIT_OFFLINE:-fail}" <<'PY'
import json, sys
report, status, service, offline = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3], sys.argv[4]
deps = report.get("dependencies", [])
vulnerable = [d for d in deps if d.get("vulns")]
skipped = [d for d in deps if d.get("skip_reason")]
audited = len(deps) - len(skipped)
for d in vulnerable:
    for v in d["vulns"]:
        print(f"VULNERABLE {d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions') or ['?'])})")
if vulnerable:
    print(f"pip-audit: {len(vulnerable)} locked package(s) with known vulnerabilities.", file=sys.stderr)
    sys.exit(1)
if status not in (0, 1):
    print(f"pip-audit exited {status}.", file=sys.stderr)
    sys.exit(2)
if audited:
    print(f"pip-audit: {audited} of {len(deps)} locked packages checked at {service}: no known vulnerabilities.")
if skipped:
    names = ", ".join(f"{d['name']} {d.get('version', '')}".strip() for d in skipped)
    print("=" * 78, file=sys.stderr)
    print(f"pip-audit: {len(skipped)} of {len(deps)} locked packages were NOT AUDITED — the advisory service "
          f"({service}) could not be reached for them (offline, or a mirror without its JSON API):\n  {names}",
          file=sys.stderr)
    print("=" * 78, file=sys.stderr)
    sys.exit(0 if offline == "warn" else 3)
PY
