#!/usr/bin/env bash
# The policy role on simulated UKSM, KSM and plain hosts: check mode, converge, idempotence, the
# installed unit and applier (systemctl --root, systemd-analyze verify, drift after a reboot),
# conflicting services, pressure tiers and the tuner, state absent and hosts without an interface.
set -eux
# sets simhost_dir (the simulated host ansible-test copied with this target), PYTHON and HOST_PYTHON; the
# directive lets shellcheck find that file relative to this one and see their assignments
# shellcheck source-path=SCRIPTDIR
source ../setup_simhost/simhost.sh
hosts="$(mktemp -d)"
"$simhost_dir/with-hosts.sh" "$hosts" uksm ksm:active none -- ./scenario.sh "$hosts" "$simhost_dir" "$@"
