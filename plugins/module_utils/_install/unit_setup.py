# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The boot applier's, the metrics writer's and the tuner's units on a host: installed, enabled, removed.

What uksm_policy_unit and uksm_policy do with them, without Ansible: the files come from installation.py,
systemctl from systemctl.py.
"""

from __future__ import annotations

import os
import re
import sys
import typing as t

from .._host import paths
from .._host.safefiles import read_file
from .._host.safewrites import remove_file
from .._host.sysfs import host_path
from ..errors import UksmError
from . import installation, unit_texts
from .systemctl import Systemctl

# What may go into the unit file unquoted: no whitespace, specifiers (%) or newlines.
_UNIT_NAME = re.compile(r'^[A-Za-z0-9:_.@\\-]+\.(service|target|socket|mount|path|timer|slice|scope)$')
_PYTHON = re.compile(r'^/[A-Za-z0-9._+/-]+$')
_OUTPUT = re.compile(r'^/[A-Za-z0-9._+/-]+/[A-Za-z0-9._+-]+\.prom$')
# purge waits this long for a writer of the policy to finish
PURGE_LOCK_TIMEOUT = 30.0
# the policy unit's diff first, then the metrics units', then the tuner's
_UNIT_FILES = installation.UNIT_FILES
# seconds between two runs of the tuner
MIN_INTERVAL = 5
MAX_INTERVAL = 3600


def _host(paths: t.Iterable[str]) -> list[str]:
    return ['/' + path for path in paths]


def _unit_texts(sysroot: str) -> dict:
    return {path: _read(sysroot, path) for path in _UNIT_FILES}


def _diff(before: dict, after: dict) -> list:
    """One diff per unit file; the metrics units only when they exist before or after."""
    return [
        {'before': before[path], 'after': after.get(path, ''), 'before_header': '/' + path, 'after_header': '/' + path}
        for path in _UNIT_FILES
        if path == paths.UNIT_FILE or before[path] or after.get(path)
    ]


def _old_output(sysroot: str, before: dict, output: str | None, check_mode: bool) -> list:
    """Remove the file the installed metrics service wrote, unless it is the one wanted now."""
    old = unit_texts.metrics_output_of(before[paths.METRICS_UNIT_FILES[0]])
    return [] if old is None or old == output else installation.remove_output(sysroot, old, check_mode)


class UnitRequest(t.NamedTuple):
    """What to install: checked by problems() before anything is written."""

    python: str
    before: t.Sequence[str]
    metrics_output: str | None  # None: no metrics timer
    pressure_interval: int | None  # None: no tuner
    enabled: bool = True


def request(
    sysroot: str,
    python: str | None,
    before: t.Sequence[str],
    metrics: bool,
    metrics_output: str,
    pressure_interval: int | None,
    enabled: bool = True,
) -> UnitRequest:
    """The options as the modules take them (no python: the interpreter running this code on a live
    host, /usr/bin/python3 under a sysroot; an interval of 0 or none: no tuner)."""
    return UnitRequest(
        python or (sys.executable if sysroot == '/' else '/usr/bin/python3'),
        list(before),
        metrics_output if metrics else None,
        pressure_interval or None,
        enabled,
    )


def problems(wanted: UnitRequest, option: t.Callable[[str], str] = str) -> list[str]:
    """Every option that cannot go into a unit file, with the value and what is accepted; ``option``
    gives the name the caller knows each one by (uksm_policy's boot_before is uksm_policy_unit's before)."""
    found = []
    if not _PYTHON.match(wanted.python):
        found.append(
            '%s: %r is not accepted; accepted: an absolute path of letters, digits and ._+-/'
            % (option('python'), wanted.python)
        )
    bad = [name for name in wanted.before if not _UNIT_NAME.match(name)]
    if bad:
        found.append(
            '%s: %s not accepted; accepted: systemd unit names such as libvirtd.service'
            % (option('before'), ', '.join(repr(name) for name in bad))
        )
    output = wanted.metrics_output
    if output is not None and (not _OUTPUT.match(output) or os.path.normpath(output) != output):
        found.append(
            '%s: %r is not accepted; accepted: an absolute, normalised path of letters, '
            'digits and ._+-/ below a directory, ending in .prom' % (option('metrics_output'), output)
        )
    interval = wanted.pressure_interval
    if interval is not None and not interval_accepted(interval):
        found.append(
            '%s: %r is not accepted; accepted: seconds from %d to %d, or 0 for no tuner'
            % (option('pressure_interval'), interval, MIN_INTERVAL, MAX_INTERVAL)
        )
    return found


def interval_accepted(seconds: t.Any) -> bool:
    """Whether the tuner's timer can have ``seconds`` between two evaluations (a number or its digits)."""
    return str(seconds).isdigit() and MIN_INTERVAL <= int(seconds) <= MAX_INTERVAL


class UnitOptionError(UksmError):
    """Options that cannot go into a unit file; nothing was written."""


def present(sysroot: str, wanted: UnitRequest, systemctl: Systemctl, check_mode: bool) -> dict:
    """Install or update the units, launchers and package; enable what is wanted, remove what is not."""
    found = problems(wanted)
    if found:
        raise UnitOptionError(' | '.join(found))
    output, interval = wanted.metrics_output, wanted.pressure_interval
    files = installation.artefacts(wanted.python, wanted.before, output, interval)
    before = _unit_texts(sysroot)
    # systemctl needs the timer's file to disable it
    toggled = output is None and systemctl.disable_timer()
    toggled = (interval is None and systemctl.disable_timer(paths.PRESSURE_TIMER)) or toggled
    changed_files = installation.install(sysroot, files, check_mode)
    changed_files += installation.compile_package(sysroot, changed_files, check_mode)
    if output is None:
        changed_files += installation.remove_units(sysroot, paths.METRICS_UNIT_FILES, check_mode)
    if interval is None:
        changed_files += installation.remove_units(sysroot, paths.PRESSURE_UNIT_FILES, check_mode)
        changed_files += _forget_tier(sysroot, check_mode)
    changed_files += _old_output(sysroot, before, output, check_mode)
    # units whose files this run creates: not enabled unless enable's own link is there (no question)
    created = {unit for unit in Systemctl.WANTED_BY if not before[paths.unit_file(unit)]}
    timers = [
        timer
        for timer, wanted_on in (
            (paths.METRICS_TIMER, output is not None),
            (paths.PRESSURE_TIMER, interval is not None),
        )
        if wanted_on and not systemctl.is_enabled(timer, timer in created)
    ]
    unit = [paths.UNIT_NAME] if wanted.enabled != systemctl.is_enabled(created=paths.UNIT_NAME in created) else []
    toggled = toggled or bool(unit or timers)
    # enable and disable reload the manager themselves: a separate daemon-reload only without them
    if changed_files and systemctl.live and not check_mode and not (unit or timers):
        systemctl.run('daemon-reload')
    if unit and not wanted.enabled:
        if not check_mode:
            systemctl.run('disable', paths.UNIT_NAME)
        unit = []
    systemctl.enable(unit + timers, start=timers)
    return {
        'changed': bool(changed_files) or toggled,
        'enabled': wanted.enabled,
        'files': _host(changed_files),
        'installed': _host(file.path for file in files),
        'metrics': {'enabled': output is not None, 'output': output},
        'pressure': {'enabled': interval is not None, 'interval': interval},
        'diff': _diff(before, {file.path: file.text for file in files}),
    }


def absent(sysroot: str, purge: bool, systemctl: Systemctl, check_mode: bool) -> dict:
    """Stop, disable and remove everything installed; with ``purge`` also the persisted policy and the
    runtime state, under the host lock."""
    before = _unit_texts(sysroot)
    before_text = before[paths.UNIT_FILE]
    changed = bool(before[paths.METRICS_UNIT_FILES[1]]) and systemctl.disable_timer()
    changed = (bool(before[paths.PRESSURE_UNIT_FILES[1]]) and systemctl.disable_timer(paths.PRESSURE_TIMER)) or changed
    if before_text and systemctl.is_enabled():
        changed = True
        if not check_mode:
            systemctl.run('disable', paths.UNIT_NAME)
    if before_text and systemctl.live and not check_mode:
        systemctl.run('stop', paths.UNIT_NAME)
    removed = installation.uninstall(sysroot, check_mode)
    removed += _old_output(sysroot, before, None, check_mode)
    removed += _forget_tier(sysroot, check_mode)
    if purge:
        if os.path.lexists(host_path(sysroot, paths.POLICY_FILE)):
            removed.append(paths.POLICY_FILE)
        if not check_mode:
            # the lock and the policy file's code only for a purge: installing does not compile them
            from .._host.lock import HostLock  # pylint: disable=import-outside-toplevel
            from .._host.persist import remove as remove_policy  # pylint: disable=import-outside-toplevel

            # under the lock, so no writer is between reading and replacing the policy; a writer
            # that waited for this lock file sees it is gone and locks the next one
            with HostLock(sysroot, PURGE_LOCK_TIMEOUT):
                remove_policy(sysroot)
                # runtime state that every uksm_tunable run recreates: removed, but not a change
                remove_file(sysroot, paths.WRITTEN_FILE)
                remove_file(sysroot, paths.LOCK_FILE, remove_empty_directory=True)
    if removed and systemctl.live and not check_mode:
        systemctl.run('daemon-reload')
    return {
        'changed': changed or bool(removed),
        'enabled': False,
        'files': _host(removed),
        'installed': [],
        'metrics': {'enabled': False, 'output': None},
        'pressure': {'enabled': False, 'interval': None},
        'diff': _diff(before, {}),
    }


def _forget_tier(sysroot: str, check_mode: bool) -> list:
    """Without a tuner no tier is in force: the recorded one would keep the boot applier and the facts
    at a tier nothing maintains."""
    if not os.path.lexists(host_path(sysroot, paths.TIER_FILE)):
        return []
    if not check_mode:
        remove_file(sysroot, paths.TIER_FILE)
    return [paths.TIER_FILE]


def _read(sysroot: str, relative: str) -> str:
    found = read_file(sysroot, relative, installation.MAX_INSTALLED_BYTES)
    return '' if found is None else found[0].decode('utf-8', 'replace')
