#!/usr/bin/env bash
# The README's demo: simulated UKSM, KSM and plain hosts; facts, a policy applied with uksm_tunable,
# the policy role and what it installs, and the boot applier after a simulated reboot.
# Expects `make build` to have installed the collection tarball (ANSIBLE_COLLECTIONS_PATH).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
demo="$root/build/demo"
hosts="$demo/hosts"
# every run starts from new hosts (the Try it's): a policy or units left by the last run would change
# what it shows
trap '"$here/try.sh" down "$demo"' EXIT
"$here/try.sh" up "$demo" >/dev/null
export ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_HOST_KEY_CHECKING=false
ansible-playbook -i "$here/inventory.yml" "$here/demo.yml" -e "demo_hosts_dir=$hosts" -e "demo_simhost_dir=$root/tests/simhost"
