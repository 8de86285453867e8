# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/_host/paths.py: every file the collection keeps on a host, below the sysroot."""

from __future__ import annotations

import posixpath

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths

# the one path that is a default the user may change, and absolute because it is not below the sysroot
ABSOLUTE = {'METRICS_OUTPUT'}


def _host_paths():
    return {
        name: value
        for name, value in vars(paths).items()
        if name.isupper() and isinstance(value, str) and '/' in value and name not in ABSOLUTE
    }


def test_every_host_path_is_relative_to_the_sysroot_and_normal():
    found = _host_paths()
    assert 'POLICY_FILE' in found and 'LOCK_FILE' in found
    for name, value in found.items():
        assert not value.startswith('/') and posixpath.normpath(value) == value and '..' not in value, name


def test_unit_files_and_their_wants_links_are_where_systemctl_enable_puts_them():
    assert paths.unit_file(paths.UNIT_NAME) == paths.UNIT_FILE == 'etc/systemd/system/uksm-policy.service'
    assert paths.wants_link(paths.UNIT_NAME, paths.UNIT_WANTED_BY) == (
        'etc/systemd/system/sysinit.target.wants/uksm-policy.service'
    )
    assert (
        tuple(paths.unit_file(unit) for unit in (paths.METRICS_SERVICE, paths.METRICS_TIMER))
        == paths.METRICS_UNIT_FILES
    )
    assert (
        tuple(paths.unit_file(unit) for unit in (paths.PRESSURE_SERVICE, paths.PRESSURE_TIMER))
        == paths.PRESSURE_UNIT_FILES
    )


def test_the_run_state_lives_under_run_and_the_launchers_beside_the_package():
    # the lock, the tier in force and the values written: tmpfs on a real host, gone at a reboot, as the boot
    # applier expects (it starts from the base policy)
    assert {posixpath.dirname(path) for path in (paths.LOCK_FILE, paths.TIER_FILE, paths.WRITTEN_FILE)} == {
        paths.LOCK_DIR
    }
    assert paths.LOCK_DIR.startswith('run/')
    for launcher in (paths.LAUNCHER, paths.METRICS_LAUNCHER, paths.PRESSURE_LAUNCHER):
        assert posixpath.dirname(launcher) == posixpath.dirname(paths.PACKAGE_DIR) == paths.APPLIER_DIR
