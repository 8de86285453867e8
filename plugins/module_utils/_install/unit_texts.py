# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The systemd unit texts of the boot applier, the metrics writer and the pressure tuner, as installed.

Paths are the fixed relative paths of paths.py; the units refer to them as the host will see them.
"""

from __future__ import annotations

import os
import re
import typing as t

from .._host.paths import (
    APPLIER_DIR,
    LAUNCHER,
    LOCK_DIR,
    METRICS_LAUNCHER,
    METRICS_OUTPUT,
    METRICS_TIMER_WANTED_BY,
    PACKAGE,
    POLICY_FILE,
    PRESSURE_LAUNCHER,
    UNIT_NAME,
    UNIT_WANTED_BY,
)
from .._knobs.attributes import BACKENDS

# Services that start guests: the unit is ordered before each, so guests start under the policy.
HYPERVISOR_UNITS = (
    'libvirtd.service',
    'libvirt-guests.service',
    'virtqemud.service',
    'pve-guests.service',
    'nova-compute.service',
    'incus.service',
)
# Also the lock timeout of the applier, with room for the writes.
START_TIMEOUT = 90
# How the units run Python: isolated from the environment and user site (-I), without site-packages
# and .pth hooks (-S: nothing third-party runs as root at boot, and start-up is ~3 ms faster), never
# writing bytecode into the read-only /usr (-B); the bytecode is compiled at install instead.
PYTHON_FLAGS = '-I -S -B'
MANAGED = 'Managed by the litevirt.uksm Ansible collection (policy role); local edits are overwritten.'
# Shared by both services: no network, devices, kernel or namespace changes, native system calls only.
SANDBOX = '''ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateNetwork=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
NoNewPrivileges=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
'''
# The sandbox of the services that write sysfs and the lock's directory (the applier and the tuner).
WRITER_SANDBOX = (
    '''ProtectSystem=strict
RuntimeDirectory=%s
RuntimeDirectoryMode=0700
RuntimeDirectoryPreserve=yes
'''
    % os.path.basename(LOCK_DIR)
    + SANDBOX
    + '''# root owns the sysfs files and the lock, so no capability is needed
CapabilityBoundingSet=
UMask=0022
'''
)
_OUTPUT_OPTION = re.compile(r'^ExecStart=.* --output (\S+)$', re.MULTILINE)


def unit_text(python: str, before: t.Sequence[str] = HYPERVISOR_UNITS) -> str:
    """The unit: early like systemd-sysctl, before the hypervisor, sandboxed but able to write sysfs."""
    conditions = ''.join('ConditionPathExists=|/%s\n' % backend.directory for backend in BACKENDS.values())
    return '''# %(managed)s
[Unit]
Description=Apply the UKSM/KSM memory sharing policy (litevirt.uksm)
Documentation=file:/%(policy)s
DefaultDependencies=no
Conflicts=shutdown.target
After=local-fs.target systemd-tmpfiles-setup.service systemd-modules-load.service
Before=sysinit.target shutdown.target %(before)s
# either interface; without one there is nothing to apply
%(conditions)sConditionPathExists=/%(policy)s

[Service]
# Not RemainAfterExit: "systemctl start uksm-policy" must apply the policy again (drift repair).
Type=oneshot
ExecStart=%(python)s %(flags)s /%(launcher)s
SyslogIdentifier=uksm-policy
# a kernel that does not answer must not hold up the boot
TimeoutStartSec=%(timeout)d
# Sandbox. The interface is in /sys, which ProtectSystem=strict leaves writable as long as
# ProtectKernelTunables= stays off. The lock shared with the Ansible modules is in /%(lockdir)s,
# root's alone (0700), kept when the service ends: a module may hold it at that moment.
%(writer)s
[Install]
WantedBy=%(wanted_by)s
''' % {
        'managed': MANAGED,
        'policy': POLICY_FILE,
        'before': ' '.join(before),
        'conditions': conditions,
        'python': python,
        'flags': PYTHON_FLAGS,
        'launcher': LAUNCHER,
        'timeout': START_TIMEOUT,
        'lockdir': LOCK_DIR,
        'wanted_by': UNIT_WANTED_BY,
        'writer': WRITER_SANDBOX,
    }


def metrics_service_text(python: str, output: str = METRICS_OUTPUT) -> str:
    """Started by the timer: reads /sys and /proc, may write only the output's directory."""
    return '''# %(managed)s
[Unit]
Description=Write UKSM/KSM metrics for the node_exporter textfile collector (litevirt.uksm)
Documentation=file:/%(lib)s/%(package)s/metrics.py
# the directory node_exporter reads; without it nobody would read the file
ConditionPathIsDirectory=%(directory)s
# at boot, report the policy as applied rather than the kernel defaults
After=%(policy_unit)s

[Service]
Type=oneshot
ExecStart=%(python)s %(flags)s /%(launcher)s --output %(output)s
SyslogIdentifier=uksm-metrics
TimeoutStartSec=30
# Sandbox. Read-only /sys (ProtectKernelTunables=yes); the file is replaced by a rename in its own
# directory, so that directory is the only writable path.
ProtectSystem=strict
ProtectKernelTunables=yes
ReadWritePaths=-%(directory)s
%(sandbox)s# root owns Debian's textfile directory, so no capability is needed
CapabilityBoundingSet=
UMask=0022
''' % {
        'managed': MANAGED,
        'lib': APPLIER_DIR,
        'package': PACKAGE,
        'directory': os.path.dirname(output),
        'policy_unit': UNIT_NAME,
        'python': python,
        'flags': PYTHON_FLAGS,
        'launcher': METRICS_LAUNCHER,
        'output': output,
        'sandbox': SANDBOX,
    }


def metrics_timer_text() -> str:
    return '''# %s
[Unit]
Description=Write UKSM/KSM metrics every minute (litevirt.uksm)

[Timer]
# calendar-based: it keeps firing even when the service was skipped by its condition
OnCalendar=minutely
AccuracySec=5s
# a missed run is not caught up: only current values matter
Persistent=false

[Install]
WantedBy=%s
''' % (MANAGED, METRICS_TIMER_WANTED_BY)


def pressure_service_text(python: str) -> str:
    """Started by the timer: writes sysfs like the boot applier, under the same lock, and the tier
    in force beside the lock. No conditions: a skipped run would stop a monotonic timer for good, so
    the tuner itself says when there is nothing to tune."""
    return '''# %(managed)s
[Unit]
Description=Apply the memory pressure tier of the UKSM/KSM policy (litevirt.uksm)
Documentation=file:/%(policy)s
# the base first: the tuner starts from what the boot applier wrote
After=%(policy_unit)s

[Service]
Type=oneshot
ExecStart=%(python)s %(flags)s /%(launcher)s
SyslogIdentifier=uksm-pressure
TimeoutStartSec=%(timeout)d
# Sandbox: as the boot applier's; the tier in force is recorded in /%(lockdir)s beside the lock.
%(writer)s''' % {
        'managed': MANAGED,
        'policy': POLICY_FILE,
        'policy_unit': UNIT_NAME,
        'python': python,
        'flags': PYTHON_FLAGS,
        'launcher': PRESSURE_LAUNCHER,
        'timeout': START_TIMEOUT,
        'lockdir': LOCK_DIR,
        'writer': WRITER_SANDBOX,
    }


def pressure_timer_text(interval: int) -> str:
    return '''# %s
[Unit]
Description=Evaluate memory pressure every %d seconds (litevirt.uksm)

[Timer]
OnBootSec=%d
OnUnitActiveSec=%d
AccuracySec=1s

[Install]
WantedBy=%s
''' % (MANAGED, interval, interval, interval, METRICS_TIMER_WANTED_BY)


def metrics_output_of(service_text: str) -> str | None:
    """The output file an installed metrics service writes (to remove it with the service)."""
    match = _OUTPUT_OPTION.search(service_text)
    return match.group(1) if match else None
