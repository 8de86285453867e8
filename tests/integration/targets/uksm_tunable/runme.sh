#!/usr/bin/env bash
# Check uksm_tunable's idempotency, check mode, diff and errors against simulated UKSM and KSM hosts.
set -eux
# ansible-test runs a copy of the target; the simulator stays in the content root above OUTPUT_DIR
simhost_dir="${OUTPUT_DIR%/tests/output/*}/tests/simhost"
export PYTHON="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
hosts="$(mktemp -d)"
"$simhost_dir/with-hosts.sh" "$hosts" uksm ksm:active -- \
  ansible-playbook -i localhost, -c local tunable.yml -e "hosts_dir=$hosts" -e "ansible_python_interpreter=$PYTHON" "$@"
