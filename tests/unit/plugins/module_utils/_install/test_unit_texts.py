# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The systemd units as installed: ordering, a writable /sys for the boot unit, systemd-analyze verify and security."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths
from ansible_collections.litevirt.uksm.plugins.module_utils._install import unit_texts
from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.attributes import BACKENDS

# closed under relative imports: the launcher imports it in isolation below


def test_unit_orders_before_the_hypervisor_and_keeps_sysfs_writable():
    text = unit_texts.unit_text('/usr/bin/python3', ['libvirtd.service', 'pve-guests.service'])
    lines = text.splitlines()
    before = [line for line in lines if line.startswith('Before=')][0].split('=', 1)[1].split()
    assert {'sysinit.target', 'libvirtd.service', 'pve-guests.service'} <= set(before)
    for backend in BACKENDS.values():
        assert 'ConditionPathExists=|/%s' % backend.directory in lines
    assert 'ConditionPathExists=/' + paths.POLICY_FILE in lines
    assert 'ExecStart=/usr/bin/python3 -I -S -B /usr/lib/litevirt-uksm/uksm-policy-apply' in lines
    assert 'ProtectSystem=strict' in lines and 'ReadWritePaths=-/run/lock' not in lines
    # the lock's directory: root's alone, and kept when the oneshot ends (a module may hold the lock)
    assert {'RuntimeDirectory=litevirt-uksm', 'RuntimeDirectoryMode=0700', 'RuntimeDirectoryPreserve=yes'} <= set(lines)
    # either of these would make /sys/kernel/mm read-only
    assert not [
        line for line in lines if line.startswith(('ProtectKernelTunables', 'ReadOnlyPaths', 'InaccessiblePaths'))
    ]
    assert not [line for line in lines if line.startswith('RemainAfterExit')]  # "systemctl start" applies again
    assert 'WantedBy=sysinit.target' in lines


@pytest.mark.skipif(
    shutil.which('systemd-analyze') is None, reason='systemd-analyze is installed by scripts/setup-host.sh'
)
def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    path = tmp_path / paths.UNIT_NAME
    path.write_text(unit_texts.unit_text('/usr/bin/python3'))
    result = subprocess.run(
        ['systemd-analyze', 'verify', '--man=no', str(path)], capture_output=True, text=True, check=False
    )
    findings = [line for line in result.stderr.splitlines() if 'non-existent unit sysinit.target' not in line]
    assert result.returncode == 0 and findings == [], result.stderr


@pytest.mark.skipif(
    shutil.which('systemd-analyze') is None, reason='systemd-analyze is installed by scripts/setup-host.sh'
)
def test_systemd_analyze_security_exposure_is_not_worse_than_before_the_lock_moved(tmp_path):
    """1.7 offline with systemd 252 for the unit with ReadWritePaths=/run/lock; RuntimeDirectory= keeps it."""
    path = tmp_path / paths.UNIT_NAME
    path.write_text(unit_texts.unit_text('/usr/bin/python3'))
    result = subprocess.run(
        ['systemd-analyze', 'security', '--offline=yes', '--no-pager', str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    overall = [line for line in result.stdout.splitlines() if 'Overall exposure level' in line]
    assert overall, result.stdout + result.stderr
    # the level follows the unit's name; the mood after it is an emoji, or ':-)' without a UTF-8 locale
    assert float(re.search(r'\.service: (\d+\.\d+)', overall[0]).group(1)) <= 1.7, overall[0]


def test_tuner_service_writes_sysfs_and_the_tier_beside_the_lock_only():
    lines = unit_texts.pressure_service_text('/usr/bin/python3').splitlines()
    assert 'ExecStart=/usr/bin/python3 -I -S -B /usr/lib/litevirt-uksm/uksm-pressure-tune' in lines
    assert {'RuntimeDirectory=litevirt-uksm', 'RuntimeDirectoryMode=0700', 'RuntimeDirectoryPreserve=yes'} <= set(lines)
    assert 'ProtectSystem=strict' in lines and 'After=uksm-policy.service' in lines
    # no condition: a skipped run would leave a monotonic timer with nothing to count from
    assert not [line for line in lines if line.startswith(('Condition', 'ProtectKernelTunables', 'ReadOnlyPaths'))]
    assert not [line for line in lines if line.startswith('[Install]')]  # started by its timer only


def test_tuner_timer_counts_from_boot_and_from_each_run():
    text = unit_texts.pressure_timer_text(30)
    assert 'OnBootSec=30\nOnUnitActiveSec=30\n' in text and 'WantedBy=timers.target' in text


@pytest.mark.skipif(
    shutil.which('systemd-analyze') is None, reason='systemd-analyze is installed by scripts/setup-host.sh'
)
def test_systemd_analyze_accepts_the_tuner_units_with_the_applier_exposure(tmp_path):
    service = tmp_path / paths.PRESSURE_SERVICE
    service.write_text(unit_texts.pressure_service_text('/usr/bin/python3'))
    (tmp_path / paths.PRESSURE_TIMER).write_text(unit_texts.pressure_timer_text(30))
    result = subprocess.run(
        ['systemd-analyze', 'verify', '--man=no', str(service), str(tmp_path / paths.PRESSURE_TIMER)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == '', result.stderr
    result = subprocess.run(
        ['systemd-analyze', 'security', '--offline=yes', '--no-pager', str(service)],
        capture_output=True,
        text=True,
        check=False,
    )
    overall = [line for line in result.stdout.splitlines() if 'Overall exposure level' in line]
    assert overall and float(re.search(r'\.service: (\d+\.\d+)', overall[0]).group(1)) <= 1.7, result.stdout
