#!/usr/bin/env bash
# Usage: scenario.sh HOSTS_DIR SIMHOST_DIR [ansible-playbook options]; hosts are mounted by runme.sh,
# which unmounts every host under HOSTS_DIR afterwards (the drifted one made here too).
set -euxo pipefail
hosts="$1"
simhost_dir="$2"
shift 2
simhost() { PYTHONPATH="$simhost_dir" "$PYTHON" -m simhost "$@"; }
play() { ansible-playbook -i inventory.yml -e "hosts_dir=$hosts" -e "ansible_python_interpreter=$HOST_PYTHON" "$@"; }
out="$hosts/report"

# a second UKSM host that saves more; its persisted policy is lost to a reboot: drift
simhost up "$hosts/drifted" --variant uksm --set pages_sharing=120000
play prepare.yml "$@"
simhost reboot "$hosts/drifted"

echo "report expected to list failures: hv-down is unreachable (its fatal line is ignored) and uksm_facts fails on hv-broken"
play litevirt.uksm.report -e "report_dir=$out" "$@" | tee "$hosts/report-play.log"
play facts.yml -e "facts_file=$out/facts.json" "$@"
"$PYTHON" check_report.py "$out" "$out/facts.json" "$hosts/report-play.log"

# headless Chromium renders the page, without network: the totals, the bars and a screenshot; then the
# table is sorted by clicks on its headings and filtered through its controls, in the browser
if command -v chromium >/dev/null; then
  browser() {  # its stderr is mostly D-Bus noise: shown only when it fails
    chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$hosts/chromium" "$@" \
      2> "$out/chromium.log" || { cat "$out/chromium.log"; return 1; }
  }
  browser --dump-dom "file://$out/report.html" > "$out/dom.html"
  browser --screenshot="$out/screenshot.png" --window-size=1280,1600 "file://$out/report.html"
  "$PYTHON" browse_report.py "$out/report.html" "$hosts/chromium" > "$out/browsed.json"
  "$PYTHON" check_report.py "$out" "$out/facts.json" "$hosts/report-play.log" "$out/dom.html" "$out/screenshot.png" "$out/browsed.json"
else
  echo "chromium is not installed (scripts/setup-host.sh installs it): the page was not rendered"
fi

# a fleet where no host answers still gets its report
play litevirt.uksm.report -e "report_dir=$hosts/down" -e report_hosts=hv-down "$@"
"$PYTHON" -c 'import json, sys; t = json.load(open(sys.argv[1]))["totals"]; assert t["hosts"] == t["unreachable"] == 1, t' \
  "$hosts/down/report.json"
