# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemctl for uksm_policy_unit run in-process on a plain sysroot: it never runs the real one.

``OfflineSystemctl`` stands for ``run_command`` and does what ``systemctl --root`` does to the tree
(the ``.wants`` links), recording each command, so a test sees which ones the module issues.
"""

from __future__ import annotations

import os
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths
from ansible_collections.litevirt.uksm.plugins.module_utils._install.systemctl import Systemctl

SYSTEMCTL = '/usr/bin/systemctl'
WANTED_BY = {
    paths.UNIT_NAME: paths.UNIT_WANTED_BY,
    paths.METRICS_TIMER: paths.METRICS_TIMER_WANTED_BY,
    paths.PRESSURE_TIMER: paths.METRICS_TIMER_WANTED_BY,
}


class OfflineSystemctl:
    """``systemctl --root`` as far as these units go: enable and disable make and remove the link.

    With ``live_root``, the live manager instead (no ``--root``), acting on that tree. ``fail``: the
    verb that exits 1 with systemd's message.
    """

    def __init__(self, fail: str | None = None, live_root: str | None = None) -> None:
        self.commands: list[list[str]] = []
        self.fail = fail
        self.live_root = live_root

    def __call__(self, argv: list[str], **_kwargs: t.Any) -> tuple[int, str, str]:
        self.commands.append(list(argv))
        if self.live_root is None:
            assert argv[:2] == [SYSTEMCTL, '--root'], argv  # never the live manager in a test
            root, args = argv[2], argv[3:]
        else:
            assert argv[0] == SYSTEMCTL and '--root' not in argv, argv
            root, args = self.live_root, argv[1:]
        verb, units = args[0], [arg for arg in args[1:] if not arg.startswith('--')]
        if verb == self.fail:
            return 1, '', 'Failed to %s unit: Access denied\n' % verb
        if verb in ('daemon-reload', 'stop', 'start'):
            return 0, '', ''
        # the collection's units, and the services it disables (ksmtuned), which multi-user.target wants
        links = {
            unit: os.path.join(root, paths.wants_link(unit, WANTED_BY.get(unit, 'multi-user.target'))) for unit in units
        }
        if verb == 'is-enabled':
            return (0, 'enabled\n', '') if all(map(os.path.lexists, links.values())) else (1, 'disabled\n', '')
        for unit, link in links.items():
            if verb == 'enable':
                os.makedirs(os.path.dirname(link), exist_ok=True)
                os.symlink('/' + paths.SYSTEM_UNITS + '/' + unit, link)
            elif verb == 'disable':
                os.unlink(link)
        return 0, '', ''

    def verbs(self) -> list[list[str]]:
        return [command[3:] if self.live_root is None else command[1:] for command in self.commands]

    def install(self, monkeypatch: t.Any) -> OfflineSystemctl:
        """Make every AnsibleModule find systemctl at SYSTEMCTL and run it through this stand-in."""
        monkeypatch.setattr(
            AnsibleModule, 'get_bin_path', lambda _self, _name, required=False, opt_dirs=None: SYSTEMCTL
        )
        monkeypatch.setattr(AnsibleModule, 'run_command', lambda _self, argv, **kwargs: self(argv, **kwargs))
        return self


class _LiveSystemctl(Systemctl):
    """The module's Systemctl as on a host booted with systemd (no ``--root``), whatever the sysroot."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.live = True
        self.base = self.base[:1]


def live_manager(monkeypatch: t.Any, root: str) -> OfflineSystemctl:
    """The modules as on a host booted with systemd, its live manager acting on ``root``."""
    from ansible_collections.litevirt.uksm.plugins.module_utils._install import systemctl
    from ansible_collections.litevirt.uksm.plugins.modules import uksm_policy_unit

    # uksm_policy imports Systemctl when it runs, uksm_policy_unit when it is imported
    monkeypatch.setattr(systemctl, 'Systemctl', _LiveSystemctl)
    monkeypatch.setattr(uksm_policy_unit, 'Systemctl', _LiveSystemctl)
    return OfflineSystemctl(live_root=root).install(monkeypatch)
