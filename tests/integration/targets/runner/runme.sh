#!/usr/bin/env bash
# The rollout and report playbooks run as AWX runs a job template, through ansible-runner's Python
# API, against four simulated hosts (UKSM, KSM, old KSM, none): awx_jobs.py checks the status, the
# events and the artefacts of each job, and that a rollout with a refused policy fails its job.
set -eux
# sets simhost_dir (the simulated host ansible-test copied with this target) and PYTHON; the directive
# lets shellcheck find that file relative to this one and see both assignments
# shellcheck source-path=SCRIPTDIR
source ../setup_simhost/simhost.sh
hosts="$(mktemp -d)"
"$simhost_dir/with-hosts.sh" "$hosts" uksm ksm:active ksm-old none -- "$PYTHON" awx_jobs.py "$hosts"
