#!/usr/bin/env bash
# Check uksm_facts against simulated hosts of every kind, in normal and in check mode.
set -eux
# sets simhost_dir (the simulated host ansible-test copied with this target), PYTHON and HOST_PYTHON; the
# directive lets shellcheck find that file relative to this one and see their assignments
# shellcheck source-path=SCRIPTDIR
source ../setup_simhost/simhost.sh
hosts="$(mktemp -d)"
for mode in --diff --check; do
  "$simhost_dir/with-hosts.sh" "$hosts" uksm ksm ksm-old none uksm-readonly uksm-legacy -- \
    ansible-playbook -i localhost, -c local facts.yml -e "hosts_dir=$hosts" -e "ansible_python_interpreter=$HOST_PYTHON" "$mode" "$@"
done
