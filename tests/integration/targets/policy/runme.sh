#!/usr/bin/env bash
# The policy role on simulated UKSM, KSM and plain hosts: check mode, converge, idempotence, the
# installed unit and applier (systemctl --root, systemd-analyze verify, drift after a reboot),
# conflicting services, state absent and hosts without an interface.
set -eux
# ansible-test runs a copy of the target; the simulator stays in the content root above OUTPUT_DIR
simhost_dir="${OUTPUT_DIR%/tests/output/*}/tests/simhost"
export PYTHON="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
hosts="$(mktemp -d)"
"$simhost_dir/with-hosts.sh" "$hosts" uksm ksm:active none -- ./scenario.sh "$hosts" "$simhost_dir" "$@"
