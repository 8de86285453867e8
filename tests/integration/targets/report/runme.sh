#!/usr/bin/env bash
# The report playbook on simulated UKSM, KSM, old KSM, legacy UKSM and plain hosts, one UKSM host
# drifted from its persisted policy, one unreachable and one where uksm_facts fails: the JSON, CSV and
# HTML against each host's uksm_facts, then the page rendered in headless Chromium when it is installed.
set -eux
# ansible-test runs a copy of the target; the simulator stays in the content root above OUTPUT_DIR
simhost_dir="${OUTPUT_DIR%/tests/output/*}/tests/simhost"
export PYTHON="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
hosts="$(mktemp -d)"
"$simhost_dir/with-hosts.sh" "$hosts" uksm ksm:active ksm-old uksm-legacy none -- \
  ./scenario.sh "$hosts" "$simhost_dir" "$@"
