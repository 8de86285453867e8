# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Every file and unit the collection keeps on a host, relative to the sysroot (the metrics output aside,
which is an option and so an absolute path as the host sees it).

docs/docsite/rst/files-root-touches.rst says who else could create each of them and how they are
opened; the kernel's own files (/sys/kernel/mm, /proc) are in attributes.py and hostinfo.py.
"""

from __future__ import annotations

# The persisted policy, applied at every boot.
POLICY_FILE = 'etc/litevirt-uksm/policy.conf'

# The host lock shared by uksm_tunable and the boot applier: a directory only root may write.
LOCK_DIR = 'run/litevirt-uksm'
LOCK_NAME = 'lock'
LOCK_FILE = LOCK_DIR + '/' + LOCK_NAME
# The pressure tier in force, written by the tuner beside the lock: gone at reboot, like the tier.
TIER_FILE = LOCK_DIR + '/tier'
# What the collection last wrote since boot to an attribute the kernel raises by itself (UKSM's sleep):
# the kernel keeps that value aside but shows only the raised one; gone at reboot, like the kernel's.
WRITTEN_FILE = LOCK_DIR + '/written'

# Where units are installed and enabled (``systemctl enable`` links them into <target>.wants there).
SYSTEM_UNITS = 'etc/systemd/system'

# The boot applier: its unit, the launchers and the package of module_utils they run.
UNIT_NAME = 'uksm-policy.service'
UNIT_FILE = SYSTEM_UNITS + '/' + UNIT_NAME
UNIT_WANTED_BY = 'sysinit.target'
APPLIER_DIR = 'usr/lib/litevirt-uksm'
PACKAGE = 'uksm_policy'
PACKAGE_DIR = APPLIER_DIR + '/' + PACKAGE
LAUNCHER = APPLIER_DIR + '/uksm-policy-apply'

# The metrics writer (opt-in): its launcher, service and timer, and its default output, in the
# directory Debian's node_exporter reads *.prom files from (--collector.textfile.directory).
METRICS_LAUNCHER = APPLIER_DIR + '/uksm-metrics-write'
METRICS_SERVICE = 'uksm-metrics.service'
METRICS_TIMER = 'uksm-metrics.timer'
METRICS_TIMER_WANTED_BY = 'timers.target'
METRICS_UNIT_FILES = (SYSTEM_UNITS + '/' + METRICS_SERVICE, SYSTEM_UNITS + '/' + METRICS_TIMER)
METRICS_OUTPUT = '/var/lib/prometheus/node-exporter/uksm.prom'

# The pressure tuner (with pressure tiers only): its launcher, and the service its timer starts.
PRESSURE_LAUNCHER = APPLIER_DIR + '/uksm-pressure-tune'
PRESSURE_SERVICE = 'uksm-pressure.service'
PRESSURE_TIMER = 'uksm-pressure.timer'
PRESSURE_UNIT_FILES = (SYSTEM_UNITS + '/' + PRESSURE_SERVICE, SYSTEM_UNITS + '/' + PRESSURE_TIMER)


def wants_link(unit: str, target: str) -> str:
    """The symlink ``systemctl enable`` makes for ``unit`` when its [Install] section says WantedBy=target."""
    return '%s/%s.wants/%s' % (SYSTEM_UNITS, target, unit)


def unit_file(unit: str) -> str:
    """Where the collection installs ``unit``'s file."""
    return '%s/%s' % (SYSTEM_UNITS, unit)
