#!/usr/bin/env bash
# Runs the README's "Try it" block exactly as written (between its try-it markers), in this clone, from
# a shell that has none of the tools on its PATH, as a newcomer's would be; then checks what it made.
# Needs root and FUSE like the demo, and the collection built (the nox session readme-try-it builds it).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
block="$(mktemp)"
trap 'rm -f "$block"; tests/demo/try.sh down' EXIT
# the lines between the markers, without the markers and the code fence around them
sed -n '/^<!-- try-it: tests/,/^<!-- try-it: end -->/{/^<!-- try-it/d;/^```/d;p}' README.md > "$block"
if ! grep -q '^make try ' "$block" || ! grep -q '^make try-down' "$block"; then
  echo "README.md has no try-it block from make try to make try-down" >&2
  exit 1
fi
# Ansible's own files stay in the clone (DEVELOPMENT.md, Where things end up)
env -i HOME="$HOME" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  ANSIBLE_HOME="$root/build/ansible-home" ANSIBLE_NOCOLOR=1 bash -euxo pipefail "$block"
# what the block made: the rollout passed, and the report has every host, the plain one without UKSM/KSM
.venv/bin/python - <<'EOF'
import json

with open('build/try/rollout/summary.json', encoding='utf-8') as handle:
    summary = json.load(handle)
assert summary['passed'] and not summary['check_mode'], summary
with open('build/try/report/report.json', encoding='utf-8') as handle:
    report = json.load(handle)
assert sorted(row['host'] for row in report['hosts']) == ['hv-ksm01', 'hv-plain01', 'hv-uksm01'], report['hosts']
assert report['totals']['without_interface'] == 1 and report['totals']['drifted'] == 0, report['totals']
print('README try-it: every command ran, the rollout passed, the report lists the three hosts')
EOF
