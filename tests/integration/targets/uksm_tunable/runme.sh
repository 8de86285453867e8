#!/usr/bin/env bash
# Check uksm_tunable's idempotency, check mode, diff and errors against simulated UKSM and KSM hosts.
set -eux
# sets simhost_dir (the simulated host ansible-test copied with this target), PYTHON and HOST_PYTHON; the
# directive lets shellcheck find that file relative to this one and see their assignments
# shellcheck source-path=SCRIPTDIR
source ../setup_simhost/simhost.sh
hosts="$(mktemp -d)"
"$simhost_dir/with-hosts.sh" "$hosts" uksm ksm:active -- \
  ansible-playbook -i localhost, -c local tunable.yml -e "hosts_dir=$hosts" -e "ansible_python_interpreter=$HOST_PYTHON" "$@"
