# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""uksm_policy_unit run in-process on a plain sysroot: its refusals, check mode, the result, and errors.

systemctl never runs: ``run_command`` is offline_systemctl's stand-in, which does what ``systemctl --root``
does to the tree (the ``.wants`` links) and records each command, so the tests see which ones the module issues.
"""

from __future__ import annotations

import os
import sys
import typing as t

import pytest
import yaml

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths, persist
from ansible_collections.litevirt.uksm.plugins.module_utils._install import installation, unit_setup
from ansible_collections.litevirt.uksm.plugins.module_utils.errors import UksmError
from ansible_collections.litevirt.uksm.plugins.modules import uksm_policy_unit
from ansible_collections.litevirt.uksm.tests.helpers import sysroot_tree
from ansible_collections.litevirt.uksm.tests.helpers.module_run import exits, fails
from ansible_collections.litevirt.uksm.tests.helpers.offline_systemctl import OfflineSystemctl, live_manager
from ansible_collections.litevirt.uksm.tests.helpers.tree_snapshot import snapshot

RETURNED = yaml.safe_load(uksm_policy_unit.RETURN)
SUCCESS_KEYS = {key for key, entry in RETURNED.items() if entry['returned'] == 'success'}
UNIT = '/etc/systemd/system/uksm-policy.service'


@pytest.fixture
def systemctl(monkeypatch: pytest.MonkeyPatch) -> OfflineSystemctl:
    return OfflineSystemctl().install(monkeypatch)


@pytest.fixture
def root(tmp_path: t.Any) -> str:
    path = str(tmp_path / 'hv01')
    os.mkdir(path)
    return path


def _host(files: t.Iterable[str]) -> list[str]:
    return ['/' + path for path in files]


# -- the argument spec and the module's own checks ------------------------------------------------


@pytest.mark.parametrize(
    'args, message',
    [
        ({'state': 'enabled'}, 'value of state must be one of: present, absent, got: enabled'),
        ({'enabled': 'sometimes'}, "argument 'enabled' is of type str and we were unable to convert to bool"),
        (
            {'before': {'libvirtd.service': 1}},
            "argument 'before' is of type dict and we were unable to convert to list",
        ),
        ({'units': ['x.service']}, 'Unsupported parameters for'),
    ],
)
def test_invalid_options_are_refused_by_the_argument_spec(root, systemctl, args, message):
    failure = fails(uksm_policy_unit.main, dict(args, sysroot=root))
    assert failure['msg'].startswith(message) or message in failure['msg']
    assert os.listdir(root) == [] and systemctl.commands == []


@pytest.mark.parametrize(
    'args, message',
    [
        (
            {'python': 'python3'},
            "python: 'python3' is not accepted; accepted: an absolute path of letters, digits and ._+-/",
        ),
        (
            {'python': '/usr/bin/python3 -E'},
            "python: '/usr/bin/python3 -E' is not accepted; accepted: an absolute path of letters, digits and ._+-/",
        ),
        (
            {'before': ['libvirtd.service', 'guests', 'a b.service', '%n.service']},
            "before: 'guests', 'a b.service', '%n.service' not accepted; accepted: systemd unit names such as "
            'libvirtd.service',
        ),
        (
            {'metrics': True, 'metrics_output': '/var/lib/node-exporter/uksm.txt'},
            "metrics_output: '/var/lib/node-exporter/uksm.txt' is not accepted; accepted: an absolute, normalised "
            'path of letters, digits and ._+-/ below a directory, ending in .prom',
        ),
        (
            {'metrics': True, 'metrics_output': '/var/lib/../tmp/uksm.prom'},
            "metrics_output: '/var/lib/../tmp/uksm.prom' is not accepted; accepted: an absolute, normalised "
            'path of letters, digits and ._+-/ below a directory, ending in .prom',
        ),
        (
            {'metrics': True, 'metrics_output': '/uksm.prom'},
            "metrics_output: '/uksm.prom' is not accepted; accepted: an absolute, normalised "
            'path of letters, digits and ._+-/ below a directory, ending in .prom',
        ),
    ],
)
def test_values_that_would_break_the_unit_file_are_refused(root, systemctl, args, message):
    assert fails(uksm_policy_unit.main, dict(args, sysroot=root)) == {'msg': message}
    assert os.listdir(root) == [] and systemctl.commands == []


def test_metrics_output_is_not_checked_while_metrics_are_off(root, systemctl):
    result = exits(uksm_policy_unit.main, {'sysroot': root, 'metrics_output': 'not/a/prom'}, check_mode=True)
    assert result['metrics'] == {'enabled': False, 'output': None}


def test_relative_sysroot_fails_with_the_reason(root, systemctl, monkeypatch):
    monkeypatch.chdir(os.path.dirname(root))
    assert fails(uksm_policy_unit.main, {'sysroot': 'hv01'}) == {'msg': "sysroot must be an absolute path, got 'hv01'"}
    assert systemctl.commands == []


# -- state=present --------------------------------------------------------------------------------


def test_check_mode_predicts_the_installation_and_writes_nothing(root, systemctl):
    result = exits(uksm_policy_unit.main, {'sysroot': root}, check_mode=True, diff=True)
    assert os.listdir(root) == [] and systemctl.commands == []
    files = installation.artefacts('/usr/bin/python3')
    assert result['changed'] is True and result['enabled'] is True
    assert result['unit'] == UNIT
    assert result['installed'] == _host(file.path for file in files)
    assert set(_host(file.path for file in files)) <= set(result['files'])
    assert result['metrics'] == {'enabled': False, 'output': None}
    assert result['diff'] == [
        {
            'before': '',
            'after': [file.text for file in files if file.path == paths.UNIT_FILE][0],
            'before_header': UNIT,
            'after_header': UNIT,
        }
    ]
    assert set(result) == SUCCESS_KEYS | {'changed', 'diff'}


def test_install_enables_offline_and_a_second_run_changes_nothing(root, systemctl):
    result = exits(uksm_policy_unit.main, {'sysroot': root})
    assert result['changed'] is True and 'diff' not in result
    # a unit file this run creates is not enabled: no question; offline: no daemon-reload, no start
    assert systemctl.verbs() == [['enable', paths.UNIT_NAME]]
    unit_text = sysroot_tree.read(root, paths.UNIT_FILE)
    assert 'ExecStart=/usr/bin/python3 ' in unit_text  # a sysroot's python is the host's, not this one
    assert 'Before=sysinit.target shutdown.target libvirtd.service libvirt-guests.service ' in unit_text
    assert sorted(installation.installed(root)) == sorted(path.lstrip('/') for path in result['installed'])
    # bytecode is compiled for the installed package and reported as written
    assert any(path.endswith('.pyc') for path in result['files'])
    before = snapshot(root)
    again = exits(uksm_policy_unit.main, {'sysroot': root})
    assert again['changed'] is False and again['files'] == [] and again['enabled'] is True
    assert snapshot(root) == before and len(systemctl.commands) == 1  # linked as enable links it: no question


def test_disabled_unit_is_installed_but_not_linked(root, systemctl):
    result = exits(uksm_policy_unit.main, {'sysroot': root, 'enabled': False})
    assert result['enabled'] is False and result['changed'] is True
    assert systemctl.verbs() == []  # a unit file this run creates is not enabled: nothing to disable
    assert not os.path.lexists(os.path.join(root, paths.wants_link(paths.UNIT_NAME, paths.UNIT_WANTED_BY)))
    exits(uksm_policy_unit.main, {'sysroot': root, 'enabled': True})
    result = exits(uksm_policy_unit.main, {'sysroot': root, 'enabled': False})
    assert result['changed'] is True and result['enabled'] is False and result['files'] == []
    assert systemctl.verbs()[-1] == ['disable', paths.UNIT_NAME]
    assert not os.path.lexists(os.path.join(root, paths.wants_link(paths.UNIT_NAME, paths.UNIT_WANTED_BY)))


def test_python_and_before_go_into_the_unit(root, systemctl):
    exits(uksm_policy_unit.main, {'sysroot': root, 'python': '/opt/py3.11/bin/python3', 'before': ['incus.service']})
    text = sysroot_tree.read(root, paths.UNIT_FILE)
    assert 'ExecStart=/opt/py3.11/bin/python3 ' in text
    assert 'Before=sysinit.target shutdown.target incus.service\n' in text and 'libvirtd.service' not in text


def test_python_defaults_to_this_interpreter_on_the_real_root(monkeypatch, systemctl):
    chosen = []

    def artefacts(python, before=(), metrics_output=None, pressure_interval=None):
        chosen.append(python)
        raise UksmError('stopped before touching the host')

    monkeypatch.setattr(unit_setup.installation, 'artefacts', artefacts)
    failure = fails(uksm_policy_unit.main, {}, check_mode=True)
    assert chosen == [sys.executable]
    assert failure == {'msg': 'cannot install the boot applier under /: stopped before touching the host'}


def test_metrics_install_the_timer_and_enable_it(root, systemctl):
    result = exits(
        uksm_policy_unit.main, {'sysroot': root, 'metrics': True, 'metrics_output': '/srv/textfile/uksm.prom'}
    )
    assert result['metrics'] == {'enabled': True, 'output': '/srv/textfile/uksm.prom'}
    enables = [verb for verb in systemctl.verbs() if verb[0] != 'is-enabled']
    # one systemctl run enables both; offline: nothing is started
    assert enables == [['enable', paths.UNIT_NAME, paths.METRICS_TIMER]]
    assert set(_host(paths.METRICS_UNIT_FILES)) <= set(result['installed'])
    assert '--output /srv/textfile/uksm.prom' in sysroot_tree.read(root, paths.METRICS_UNIT_FILES[0])
    # metrics off again: the timer is disabled, its files and the file it wrote are removed
    sysroot_tree.put(root, 'srv/textfile/uksm.prom', 'uksm_available 1\n')
    off = exits(uksm_policy_unit.main, {'sysroot': root, 'metrics': False}, diff=True)
    assert off['changed'] is True and off['metrics'] == {'enabled': False, 'output': None}
    assert [verb for verb in systemctl.verbs() if verb[0] != 'is-enabled'][1:] == [['disable', paths.METRICS_TIMER]]
    assert {'/srv/textfile/uksm.prom', '/' + paths.METRICS_LAUNCHER} | set(_host(paths.METRICS_UNIT_FILES)) <= set(
        off['files']
    )
    assert not os.path.exists(os.path.join(root, 'srv/textfile/uksm.prom'))
    # the metrics units' diffs are shown because they existed before
    assert [diff['before_header'] for diff in off['diff']] == [UNIT] + _host(paths.METRICS_UNIT_FILES)


def test_pressure_interval_installs_the_tuner_and_its_timer_and_none_removes_them(root, systemctl):
    result = exits(uksm_policy_unit.main, {'sysroot': root, 'pressure_interval': 45})
    assert result['pressure'] == {'enabled': True, 'interval': 45}
    assert [verb for verb in systemctl.verbs() if verb[0] != 'is-enabled'] == [
        ['enable', paths.UNIT_NAME, paths.PRESSURE_TIMER]
    ]
    timer = sysroot_tree.read(root, paths.PRESSURE_UNIT_FILES[1])
    assert 'OnUnitActiveSec=45\n' in timer and 'OnBootSec=45\n' in timer
    service = sysroot_tree.read(root, paths.PRESSURE_UNIT_FILES[0])
    assert 'ExecStart=/usr/bin/python3 -I -S -B /%s\n' % paths.PRESSURE_LAUNCHER in service
    assert os.access(os.path.join(root, paths.PRESSURE_LAUNCHER), os.X_OK)
    assert exits(uksm_policy_unit.main, {'sysroot': root, 'pressure_interval': 45})['changed'] is False
    # a tier recorded by the tuner goes with it: nothing keeps that tier in force any more
    sysroot_tree.put(root, paths.TIER_FILE, 'uksm 1\n')
    off = exits(uksm_policy_unit.main, {'sysroot': root})
    assert off['changed'] is True and off['pressure'] == {'enabled': False, 'interval': None}
    assert {'/' + paths.PRESSURE_LAUNCHER, '/' + paths.TIER_FILE} | set(_host(paths.PRESSURE_UNIT_FILES)) <= set(
        off['files']
    )
    assert not any(os.path.lexists(os.path.join(root, path)) for path in paths.PRESSURE_UNIT_FILES)
    assert [verb for verb in systemctl.verbs() if verb[0] != 'is-enabled'][-1] == ['disable', paths.PRESSURE_TIMER]


@pytest.mark.parametrize('interval', [4, 3601, -30])
def test_pressure_interval_out_of_range_is_refused_expected_failure(root, systemctl, interval):
    before = snapshot(root)
    assert fails(uksm_policy_unit.main, {'sysroot': root, 'pressure_interval': interval}) == {
        'msg': 'pressure_interval: %d is not accepted; accepted: seconds from 5 to 3600, or 0 for no tuner' % interval
    }
    assert snapshot(root) == before and systemctl.commands == []


# -- state=absent ---------------------------------------------------------------------------------


def test_absent_in_check_mode_predicts_the_removal_and_keeps_everything(root, systemctl):
    exits(uksm_policy_unit.main, {'sysroot': root, 'metrics': True})
    persist.save(root, persist.render({'ksm': {'run': '1'}}))
    before = snapshot(root)
    commands = len(systemctl.commands)
    result = exits(uksm_policy_unit.main, {'sysroot': root, 'state': 'absent', 'purge': True}, check_mode=True)
    assert snapshot(root) == before and len(systemctl.commands) == commands
    assert result['changed'] is True and result['enabled'] is False and result['installed'] == []
    assert UNIT in result['files'] and '/' + paths.POLICY_FILE in result['files']


def test_absent_disables_and_removes_everything_and_purge_the_policy_and_lock(root, systemctl):
    exits(uksm_policy_unit.main, {'sysroot': root, 'metrics': True})
    persist.save(root, persist.render({'ksm': {'run': '1'}}))
    sysroot_tree.put(root, 'run/litevirt-uksm/lock', '')
    os.chmod(os.path.join(root, 'run/litevirt-uksm'), 0o700)
    os.chmod(os.path.join(root, 'run/litevirt-uksm/lock'), 0o600)
    result = exits(uksm_policy_unit.main, {'sysroot': root, 'state': 'absent', 'purge': True})
    assert result['changed'] is True
    assert result['metrics'] == {'enabled': False, 'output': None} and result['unit'] == UNIT
    assert systemctl.verbs()[-2:] == [['disable', paths.METRICS_TIMER], ['disable', paths.UNIT_NAME]]
    assert installation.installed(root) == []
    assert not os.path.lexists(os.path.join(root, paths.POLICY_FILE))
    assert not os.path.lexists(os.path.join(root, 'run/litevirt-uksm'))  # runtime state goes too
    assert '/' + paths.POLICY_FILE in result['files'] and '/run/litevirt-uksm/lock' not in result['files']
    again = exits(uksm_policy_unit.main, {'sysroot': root, 'state': 'absent', 'purge': True})
    assert again['changed'] is False and again['files'] == []


def test_absent_without_purge_keeps_the_policy(root, systemctl):
    exits(uksm_policy_unit.main, {'sysroot': root})
    persist.save(root, persist.render({'ksm': {'run': '1'}}))
    result = exits(uksm_policy_unit.main, {'sysroot': root, 'state': 'absent'})
    assert result['changed'] is True and '/' + paths.POLICY_FILE not in result['files']
    assert persist.load(root)[0] == {'ksm': {'run': '1'}}


# -- errors as one fail_json ----------------------------------------------------------------------


def test_a_failing_systemctl_fails_the_task_with_its_message(root, monkeypatch):
    OfflineSystemctl(fail='enable').install(monkeypatch)
    assert fails(uksm_policy_unit.main, {'sysroot': root}) == {
        'msg': 'systemctl enable uksm-policy.service failed (rc 1): Failed to enable unit: Access denied'
    }


def test_an_unsafe_path_on_the_way_fails_naming_the_sysroot_and_the_errno(root, systemctl, tmp_path):
    os.makedirs(os.path.join(root, 'usr/lib'))
    elsewhere = str(tmp_path / 'elsewhere')
    os.mkdir(elsewhere)
    os.symlink(elsewhere, os.path.join(root, paths.APPLIER_DIR))  # a symlink root must not follow
    failure = fails(uksm_policy_unit.main, {'sysroot': root})
    assert failure['msg'].startswith('cannot install the boot applier under %s: refusing /usr/lib/litevirt-uksm' % root)
    assert failure['errno'] == 1  # EPERM, from the refusal
    assert os.listdir(elsewhere) == []


def test_check_mode_with_metrics_predicts_the_timer_and_runs_nothing(root, systemctl):
    result = exits(uksm_policy_unit.main, {'sysroot': root, 'metrics': True}, check_mode=True)
    assert result['changed'] is True and systemctl.commands == [] and os.listdir(root) == []
    assert result['metrics'] == {'enabled': True, 'output': paths.METRICS_OUTPUT}
    assert set(_host(paths.METRICS_UNIT_FILES)) <= set(result['installed'])


# -- on the live manager (sysroot /): reload after file changes, start and stop -------------------


@pytest.fixture
def live(root, monkeypatch):
    """The module as on a host booted with systemd, acting on ``root`` instead of the real /."""
    return live_manager(monkeypatch, root)


def test_live_install_enables_in_one_run_and_starts_the_metrics_timer_now(root, live):
    exits(uksm_policy_unit.main, {'sysroot': root, 'metrics': True})
    # enable reloads the manager itself (no daemon-reload of ours), then the timer starts now; the
    # files this run created settle is-enabled without asking
    assert live.verbs() == [
        ['enable', paths.UNIT_NAME, paths.METRICS_TIMER],
        ['start', paths.METRICS_TIMER],
    ]
    live.commands.clear()
    exits(uksm_policy_unit.main, {'sysroot': root, 'metrics': True})
    assert live.commands == []  # nothing changed: no reload


def test_live_removal_disables_stops_and_reloads(root, live):
    exits(uksm_policy_unit.main, {'sysroot': root, 'metrics': True})
    live.commands.clear()
    result = exits(uksm_policy_unit.main, {'sysroot': root, 'state': 'absent'})
    assert result['changed'] is True
    assert [verb for verb in live.verbs() if verb[0] != 'is-enabled'] == [
        ['disable', '--now', paths.METRICS_TIMER],
        ['disable', paths.UNIT_NAME],
        ['stop', paths.UNIT_NAME],
        ['daemon-reload'],
    ]
