#!/usr/bin/env bash
# The report playbook on simulated UKSM, KSM, old KSM, legacy UKSM and plain hosts, one UKSM host
# drifted from its persisted policy, one unreachable and one where uksm_facts fails: the JSON, CSV and
# HTML against each host's uksm_facts, then the page rendered in headless Chromium when it is installed.
set -eux
# sets simhost_dir (the simulated host ansible-test copied with this target), PYTHON and HOST_PYTHON; the
# directive lets shellcheck find that file relative to this one and see their assignments
# shellcheck source-path=SCRIPTDIR
source ../setup_simhost/simhost.sh
hosts="$(mktemp -d)"
"$simhost_dir/with-hosts.sh" "$hosts" uksm ksm:active ksm-old uksm-legacy none -- \
  ./scenario.sh "$hosts" "$simhost_dir" "$@"
