# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemctl for uksm_policy_unit: offline under a sysroot, is-enabled from files, errors as the family's."""

from __future__ import annotations

import os

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths
from ansible_collections.litevirt.uksm.plugins.module_utils._install.systemctl import Systemctl, SystemctlError
from ansible_collections.litevirt.uksm.plugins.module_utils.errors import UksmError


class Recorder:
    """A stand-in for AnsibleModule.run_command that records the commands and answers ``answer``."""

    def __init__(self, answer: tuple[int, str, str] = (0, '', '')) -> None:
        self.answer = answer
        self.commands: list[list[str]] = []

    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        self.commands.append(argv)
        return self.answer


def _install_unit(root: str, enabled: bool) -> None:
    unit = os.path.join(root, paths.UNIT_FILE)
    os.makedirs(os.path.dirname(unit))
    with open(unit, 'w', encoding='utf-8') as handle:
        handle.write('[Unit]\n')
    if enabled:
        link = os.path.join(root, 'etc/systemd/system/sysinit.target.wants', paths.UNIT_NAME)
        os.makedirs(os.path.dirname(link))
        os.symlink('/' + paths.UNIT_FILE, link)


def test_offline_commands_run_with_root(tmp_path):
    recorder = Recorder()
    systemctl = Systemctl(recorder, '/usr/bin/systemctl', str(tmp_path), check_mode=False)
    assert not systemctl.live
    systemctl.run('enable', paths.UNIT_NAME)
    assert recorder.commands == [['/usr/bin/systemctl', '--root', str(tmp_path), 'enable', paths.UNIT_NAME]]


@pytest.mark.parametrize('installed, enabled', [(True, True), (False, False)])
def test_is_enabled_is_answered_from_the_files_without_systemctl(tmp_path, installed, enabled):
    if installed:
        _install_unit(str(tmp_path), enabled)
    recorder = Recorder()
    assert Systemctl(recorder, 'systemctl', str(tmp_path), check_mode=False).is_enabled() is enabled
    assert recorder.commands == []


def test_is_enabled_asks_systemctl_when_the_files_do_not_settle_it(tmp_path):
    _install_unit(str(tmp_path), enabled=False)  # installed, not linked: maybe enabled another way
    recorder = Recorder((0, 'enabled\n', ''))
    assert Systemctl(recorder, 'systemctl', str(tmp_path), check_mode=False).is_enabled() is True
    assert recorder.commands == [['systemctl', '--root', str(tmp_path), 'is-enabled', paths.UNIT_NAME]]


def test_is_enabled_of_a_unit_file_created_by_this_run_is_settled_without_systemctl(tmp_path):
    # no link as enable makes it: whatever an older file had linked elsewhere, enable is what is needed
    _install_unit(str(tmp_path), enabled=False)
    recorder = Recorder((0, 'enabled\n', ''))
    assert Systemctl(recorder, 'systemctl', str(tmp_path), check_mode=False).is_enabled(created=True) is False
    assert recorder.commands == []


@pytest.mark.parametrize('live', [True, False])
def test_enable_links_every_unit_in_one_run_and_starts_only_on_the_live_manager(tmp_path, live):
    recorder = Recorder()
    systemctl = Systemctl(recorder, 'systemctl', str(tmp_path), check_mode=False)
    systemctl.live, systemctl.base = live, ['systemctl']  # as on a host booted with systemd
    systemctl.enable([paths.UNIT_NAME, paths.METRICS_TIMER, paths.PRESSURE_TIMER], start=[paths.METRICS_TIMER])
    expected = [['systemctl', 'enable', paths.UNIT_NAME, paths.METRICS_TIMER, paths.PRESSURE_TIMER]]
    assert recorder.commands == expected + ([['systemctl', 'start', paths.METRICS_TIMER]] if live else [])


def test_enable_in_check_mode_runs_nothing(tmp_path):
    recorder = Recorder()
    Systemctl(recorder, 'systemctl', str(tmp_path), check_mode=True).enable([paths.UNIT_NAME], start=[paths.UNIT_NAME])
    assert recorder.commands == []


def test_failing_systemctl_raises_the_collections_error_with_its_output(tmp_path):
    systemctl = Systemctl(
        Recorder((1, '', 'Failed to enable unit: Access denied\n')), 'systemctl', str(tmp_path), check_mode=False
    )
    with pytest.raises(SystemctlError) as caught:
        systemctl.run('enable', paths.UNIT_NAME)
    assert isinstance(caught.value, UksmError)
    assert (
        str(caught.value) == 'systemctl enable uksm-policy.service failed (rc 1): Failed to enable unit: Access denied'
    )
    assert systemctl.run('is-active', paths.UNIT_NAME, check=False) == 1


def test_disable_timer_in_check_mode_reports_without_running_systemctl(tmp_path):
    recorder = Recorder((0, 'enabled\n', ''))
    timer = os.path.join(str(tmp_path), paths.METRICS_UNIT_FILES[1])
    os.makedirs(os.path.dirname(timer))
    open(timer, 'w').close()
    assert Systemctl(recorder, 'systemctl', str(tmp_path), check_mode=True).disable_timer() is True
    assert [command[-2:] for command in recorder.commands] == [['is-enabled', paths.METRICS_TIMER]]
