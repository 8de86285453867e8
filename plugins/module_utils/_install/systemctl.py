# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""``systemctl`` on the live manager, or offline on a file tree (``--root``), for uksm_policy_unit.

Ansible-free like the rest of module_utils: the module hands in how to run a command
(``AnsibleModule.run_command``) and the program's path.
"""

from __future__ import annotations

import os
import typing as t

from .._host.paths import (
    METRICS_TIMER,
    METRICS_TIMER_WANTED_BY,
    PRESSURE_TIMER,
    UNIT_NAME,
    UNIT_WANTED_BY,
    unit_file,
    wants_link,
)
from .._host.sysfs import host_path
from ..errors import UksmError

# (argv) -> (rc, stdout, stderr), as AnsibleModule.run_command returns them
RunCommand = t.Callable[[t.List[str]], t.Tuple[int, str, str]]


class SystemctlError(UksmError):
    """systemctl exited with an error."""


class Systemctl:
    """Enable, disable, start and stop the collection's units; answers is-enabled from files when it can."""

    # unit -> the target whose .wants directory ``systemctl enable`` links it into ([Install] WantedBy=)
    WANTED_BY = {
        UNIT_NAME: UNIT_WANTED_BY,
        METRICS_TIMER: METRICS_TIMER_WANTED_BY,
        PRESSURE_TIMER: METRICS_TIMER_WANTED_BY,
    }

    def __init__(self, run_command: RunCommand, program: str, sysroot: str, check_mode: bool) -> None:
        self.run_command = run_command
        self.sysroot = sysroot
        self.check_mode = check_mode
        self.live = sysroot == '/' and os.path.isdir('/run/systemd/system')
        self.base = [program] + ([] if self.live else ['--root', sysroot])

    def run(self, *args: str, check: bool = True) -> int:
        rc, out, err = self.run_command(self.base + list(args))
        if check and rc != 0:
            raise SystemctlError('systemctl %s failed (rc %d): %s' % (' '.join(args), rc, (err or out).strip()))
        return rc

    def is_enabled(self, unit: str = UNIT_NAME, created: bool = False) -> bool:
        """Whether ``unit`` is enabled; ``created``: its file is new in this run, so only a link
        ``enable`` made before could enable it, and the files settle it."""
        # The files answer the common cases without starting systemctl (a re-run stays cheap): linked
        # as enable links it, or neither installed nor linked, or installed by this run and not linked.
        installed = unit_file(unit)
        link = host_path(self.sysroot, wants_link(unit, self.WANTED_BY[unit]))
        if (
            os.path.islink(link)
            and os.readlink(link) == '/' + installed
            and os.path.isfile(host_path(self.sysroot, installed))
        ):
            return True
        if not os.path.lexists(link) and (created or not os.path.lexists(host_path(self.sysroot, installed))):
            return False
        rc, out, _err = self.run_command(self.base + ['is-enabled', unit])
        return rc == 0 and out.strip() == 'enabled'

    def disable_timer(self, timer: str = METRICS_TIMER) -> bool:
        """Disable (and stop, live) a timer while its file exists; whether it was enabled."""
        if not self.is_enabled(timer):
            return False
        if not self.check_mode:
            self.run(*(['disable', '--now'] if self.live else ['disable']), timer)
        return True

    def enable(self, units: t.Sequence[str], start: t.Sequence[str] = ()) -> None:
        """Enable ``units`` in one call, then (live) start ``start`` in one more: a first installation
        costs two systemctl runs and one reload, which ``enable`` does itself (``systemctl(1)``)."""
        if units and not self.check_mode:
            self.run('enable', *units)
        if start and self.live and not self.check_mode:
            self.run('start', *start)
