# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The persisted policy: the settings the boot-time applier writes again after every reboot.

One file, ``<sysroot>/etc/litevirt-uksm/policy.conf``, with a section per backend and the
attributes in write order, so the same policy always renders to the same bytes.
"""

from __future__ import annotations

import os

from .backends import BACKENDS
from .sysfs import SYSTEM_UNITS, host_path, wants_link

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

    Policies = t.Dict[str, t.Dict[str, str]]

POLICY_FILE = 'etc/litevirt-uksm/policy.conf'
# The unit that applies it at boot, and the directory of its applier (see bootunit.py).
UNIT_NAME = 'uksm-policy.service'
UNIT_FILE = SYSTEM_UNITS + '/' + UNIT_NAME
UNIT_WANTED_BY = 'sysinit.target'
APPLIER_DIR = 'usr/lib/litevirt-uksm'
# The metrics writer's default output: Debian's node_exporter reads *.prom files from this directory
# (--collector.textfile.directory).
METRICS_OUTPUT = '/var/lib/prometheus/node-exporter/uksm.prom'
HEADER = ('# Managed by the litevirt.uksm Ansible collection (uksm_tunable persist, policy role).\n'
          '# Applied at boot by uksm-policy.service. Local edits are overwritten.\n')


class PolicyFileError(ValueError):
    """The persisted policy cannot be parsed."""


def as_text(value: t.Any) -> str:
    """A typed value as the policy file stores it (lists space-separated)."""
    if isinstance(value, (list, tuple)):
        return ' '.join(str(item) for item in value)
    return str(value)


def parse(text: str) -> Policies:
    policies = {}  # type: Policies
    section = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('[') and line.endswith(']'):
            section = line[1:-1].strip()
            if section not in BACKENDS:
                raise PolicyFileError('line %d: unknown section [%s]' % (number, section))
            policies.setdefault(section, {})
            continue
        name, sep, value = line.partition('=')
        if not sep or section is None:
            raise PolicyFileError('line %d: expected "name = value" inside a [uksm] or [ksm] section' % number)
        policies[section][name.strip()] = value.strip()
    return policies


def render(policies: Policies) -> str:
    chunks = [HEADER]
    for backend in BACKENDS.values():
        settings = policies.get(backend.name)
        if not settings:
            continue
        known = backend.write_order(n for n in settings if n in backend.attrs)
        unknown = sorted(n for n in settings if n not in backend.attrs)
        chunks.append('\n[%s]\n' % backend.name)
        chunks.extend('%s = %s\n' % (name, settings[name]) for name in known + unknown)
    return ''.join(chunks)


def path_of(sysroot: str) -> str:
    return host_path(sysroot, POLICY_FILE)


def unit_state(sysroot: str) -> t.Dict[str, t.Any]:
    """Whether the boot unit is installed and enabled, from files only (works offline)."""
    return {'name': UNIT_NAME,
            'installed': os.path.exists(host_path(sysroot, UNIT_FILE)),
            'enabled': os.path.lexists(host_path(sysroot, wants_link(UNIT_NAME, UNIT_WANTED_BY)))}


def remove(sysroot: str) -> bool:
    """Delete the policy file and its directory when empty; whether anything was there."""
    path = path_of(sysroot)
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    try:
        os.rmdir(os.path.dirname(path))
    except OSError:
        pass  # not empty: someone else's files
    return True


def load(sysroot: str) -> t.Tuple[Policies, str]:
    """The persisted policies and the file's text ('' when there is none)."""
    try:
        with open(path_of(sysroot), 'r', encoding='utf-8') as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}, ''
    return parse(text), text


def updated(policies: Policies, backend: str, settings: t.Dict[str, t.Any], present: bool) -> Policies:
    """Policies with ``settings`` recorded (present) or their names removed (absent)."""
    result = {name: dict(values) for name, values in policies.items()}
    section = result.setdefault(backend, {})
    for name, value in settings.items():
        if present:
            section[name] = as_text(value)
        else:
            section.pop(name, None)
    if not section:
        del result[backend]
    return result


def write_atomic(path: str, text: str, mode: int = 0o644) -> None:
    """Replace ``path`` with ``text`` so a reader sees the old file or the new one, never half."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    # what tempfile.mkstemp does, without importing tempfile (milliseconds at every metrics run)
    temporary = os.path.join(directory, '.%s.%d.%s' % (os.path.basename(path), os.getpid(), os.urandom(6).hex()))
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(handle, 'w', encoding='utf-8') as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
