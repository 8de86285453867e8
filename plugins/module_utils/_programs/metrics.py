# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""``ansible_facts.uksm`` as Prometheus metrics, for node_exporter's textfile collector.

``render`` turns one ``facts.gather()`` result into the text exposition format, so every value is
the one ``uksm_facts`` reports for the same host (drift included, which the facts take from
``plan.drift()``). ``main`` is what ``uksm-metrics.service`` runs every minute through a launcher
(see _install/unit_texts.py); the file is replaced atomically, so the collector never reads half of it.
Stdlib only: this file also runs on the host, from the installed package.
"""

from __future__ import annotations

from .._host.paths import METRICS_OUTPUT
from .._host.safewrites import replace_file
from .._knobs.attributes import BACKENDS
from .._plan.facts import gather
from ..errors import CAUGHT
from . import launcher

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

    Labels = t.Sequence[t.Tuple[str, str]]

PREFIX = 'uksm-metrics: '

# Statistics that only grow until the next boot: Prometheus counters, named with _total.
COUNTERS = frozenset(('full_scans', 'pages_scanned', 'sleep_times', 'pages_skipped'))
# Statistics whose kernel unit is not a base unit or not in the name: metric name, divisor, help.
RENAMED = {
    'ema_per_page_time': (
        'ema_per_page_time_seconds',
        10**9,
        'Moving average cost to scan one page, in seconds (the kernel reports nanoseconds).',
    ),
    'general_profit': (
        'general_profit_bytes',
        1,
        'Bytes saved by KSM minus its metadata cost; negative when merging costs more than it saves.',
    ),
}
# Exported as uksm_zero_pages, from the fact's zero_pages, for either backend.
FROM_FACT = frozenset(('ksm_zero_pages',))


class Family:
    """One metric: HELP, TYPE and its samples, rendered together as the format requires."""

    def __init__(self, name: str, kind: str, text: str) -> None:
        self.name = 'uksm_' + name
        self.kind = kind
        self.text = text
        self.samples: list[tuple[Labels, int | float]] = []

    def add(self, value: bool | int | float, labels: Labels = ()) -> Family:
        self.samples.append((labels, int(value) if isinstance(value, bool) else value))
        return self

    def render(self) -> str:
        lines = [
            '# HELP %s %s' % (self.name, self.text.replace('\\', '\\\\').replace('\n', '\\n')),
            '# TYPE %s %s' % (self.name, self.kind),
        ]
        for labels, value in self.samples:
            pairs = ','.join('%s="%s"' % (key, _escape(text)) for key, text in labels)
            lines.append('%s%s %s' % (self.name, '{%s}' % pairs if pairs else '', _number(value)))
        return '\n'.join(lines) + '\n'


def _escape(text: str) -> str:
    return text.replace('\\', '\\\\').replace('\n', '\\n').replace('"', '\\"')


def _number(value: int | float) -> str:
    # ints exactly (counters beyond 2^53 keep their digits); floats round-trip through repr
    return str(value) if isinstance(value, int) else repr(float(value))


def _statistics(backend: str, stats: dict[str, t.Any]) -> list[Family]:
    attrs = BACKENDS[backend].attrs
    families = []
    for name, value in stats.items():
        if name in FROM_FACT:
            continue
        where = ' Read from /sys/kernel/mm/%s/%s.' % (backend, name)
        if name in RENAMED:
            metric, divisor, text = RENAMED[name]
            family = Family(metric, 'gauge', text + where)
            value = value / divisor if divisor != 1 else value
        elif name in COUNTERS:
            family = Family(name + '_total', 'counter', attrs[name].description + where)
        else:
            family = Family(name, 'gauge', attrs[name].description + where)
        families.append(family.add(value, [('backend', backend)]))
    return families


def _policy(fact: dict[str, t.Any]) -> list[Family]:
    policy = fact['policy']
    families = [
        Family('policy_persisted', 'gauge', '1 when a policy is persisted in %s.' % policy['file']).add(
            policy['exists']
        ),
        Family(
            'policy_error', 'gauge', '1 when the persisted policy cannot be read or does not apply to this kernel.'
        ).add(policy['error'] is not None),
        Family(
            'policy_unit_enabled',
            'gauge',
            '1 when %s, which applies the policy at boot, is enabled.' % policy['unit']['name'],
        ).add(policy['unit']['enabled']),
    ]
    backend = fact['backend']
    if backend is None:
        return families
    drifted = policy['drift']
    label = [('backend', backend)]
    # every attribute of the settings in force (the persisted base, with the pressure tier in force on top) this
    # kernel has: 1 drifted, 0 held (drift as uksm_facts reports it, measured against the same settings)
    in_force = dict(policy['settings'].get(backend) or {}, **(policy.get('tier_settings') or {}))
    section = [name for name in in_force if name in fact['tunables'] or name in drifted]
    per_attribute = Family(
        'policy_drift',
        'gauge',
        '1 when the kernel does not hold this attribute of the persisted policy in force now (the base, or the base '
        'with the pressure tier in force on top), else 0.',
    )
    raised = policy.get('raised_by_kernel') or {}
    per_raise = Family(
        'policy_raised_by_kernel',
        'gauge',
        '1 when the kernel holds this attribute of the policy in force at a value it raised itself (uksmd lengthens a '
        'short sleep_millisecs; not drift), else 0.',
    )
    attrs = BACKENDS[backend].attrs
    for name in section:
        per_attribute.add(name in drifted, label + [('name', name)])
        if name in attrs and attrs[name].raised_by_kernel is not None:  # the attributes the kernel may raise
            per_raise.add(name in raised, label + [('name', name)])
    families += [per_attribute, per_raise]
    families.append(
        Family('policy_drifted_attributes', 'gauge', 'Persisted policy attributes the kernel does not hold now.').add(
            len(drifted), label
        )
    )
    # availability and memory stall are node_exporter's own (node_memory_MemAvailable_bytes, node_pressure_*):
    # only what it cannot know, which of the persisted pressure tiers the tuner put in force
    tier = policy.get('tier')
    families += [
        Family(
            'policy_tiers', 'gauge', 'Pressure tiers persisted for this interface (policy.pressure), 0 without.'
        ).add(len((policy.get('pressure') or {}).get('tiers') or ()), label),
        Family(
            'policy_tier',
            'gauge',
            'Index of the pressure tier in force, from 0 (the highest availability threshold) to '
            'uksm_policy_tiers - 1 (the scarcest memory); -1 for the base settings, as without tiers.',
        ).add(-1 if tier is None else tier, label),
    ]
    return families


def render(fact: dict[str, t.Any]) -> str:
    """One ``facts.gather()`` result in the Prometheus text format (version 0.0.4)."""
    families = [
        Family('available', 'gauge', '1 when the kernel offers UKSM or KSM.').add(fact['available']),
        Family('page_size_bytes', 'gauge', 'Page size; multiplies the page counts into bytes.').add(fact['page_size']),
    ]
    backend = fact['backend']
    if backend is not None:
        label = [('backend', backend)]
        tunables = fact['tunables']
        # choices (cpu_governor, advisor_mode) are strings: labels of the info metric, not values
        choices = [(name, value) for name, value in tunables.items() if isinstance(value, str)]
        families += [
            Family('info', 'gauge', 'Always 1: the interface in use and its current choices.').add(1, label + choices),
            Family('daemon_running', 'gauge', '1 while the %s kernel thread exists.' % fact['daemon']).add(
                fact['daemon_running'], label
            ),
            Family(
                'saved_bytes', 'gauge', 'Memory saved: pages_sharing times the page size, plus merged zero pages.'
            ).add(fact['savings']['bytes'], label),
            Family('unreadable_attributes', 'gauge', 'Attributes that could not be read or parsed now.').add(
                len(fact['errors']), label
            ),
        ]
        if fact.get('daemon_cpu'):
            # what sharing costs, a counter: rate() gives the thread's share of one CPU
            text = 'CPU time the %s kernel thread has spent (utime + stime of /proc/<pid>/stat).' % fact['daemon']
            families.append(
                Family('daemon_cpu_seconds_total', 'counter', text).add(fact['daemon_cpu']['seconds'], label)
            )
        if fact['zero_pages'] is not None:
            families.append(
                Family('zero_pages', 'gauge', 'Empty pages merged with the zero page.').add(fact['zero_pages'], label)
            )
        families += _statistics(backend, fact['stats'])
        numeric = Family('tunable', 'gauge', 'Numeric tunables as the kernel reads them; the name carries the unit.')
        for name, value in tunables.items():
            if isinstance(value, int) and not isinstance(value, bool):
                numeric.add(value, label + [('name', name)])
        families.append(numeric)
    families += _policy(fact)
    return ''.join(family.render() for family in families if family.samples)


def write(sysroot: str, path: str, text: str) -> None:
    """Replace ``path`` (as the host sees it) with ``text``: temporary file, fsync, rename, mode 0644.

    The directory may belong to another user (on Debian ``/var/lib/prometheus`` is the prometheus
    user's): no symlink on the way is followed and the file is created afresh and renamed, so that
    user can at most redirect the metrics into a directory of its own, never a write of root's.
    """
    replace_file(sysroot, path.lstrip('/'), text.encode('utf-8'), 0o644, private=False)


def _write_metrics(sysroot: str, options: dict[str, t.Any], out: launcher.Out) -> int:
    # silent on success: the timer runs every minute
    output = options['output']
    if not output.startswith('/'):
        out('FAILED: --output must be an absolute path, got %r' % output)
        return 2
    try:
        write(sysroot, output, render(gather(sysroot)))
    except CAUGHT as error:
        out('FAILED: cannot write %s: %s' % (output, error))
        return 1
    return 0


def main(argv: t.Sequence[str] | None = None) -> int:
    return launcher.run(
        'Write UKSM/KSM metrics for node_exporter (litevirt.uksm).',
        PREFIX,
        argv,
        {'output': (METRICS_OUTPUT, str, 'file to replace, as the host sees it (default %s)' % METRICS_OUTPUT)},
        _write_metrics,
    )
