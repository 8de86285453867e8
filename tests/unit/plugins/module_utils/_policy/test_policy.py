# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/_policy/policy.py: one run of uksm_policy on a fake host, and that a refusal writes nothing
(what it refuses, and the words: test_policy_refusals.py).

The paths of the module itself (every mode, conflicts, hosts without an interface, state absent, a kernel
error) are in tests/helpers/result_paths_uksm_policy.py; the role over it, on simulated hosts, in the policy
integration target.
"""

from __future__ import annotations

import os
import typing as t

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host import persist
from ansible_collections.litevirt.uksm.plugins.module_utils._install.systemctl import Systemctl
from ansible_collections.litevirt.uksm.plugins.module_utils._policy.policy import active_conflicts, apply_policy
from ansible_collections.litevirt.uksm.plugins.module_utils._policy.policy_refusals import name_problems
from ansible_collections.litevirt.uksm.plugins.module_utils._policy.policy_request import (
    PolicyError,
    host_tiers,
    request_of,
)
from ansible_collections.litevirt.uksm.tests.helpers import sysroot_tree
from ansible_collections.litevirt.uksm.tests.helpers.fake_sysfs import FakeHost
from ansible_collections.litevirt.uksm.tests.helpers.offline_systemctl import SYSTEMCTL, OfflineSystemctl
from ansible_collections.litevirt.uksm.tests.helpers.tree_snapshot import snapshot


def _conflict(enabled: bool, running: bool, rewrites: str | None) -> dict[str, t.Any]:
    return {'installed': True, 'enabled': enabled, 'running': running, 'rewrites': rewrites}


def test_conflicts_are_the_enabled_then_the_running_services_by_what_they_rewrite() -> None:
    fact = {
        'conflicts': {
            'ksmtuned': _conflict(False, True, 'always'),
            'ksm': _conflict(True, False, 'always'),
            'tuned': _conflict(True, True, 'maybe'),
            'other': _conflict(False, False, 'always'),
        }
    }
    assert active_conflicts(fact) == (['ksm', 'ksmtuned'], ['tuned'])


def test_each_tier_takes_the_settings_of_the_hosts_interface() -> None:
    request = request_of(
        pressure_tiers=[
            {'available_below_percent': 30, 'uksm_settings': {'cpu_governor': 'full'}, 'ksm_settings': None},
        ]
    )
    assert host_tiers(request, 'uksm') == [{'available_below_percent': 30, 'settings': {'cpu_governor': 'full'}}]
    assert host_tiers(request, 'ksm') == [{'available_below_percent': 30, 'settings': {}}]


def test_misspelt_attribute_of_the_other_interface_expected_failure_is_refused_on_every_host(
    tmp_path, monkeypatch
) -> None:
    """A KSM host refuses a mistake in the UKSM settings too: the canary shows it, whatever it runs."""
    host = FakeHost(str(tmp_path / 'hv01'), 'ksm').install(monkeypatch)
    before = snapshot(host.root)
    fake = OfflineSystemctl()
    request = request_of(
        uksm_settings={'cpu_govenor': 'medium'}, ksm_settings={'pages_to_scan': 700}, sysroot=host.root
    )
    with pytest.raises(PolicyError) as caught:
        apply_policy(request, _systemctl(host.root, fake), False, pytest.fail)
    assert caught.value.details['problems'] == name_problems(request)
    assert str(caught.value).startswith("uksm_settings: cpu_govenor (given 'medium') is not a uksm attribute (did ")
    assert snapshot(host.root) == before and host.attempts == [] and fake.commands == []


def _systemctl(root: str, fake: OfflineSystemctl) -> t.Callable[[], Systemctl]:
    return lambda: Systemctl(fake, SYSTEMCTL, root, False)


def test_refusal_expected_failure_writes_nothing_and_runs_no_systemctl(tmp_path, monkeypatch) -> None:
    host = FakeHost(str(tmp_path / 'hv01'), 'ksm').install(monkeypatch)
    sysroot_tree.unit_file(host.root, 'etc/systemd/system/ksmtuned.service')
    sysroot_tree.enable(host.root, 'etc/systemd/system/ksmtuned.service', 'multi-user.target')
    before = snapshot(host.root)
    fake = OfflineSystemctl()
    request = request_of(ksm_settings={'pages_to_scan': 700}, sysroot=host.root)
    with pytest.raises(PolicyError, match='ksmtuned rewrites /sys/kernel/mm/ksm and would undo the policy'):
        apply_policy(request, _systemctl(host.root, fake), False, pytest.fail)
    assert snapshot(host.root) == before and host.attempts == [] and fake.commands == []


def test_a_converged_host_is_read_once_and_left_alone(tmp_path, monkeypatch) -> None:
    host = FakeHost(str(tmp_path / 'hv01'), 'ksm').install(monkeypatch)
    fake = OfflineSystemctl()
    request = request_of(ksm_settings={'pages_to_scan': 700, 'run': 1}, metrics=True, sysroot=host.root)
    first = apply_policy(request, _systemctl(host.root, fake), False, pytest.fail)
    assert first['changed'] and first['ansible_facts']['uksm']['tunables']['pages_to_scan'] == 700
    assert os.path.isfile(os.path.join(host.root, 'etc/systemd/system/uksm-metrics.timer'))
    gathered = []
    from ansible_collections.litevirt.uksm.plugins.module_utils._policy import policy

    monkeypatch.setattr(
        policy, 'gather', lambda root, lock_wait: gathered.append((root, lock_wait)) or first['ansible_facts']['uksm']
    )
    writes = len(host.attempts)
    del fake.commands[:]
    again = apply_policy(request, _systemctl(host.root, fake), False, pytest.fail)
    assert not again['changed'] and gathered == [(host.root, request.lock_timeout)] and len(host.attempts) == writes
    assert fake.commands == []


def test_every_mistake_expected_failure_is_reported_once_in_one_run_where_it_was_written(tmp_path, monkeypatch) -> None:
    """A misspelt base attribute, a tier keeping the base's governor, a bad value in another tier: one
    refusal lists each once (the misspelling is not repeated under the tiers), and nothing is written."""
    host = FakeHost(str(tmp_path / 'hv01'), 'uksm').install(monkeypatch)
    before = snapshot(host.root)
    request = request_of(
        uksm_settings={'cpu_governor': 'medium', 'sleep_milisecs': 100},
        pressure_tiers=[
            {'available_below_percent': 30, 'uksm_settings': {'max_cpu_percentage': 80}},
            {'available_below_percent': 10, 'uksm_settings': {'cpu_governor': 'full', 'sleep_millisecs': 'fast'}},
        ],
        option_prefix='uksm_policy_',
        sysroot=host.root,
    )
    with pytest.raises(PolicyError) as caught:
        apply_policy(request, _systemctl(host.root, OfflineSystemctl()), False, pytest.fail)
    problems = caught.value.details['problems']
    assert [problem.split(' (given ')[0].split(': ')[0] for problem in problems] == [
        'uksm_policy_uksm_settings',
        'uksm_policy_pressure_tiers[1].uksm_settings',
        'uksm_policy_pressure_tiers[0].uksm_settings',
        'uksm_policy_pressure_tiers[1].uksm_settings',
    ]
    assert 'sleep_milisecs (given 100) is not a uksm attribute (did you mean sleep_millisecs?)' in problems[0]
    tier = 'uksm_policy_pressure_tiers[%d].uksm_settings: '
    assert problems[1].startswith(tier % 1 + 'sets sleep_millisecs, which the base settings do not set')
    assert problems[2].startswith(tier % 0 + 'sets max_cpu_percentage but runs the same cpu_governor (medium) as')
    assert problems[3].startswith(tier % 1 + "sleep_millisecs: 'fast' is not a decimal integer; accepted: ")
    assert sum('sleep_milisecs' in problem for problem in problems) == 1
    assert snapshot(host.root) == before and host.attempts == []


def _outside_run(tree):
    return {path: entry for path, entry in tree.items() if path.split('/')[0] not in ('.', 'run')}


def test_bad_values_expected_failure_are_named_by_the_option_they_were_written_in(tmp_path, monkeypatch) -> None:
    """Values refused by the planner (no misspelt name before them): the base's under the settings option,
    a tier's under that tier's, a threshold under the tier; nothing is written."""
    host = FakeHost(str(tmp_path / 'hv01'), 'uksm').install(monkeypatch)
    # the host lock (under /run) is taken before the planner reads the host: everything else stays as it was
    before = _outside_run(snapshot(host.root))
    request = request_of(
        uksm_settings={'cpu_governor': 'low', 'max_cpu_percentage': 150, 'sleep_millisecs': 100},
        pressure_tiers=[
            {'available_below_percent': 30, 'uksm_settings': {'cpu_governor': 'full', 'sleep_millisecs': 'fast'}}
        ],
        option_prefix='uksm_policy_',
        sysroot=host.root,
    )
    with pytest.raises(PolicyError) as caught:
        apply_policy(request, _systemctl(host.root, OfflineSystemctl()), False, pytest.fail)
    problems = caught.value.details['problems']
    assert [problem.split(': ')[0] for problem in problems] == [
        'uksm_policy_uksm_settings',
        'uksm_policy_pressure_tiers[0].uksm_settings',
    ]
    assert problems[0].startswith('uksm_policy_uksm_settings: max_cpu_percentage: 150 is out of range; accepted: ')
    assert str(caught.value) == ' | '.join(problems) + '. Nothing was written.'
    thresholds = request._replace(
        pressure_tiers=[{'available_below_percent': 130, 'uksm_settings': {'cpu_governor': 'full'}}],
        uksm_settings={'cpu_governor': 'low'},
    )
    with pytest.raises(PolicyError) as caught:
        apply_policy(thresholds, _systemctl(host.root, OfflineSystemctl()), False, pytest.fail)
    assert caught.value.details['problems'][0].startswith(
        'uksm_policy_pressure_tiers[0]: available_below_percent=130 is not accepted; accepted: '
    )
    too_many = request._replace(
        pressure_tiers=[
            {'available_below_percent': 90 - 10 * index, 'uksm_settings': {'cpu_governor': 'full'}}
            for index in range(persist.MAX_TIERS + 1)
        ],
        uksm_settings={'cpu_governor': 'low'},
    )
    with pytest.raises(PolicyError) as caught:
        apply_policy(too_many, _systemctl(host.root, OfflineSystemctl()), False, pytest.fail)
    assert caught.value.details['problems'] == [
        'uksm_policy_pressure_tiers: %d given; accepted: at most %d' % (persist.MAX_TIERS + 1, persist.MAX_TIERS)
    ]
    assert _outside_run(snapshot(host.root)) == before and host.attempts == []


def test_unusable_thresholds_expected_failure_come_with_a_name_problem_once_and_readable(tmp_path, monkeypatch) -> None:
    host = FakeHost(str(tmp_path / 'hv01'), 'uksm').install(monkeypatch)
    request = request_of(
        uksm_settings={'cpu_governor': 'quiet', 'slep_millisecs': 100},
        pressure_tiers=[
            {'available_below_percent': 10, 'uksm_settings': {'cpu_governor': 'full'}},
            {'available_below_percent': 30, 'uksm_settings': {'cpu_governor': 'medium'}},
        ],
        sysroot=host.root,
    )
    with pytest.raises(PolicyError) as caught:
        apply_policy(request, _systemctl(host.root, OfflineSystemctl()), False, pytest.fail)
    problems = caught.value.details['problems']
    assert problems[0].startswith("uksm_settings: slep_millisecs (given 100) is not a uksm attribute (did you mean ")
    assert problems[1:] == [
        "pressure_tiers[1]: available_below_percent=30 is not below the previous tier's 10; accepted: "
        'strictly decreasing thresholds, the scarcest memory last'
    ]
    assert str(caught.value).count('othing was written') == 1 and host.attempts == []
