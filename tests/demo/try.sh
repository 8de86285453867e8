#!/usr/bin/env bash
# Simulated hypervisors for the README's "Try it" (make try, make try-down) and the demo (run.sh).
# Usage: tests/demo/try.sh up|down [DIR]   (DIR: build/try)
#   up:   hv-uksm01 (UKSM), hv-ksm01 (KSM) and hv-plain01 (neither) under DIR/hosts, new at every run,
#         and DIR/inventory.yml: the group hypervisors, each host's uksm_policy_sysroot pointing at its
#         simulated root, so that no module touches this machine's own /sys
#   down: unmount them (their files stay in DIR until `make clean`)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
try="${2:-$root/build/try}"
python="$root/.venv/bin/python"
simhost() { PYTHONPATH="$root/tests/simhost" "$python" -m simhost "$@"; }

"$root/tests/simhost/cleanup.sh" "$try/hosts" >/dev/null 2>&1 || true
[ "${1:-}" = down ] && exit 0
[ "${1:-}" = up ] || { echo "usage: $0 up|down [DIR]" >&2; exit 2; }
rm -rf --one-file-system "$try"
mkdir -p "$try/hosts"
simhost up "$try/hosts/hv-uksm01" --variant uksm
simhost up "$try/hosts/hv-ksm01" --variant ksm --active
simhost up "$try/hosts/hv-plain01" --variant none
cat > "$try/inventory.yml" <<EOF
---
# Simulated hypervisors of the README's "Try it" (tests/demo/try.sh): this machine, each host with its own root.
hypervisors:
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  hosts:
    hv-uksm01:
      uksm_policy_sysroot: $try/hosts/hv-uksm01
    hv-ksm01:
      uksm_policy_sysroot: $try/hosts/hv-ksm01
    hv-plain01:
      uksm_policy_sysroot: $try/hosts/hv-plain01
EOF
echo "simulated hosts hv-uksm01 (UKSM), hv-ksm01 (KSM), hv-plain01 (neither) in $try/inventory.yml"
