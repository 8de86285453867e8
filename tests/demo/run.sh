#!/usr/bin/env bash
# The README's demo: simulated UKSM, KSM and plain hosts; facts, a policy applied with uksm_tunable,
# the policy role and what it installs, and the boot applier after a simulated reboot.
# Expects `make build` to have installed the collection tarball (ANSIBLE_COLLECTIONS_PATH).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
hosts="$root/build/demo/hosts"
simhost() { PYTHONPATH="$root/tests/simhost" python -m simhost "$@"; }
"$root/tests/simhost/cleanup.sh" "$hosts" 2>/dev/null || true
# every run starts from new hosts: a policy or units left by the last run would change what it shows
rm -rf --one-file-system "$hosts"
trap '"$root/tests/simhost/cleanup.sh" "$hosts" >/dev/null 2>&1 || true' EXIT
mkdir -p "$hosts"
simhost up "$hosts/hv-uksm01" --variant uksm
simhost up "$hosts/hv-ksm01" --variant ksm --active
simhost up "$hosts/hv-plain01" --variant none
export ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_HOST_KEY_CHECKING=false
ansible-playbook -i "$here/inventory.yml" "$here/demo.yml" -e "demo_hosts_dir=$hosts" -e "demo_simhost_dir=$root/tests/simhost"
