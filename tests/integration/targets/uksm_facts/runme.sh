#!/usr/bin/env bash
# Check uksm_facts against simulated hosts of every kind, in normal and in check mode.
set -eux
# ansible-test runs a copy of the target; the simulator stays in the content root above OUTPUT_DIR
simhost_dir="${OUTPUT_DIR%/tests/output/*}/tests/simhost"
export PYTHON="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
hosts="$(mktemp -d)"
for mode in --diff --check; do
  "$simhost_dir/with-hosts.sh" "$hosts" uksm ksm ksm-old none uksm-readonly uksm-legacy -- \
    ansible-playbook -i localhost, -c local facts.yml -e "hosts_dir=$hosts" -e "ansible_python_interpreter=$PYTHON" "$mode" "$@"
done
