#!/usr/bin/env bash
# Mount simulated UKSM and KSM hosts, then check uksm_tunable's idempotency, check mode and diff.
set -eux
python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
# ansible-test runs a copy of the target; the simulator stays in the content root above OUTPUT_DIR
simhost_dir="${OUTPUT_DIR%/tests/output/*}/tests/simhost"
hosts="$(mktemp -d)"
simhost() { PYTHONPATH="$simhost_dir" "$python" -m simhost "$@"; }
cleanup() { "$simhost_dir/cleanup.sh" "$hosts" || true; rm -rf "$hosts"; }
trap cleanup EXIT
simhost up "$hosts/uksm" --variant uksm
simhost up "$hosts/ksm" --variant ksm --active
ansible-playbook -i localhost, -c local tunable.yml -e "hosts_dir=$hosts" -e "ansible_python_interpreter=$python" "$@"
