#!/usr/bin/env bash
# Usage: scenario.sh HOSTS_DIR SIMHOST_DIR [ansible-playbook options]; hosts are mounted by runme.sh.
set -eux
hosts="$1"
simhost_dir="$2"
shift 2
play() {
  ansible-playbook -i inventory.yml -e "hosts_dir=$hosts" -e "simhost_dir=$simhost_dir" -e "simhost_python=$PYTHON" \
    -e "ansible_python_interpreter=$HOST_PYTHON" "$@"
}
recap_unchanged() {  # every host of the recap in $1 reports changed=0
  grep -E '^hv-[a-z]+ +: ok=' "$1"
  ! grep -E '^hv-[a-z]+ +: ok=[0-9]+ +changed=[1-9]' "$1"
}
log="$(mktemp)"

play prepare.yml "$@"
play check.yml --check "$@"
play converge.yml -e expect_changed=true "$@"
# On a converged host the role runs exactly one module (uksm_policy): -vvv names every module sent to
# a host (without pipelining, each is a PUT of AnsiballZ_<module>.py).
ANSIBLE_PIPELINING=false play converge.yml -e expect_changed=false -vvv "$@" | tee "$log"
recap_unchanged "$log"
sent="$(sed -nE 's/^<([^>]+)> PUT .*AnsiballZ_([a-z_]+)\.py$/\1 \2/p' "$log" | sort | tr '\n' ' ')"
[ "$sent" = "hv-ksm uksm_policy hv-uksm uksm_policy " ] || { echo "modules sent on a converged re-run: $sent"; exit 1; }
# Playbooks with nothing to check between them run in one ansible-playbook; each reads the hosts anew.
# pressure.yml's re-run with changed=0 after conflicts.yml's run with disable also proves that no result
# of an earlier run of the role leaks into a later one. raised.yml converges a short UKSM sleep that
# uksmd raises; the sleep holds through three re-runs and the rollout's check; a value written by hand
# beyond the raise is drift, and the role writes the policy again.
play verify.yml update.yml conflicts.yml pressure.yml raised.yml -e raised_step=converge "$@"
for _ in 1 2 3; do
  play raised.yml -e raised_step=rerun "$@" | tee "$log"
  recap_unchanged "$log"
done
raised_policy='{"uksm_policy_preset": "", "uksm_policy_uksm_settings": {"cpu_governor": "full", "sleep_millisecs": 12, "run": 1}}'
play litevirt.uksm.rollout --check -l hv-uksm -e "$raised_policy" -e "rollout_summary_dir=$hosts/raised-check" "$@"
play raised_check.yml raised.yml absent.yml -e "summary_dir=$hosts/raised-check" -e raised_step=by_hand "$@"
play absent.yml "$@" | tee "$log"
recap_unchanged "$log"
play unavailable.yml "$@"
