# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus metrics: parsed by prometheus_client, equal to uksm_facts, written atomically, shipped."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths, persist
from ansible_collections.litevirt.uksm.plugins.module_utils._install import installation, unit_texts
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tunable import run, tier_policy_of
from ansible_collections.litevirt.uksm.plugins.module_utils._programs import metrics

COUNTERS = ('full_scans', 'pages_scanned', 'sleep_times', 'pages_skipped')


def parse(text):
    """{(sample name, labels): value}, through the reference parser."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in samples, key
            samples[key] = sample.value
    return samples


def expected(fact):
    """What the file must say, from uksm_facts' own keys (the specification of the mapping)."""
    want = {}

    def put(metric, value, **labels):
        want[(metric, frozenset(labels.items()))] = value

    policy = fact['policy']
    put('uksm_available', int(fact['available']))
    put('uksm_page_size_bytes', fact['page_size'])
    put('uksm_policy_persisted', int(policy['exists']))
    put('uksm_policy_error', int(policy['error'] is not None))
    put('uksm_policy_unit_enabled', int(policy['unit']['enabled']))
    backend = fact['backend']
    if backend is None:
        return want
    tunables = fact['tunables']
    put('uksm_info', 1, backend=backend, **{name: value for name, value in tunables.items() if isinstance(value, str)})
    put('uksm_daemon_running', int(fact['daemon_running']), backend=backend)
    put('uksm_saved_bytes', fact['savings']['bytes'], backend=backend)
    if fact['daemon_cpu'] is not None:
        put('uksm_daemon_cpu_seconds_total', fact['daemon_cpu']['seconds'], backend=backend)
    put('uksm_unreadable_attributes', len(fact['errors']), backend=backend)
    if fact['zero_pages'] is not None:
        put('uksm_zero_pages', fact['zero_pages'], backend=backend)
    for name, value in fact['stats'].items():
        if name == 'ksm_zero_pages':
            assert value == fact['zero_pages']  # exported once, as uksm_zero_pages
        elif name == 'ema_per_page_time':
            put('uksm_ema_per_page_time_seconds', value / 10**9, backend=backend)
        elif name == 'general_profit':
            put('uksm_general_profit_bytes', value, backend=backend)
        else:
            put('uksm_%s%s' % (name, '_total' if name in COUNTERS else ''), value, backend=backend)
    for name, value in tunables.items():
        if isinstance(value, int):
            put('uksm_tunable', value, backend=backend, name=name)
    # the settings in force: the base with the pressure tier in force on top, as drift is measured
    in_force = dict(policy['settings'].get(backend, {}), **(policy['tier_settings'] or {}))
    for name in in_force:
        if name in tunables or name in policy['drift']:
            put('uksm_policy_drift', int(name in policy['drift']), backend=backend, name=name)
            # only UKSM's sleep is ever raised by the kernel (docs/kernel-interfaces.md, section 4)
            if (backend, name) == ('uksm', 'sleep_millisecs'):
                put('uksm_policy_raised_by_kernel', int(name in policy['raised_by_kernel']), backend=backend, name=name)
    put('uksm_policy_drifted_attributes', len(policy['drift']), backend=backend)
    put('uksm_policy_tiers', len((policy['pressure'] or {}).get('tiers', [])), backend=backend)
    put('uksm_policy_tier', -1 if policy['tier'] is None else policy['tier'], backend=backend)
    return want


def _persist(root, policies):
    persist.save(root, persist.render(policies))


def _enable_policy_unit(root):
    wants = os.path.join(root, 'etc/systemd/system/sysinit.target.wants')
    os.makedirs(wants)
    os.symlink('/' + paths.UNIT_FILE, os.path.join(wants, paths.UNIT_NAME))


def _drifted_uksm(host):
    _persist(host.paths.root, {'uksm': {'cpu_governor': 'full', 'sleep_millisecs': '200', 'run': '1'}})
    _enable_policy_unit(host.paths.root)
    host.write('cpu_governor', 'low\n')  # through the simulated kernel, as drift happens


def _advisor_ksm(host):
    host.write('advisor_mode', 'scan-time\n')  # ksmd manages pages_to_scan now: not drift
    _persist(host.paths.root, {'ksm': {'pages_to_scan': '500', 'sleep_millisecs': '50', 'run': '1'}})


# MemTotal of the simulated hosts, in kB
TOTAL_KB = 16303540
UKSM_TIERS = [
    {'available_below_percent': 30, 'settings': {'cpu_governor': 'medium'}},
    {'available_below_percent': 10, 'settings': {'cpu_governor': 'full', 'max_cpu_percentage': 60}},
]


def _tiered_uksm(available):
    def action(host):
        host.set_state(mem_available_kb=int(TOTAL_KB * available / 100))
        # applies and records the tier that availability asks for, as the tuner would
        run(
            host.paths.root,
            'auto',
            {'cpu_governor': 'quiet', 'run': 1},
            persist_policy=True,
            pressure_tiers=tier_policy_of(UKSM_TIERS, 5),
        )

    return action


def _tier_drifted(host):
    _tiered_uksm(5)(host)
    host.write('max_cpu_percentage', '95\n')  # the deepest tier's own attribute, which the base does not set


def _policy_for_a_newer_kernel(host):
    _persist(host.paths.root, {'ksm': {'advisor_mode': 'scan-time', 'run': '1'}})


# (variant, create options, what to do to the host, what the scenario must show in the facts)
SCENARIOS = {
    'uksm': ('uksm', {}, None, lambda fact: fact['stats']['sleep_times'] == 1875),
    'uksm-drift': (
        'uksm',
        {},
        _drifted_uksm,
        lambda fact: (
            fact['policy']['drift'] == ['cpu_governor', 'sleep_millisecs'] and fact['policy']['unit']['enabled']
        ),
    ),
    'uksm-dead-daemon': (
        'uksm',
        {},
        lambda host: host.write('cpu_ratios', '20 40 MAX/4 10000\n'),
        lambda fact: fact['daemon_running'] is False,
    ),
    'uksm-huge-counter': (
        'uksm',
        {'pages_scanned_pow2': 40},
        None,
        lambda fact: fact['stats']['pages_scanned'] > 2**53,
    ),
    'uksm-read-error': (
        'uksm',
        {},
        lambda host: host.inject('pages_shared', errno='EIO', op='read'),
        lambda fact: len(fact['errors']) == 1 and 'pages_shared' not in fact['stats'],
    ),
    'uksm-tier-base': (
        'uksm',
        {},
        _tiered_uksm(80),
        lambda fact: fact['policy']['tier'] is None and len(fact['policy']['pressure']['tiers']) == 2,
    ),
    'uksm-tier-0': ('uksm', {}, _tiered_uksm(25), lambda fact: fact['policy']['tier'] == 0),
    'uksm-tier-drift': (
        'uksm',
        {},
        _tier_drifted,
        lambda fact: fact['policy']['tier'] == 1 and fact['policy']['drift'] == ['max_cpu_percentage'],
    ),
    'ksm-active': ('ksm', {'active': True}, None, lambda fact: fact['stats']['general_profit'] > 0),
    'ksm-negative-profit': ('ksm', {'negative_profit': True}, None, lambda fact: fact['stats']['general_profit'] < 0),
    'ksm-advisor': ('ksm', {}, _advisor_ksm, lambda fact: fact['policy']['drift'] == ['sleep_millisecs', 'run']),
    'ksm-old-policy-error': (
        'ksm-old',
        {},
        _policy_for_a_newer_kernel,
        lambda fact: 'advisor_mode' in fact['policy']['error'],
    ),
    'none': ('none', {}, None, lambda fact: not fact['available']),
}


@pytest.fixture(params=sorted(SCENARIOS))
def scenario(request, make_host):
    """(fact, text) of one simulated host, gathered and rendered from the same read."""
    variant, options, action, shows = SCENARIOS[request.param]
    host = make_host(variant, **options)
    if action:
        action(host)
    fact = gather(host.paths.root)
    assert shows(fact), fact  # the scenario exercises what it is named after
    return fact, metrics.render(fact)


def test_every_value_equals_the_facts(scenario):
    fact, text = scenario
    assert parse(text) == expected(fact)


def test_naming_and_format_rules(scenario):
    _fact, text = scenario
    families = list(text_string_to_metric_families(text))
    assert families and text.endswith('\n')
    for family in families:
        assert family.documentation and family.type in ('gauge', 'counter'), family.name
        assert family.samples, family.name
        for sample in family.samples:
            assert re.match(r'^uksm_[a-z0-9_]+$', sample.name), sample.name
            # counters end in _total, nothing else does; units are base units
            assert sample.name.endswith('_total') == (family.type == 'counter'), sample.name
            assert not re.search(r'milli|msec|nano|kib|kb$', sample.name), sample.name
            assert all(re.match(r'^[a-z_][a-z0-9_]*$', label) for label in sample.labels)
    # HELP then TYPE before a family's samples, each family once and in one piece
    seen = set()
    current = None
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith('# TYPE '):
            current = line.split()[2]
            assert current not in seen and lines[index - 1].startswith('# HELP %s ' % current), line
            seen.add(current)
        elif not line.startswith('# HELP '):
            assert re.split(r'[{ ]', line, maxsplit=1)[0] == current, line


def test_drift_metrics_name_the_drifted_attributes(make_host):
    host = make_host('uksm')
    _drifted_uksm(host)
    samples = parse(metrics.render(gather(host.paths.root)))
    drift = {dict(labels)['name']: value for (name, labels), value in samples.items() if name == 'uksm_policy_drift'}
    assert drift == {'cpu_governor': 1, 'sleep_millisecs': 1, 'run': 0}
    assert samples[('uksm_policy_drifted_attributes', frozenset({('backend', 'uksm')}))] == 2
    assert samples[('uksm_info', frozenset({('backend', 'uksm'), ('cpu_governor', 'low')}))] == 1


def test_label_values_and_help_are_escaped(make_host):
    fact = gather(make_host('uksm').paths.root)

    @settings(max_examples=200, deadline=None)
    @given(st.text(alphabet=st.characters(blacklist_categories=('Cs',))))
    def check(value):
        fact['tunables']['cpu_governor'] = value
        samples = parse(metrics.render(fact))
        assert samples[('uksm_info', frozenset({('backend', 'uksm'), ('cpu_governor', value)}))] == 1

    check()
    help_text = metrics.Family('x', 'gauge', 'a \\ b\nc').add(1).render()
    assert [family.documentation for family in text_string_to_metric_families(help_text)] == ['a \\ b\nc']


def test_main_writes_the_facts_of_the_sysroot(make_host):
    root = make_host('ksm', active=True).paths.root
    assert metrics.main(['--sysroot', root]) == 0
    with open(os.path.join(root, paths.METRICS_OUTPUT.lstrip('/')), encoding='utf-8') as handle:
        assert parse(handle.read()) == expected(gather(root))


def test_installed_launcher_writes_metrics_in_isolation(make_host):
    host = make_host('uksm')
    root = host.paths.root
    _drifted_uksm(host)
    installation.install(
        root, installation.artefacts(sys.executable, metrics_output=paths.METRICS_OUTPUT), check_mode=False
    )
    command = (
        [sys.executable]
        + unit_texts.PYTHON_FLAGS.split()
        + [os.path.join(root, paths.METRICS_LAUNCHER), '--sysroot', root]
    )
    # -I: no PYTHONPATH, so only the installed package can satisfy the imports
    result = subprocess.run(command, capture_output=True, text=True, check=False, env={})
    assert result.returncode == 0 and result.stdout == '', result.stdout + result.stderr
    path = os.path.join(root, paths.METRICS_OUTPUT.lstrip('/'))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    with open(path, encoding='utf-8') as handle:
        assert parse(handle.read()) == expected(gather(root))
    assert not os.path.exists(os.path.join(root, paths.APPLIER_DIR, paths.PACKAGE, '__pycache__'))
