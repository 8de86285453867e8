#!/usr/bin/env bash
# Mount simulated hosts of every kind, then check uksm_facts against each through ansible-playbook.
set -eux
python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
# ansible-test runs a copy of the target; the simulator stays in the content root above OUTPUT_DIR
simhost_dir="${OUTPUT_DIR%/tests/output/*}/tests/simhost"
hosts="$(mktemp -d)"
simhost() { PYTHONPATH="$simhost_dir" "$python" -m simhost "$@"; }
cleanup() { "$simhost_dir/cleanup.sh" "$hosts" || true; rm -rf "$hosts"; }
trap cleanup EXIT
for variant in uksm ksm ksm-old none uksm-readonly uksm-legacy; do
  simhost up "$hosts/$variant" --variant "$variant"
done
ansible-playbook -i localhost, -c local facts.yml -e "hosts_dir=$hosts" -e "ansible_python_interpreter=$python" "$@"
ansible-playbook -i localhost, -c local facts.yml -e "hosts_dir=$hosts" -e "ansible_python_interpreter=$python" --check "$@"
