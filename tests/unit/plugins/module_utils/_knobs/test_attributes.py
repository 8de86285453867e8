# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every attribute of the ABI contract: what the kernel prints, what we write, what reads back."""

from __future__ import annotations

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.attributes import (
    BACKENDS,
    HAZARDS,
    KSM,
    UKSM,
    UKSM_GOVERNOR_PRESETS,
)

# (backend, attribute): (kernel text, parsed value, user value or None for statistics,
#                        text written, value the kernel reads back)
CASES = {
    ('uksm', 'run'): ('1\n', 1, '0', '0\n', 0),
    ('uksm', 'sleep_millisecs'): ('100\n', 100, 250, '250\n', 250),
    ('uksm', 'cpu_governor'): ('[full] medium low quiet \n', 'full', 'medium', 'medium\n', 'medium'),
    ('uksm', 'max_cpu_percentage'): ('95\n', 95, 5, '5\n', 10),
    ('uksm', 'cpu_ratios'): (
        '20 40 MAX/4 MAX/1 \n',
        ['20', '40', 'MAX/4', 'MAX/1'],
        '20 40 MAX/150 MAX/1',
        '20 40 MAX/150 MAX/1\n',
        ['20', '40', 'MAX/151', 'MAX/1'],
    ),
    ('uksm', 'eval_intervals'): ('1000 500 200 50 \n', [1000, 500, 200, 50], [0, 1, 2, 3], '0 1 2 3\n', [0, 1, 2, 3]),
    ('uksm', 'abundant_threshold'): ('10\n', 10, 99, '99\n', 99),
    ('uksm', 'thrash_threshold'): ('50\n', 50, 0, '0\n', 0),
    ('uksm', 'pages_shared'): ('1200\n', 1200, None, None, None),
    ('uksm', 'pages_sharing'): ('48000\n', 48000, None, None, None),
    ('uksm', 'pages_unshared'): ('7\n', 7, None, None, None),
    ('uksm', 'full_scans'): ('1\n', 1, None, None, None),
    ('uksm', 'pages_scanned'): ('3 * 2^32\n', 3 << 32, None, None, None),
    ('uksm', 'ema_per_page_time'): ('412\n', 412, None, None, None),
    ('uksm', 'hash_strength'): ('1034\n', 1034, None, None, None),
    ('uksm', 'sleep_times'): ('18446744073709551615\n', 2**64 - 1, None, None, None),
    ('ksm', 'run'): ('5\n', 1, 2, '2\n', 2),
    ('ksm', 'pages_to_scan'): ('100\n', 100, '+300', '300\n', 300),
    ('ksm', 'sleep_millisecs'): ('20\n', 20, 4000000000, '4000000000\n', 4000000000),
    ('ksm', 'merge_across_nodes'): ('1\n', 1, False, '0\n', 0),
    ('ksm', 'use_zero_pages'): ('0\n', 0, 'yes', '1\n', 1),
    ('ksm', 'max_page_sharing'): ('256\n', 256, 2, '2\n', 2),
    ('ksm', 'stable_node_chains_prune_millisecs'): ('2000\n', 2000, 0, '0\n', 0),
    ('ksm', 'smart_scan'): ('1\n', 1, 0, '0\n', 0),
    ('ksm', 'advisor_mode'): ('[none] scan-time\n', 'none', 'scan-time', 'scan-time\n', 'scan-time'),
    ('ksm', 'advisor_max_cpu'): ('70\n', 70, 100, '100\n', 100),
    ('ksm', 'advisor_min_pages_to_scan'): ('500\n', 500, 1, '1\n', 1),
    ('ksm', 'advisor_max_pages_to_scan'): ('30000\n', 30000, 2**64 - 1, '18446744073709551615\n', 2**64 - 1),
    ('ksm', 'advisor_target_scan_time'): ('200\n', 200, 1, '1\n', 1),
    ('ksm', 'pages_shared'): ('0\n', 0, None, None, None),
    ('ksm', 'pages_sharing'): ('0\n', 0, None, None, None),
    ('ksm', 'pages_unshared'): ('0\n', 0, None, None, None),
    ('ksm', 'pages_volatile'): ('0\n', 0, None, None, None),
    ('ksm', 'full_scans'): ('12\n', 12, None, None, None),
    ('ksm', 'stable_node_chains'): ('0\n', 0, None, None, None),
    ('ksm', 'stable_node_dups'): ('0\n', 0, None, None, None),
    ('ksm', 'general_profit'): ('-12288\n', -12288, None, None, None),
    ('ksm', 'pages_scanned'): ('991\n', 991, None, None, None),
    ('ksm', 'ksm_zero_pages'): ('5\n', 5, None, None, None),
    ('ksm', 'pages_skipped'): ('3\n', 3, None, None, None),
}


def test_cases_cover_every_attribute():
    modelled = {(backend.name, name) for backend in BACKENDS.values() for name in backend.attrs}
    assert modelled == set(CASES)


def test_uksm_has_the_16_attributes_of_the_contract():
    assert len(UKSM.attrs) == 16
    assert sorted(UKSM.writable) == sorted(
        [
            'run',
            'sleep_millisecs',
            'cpu_governor',
            'max_cpu_percentage',
            'cpu_ratios',
            'eval_intervals',
            'abundant_threshold',
            'thrash_threshold',
        ]
    )


@pytest.mark.parametrize('key', sorted(CASES), ids=lambda key: '%s.%s' % key)
def test_parse_format_normalise(key):
    backend, name = key
    attr = BACKENDS[backend].attrs[name]
    text, parsed, user, written, read_back = CASES[key]
    assert attr.kind.parse(text) == parsed
    if user is None:
        assert not attr.writable
        return
    assert attr.writable
    value = attr.kind.coerce(user)
    assert attr.kind.format(value) == written
    assert attr.kind.normalise(value) == read_back
    # what the kernel reads back parses to the normalised value, and normalising is stable
    assert attr.kind.normalise(attr.kind.normalise(value)) == read_back


def test_defaults_are_valid_values():
    for backend in BACKENDS.values():
        for attr in backend.attrs.values():
            if attr.writable:
                assert attr.kind.coerce(attr.default) == attr.default, attr.name


def test_uksm_write_order_follows_the_contract():
    assert UKSM.write_order(
        [
            'run',
            'sleep_millisecs',
            'cpu_ratios',
            'cpu_governor',
            'max_cpu_percentage',
            'thrash_threshold',
            'eval_intervals',
            'abundant_threshold',
        ]
    ) == [
        'cpu_governor',
        'max_cpu_percentage',
        'cpu_ratios',
        'eval_intervals',
        'abundant_threshold',
        'thrash_threshold',
        'sleep_millisecs',
        'run',
    ]


def test_ksm_write_order_follows_the_contract():
    order = KSM.write_order(KSM.writable)
    assert order[:2] == ['advisor_mode', 'pages_to_scan']
    assert order[-1] == 'run'
    advisor = [order.index(name) for name in order if name.startswith('advisor_') and name != 'advisor_mode']
    rest = [order.index(name) for name in ('sleep_millisecs', 'merge_across_nodes', 'max_page_sharing')]
    assert max(advisor) < min(rest)


def test_presets_match_the_governor_defaults():
    full = UKSM_GOVERNOR_PRESETS['full']
    for name, value in full.items():
        assert UKSM.attrs[name].default == value
    ladder = UKSM.attrs['cpu_ratios'].kind
    for governor, preset in UKSM_GOVERNOR_PRESETS.items():
        ladder.check_ladder(preset['cpu_ratios'], preset['max_cpu_percentage'])
        assert governor in UKSM.attrs['cpu_governor'].kind.choices


def test_side_effects_of_the_contract_reset_writable_attributes_to_valid_values():
    # the kernel ABI's side effects: a governor sets its preset, an advisor mode sets pages_to_scan
    for governor, preset in UKSM_GOVERNOR_PRESETS.items():
        assert UKSM.attrs['cpu_governor'].reset_values(governor, {}) == preset
    advisor = KSM.attrs['advisor_mode']
    assert advisor.reset_values('none', {'advisor_min_pages_to_scan': 700}) == {'pages_to_scan': 100}
    assert advisor.reset_values('scan-time', {'advisor_min_pages_to_scan': 700}) == {'pages_to_scan': 700}
    assert advisor.reset_values('scan-time', {}) == {'pages_to_scan': 500}
    for backend in BACKENDS.values():
        for attr in backend.attrs.values():
            choices = getattr(attr.kind, 'choices', None) or [attr.default]
            for value in choices:
                for name, reset in attr.reset_values(value, {}).items():
                    assert backend.attrs[name].writable and name != attr.name
                    backend.attrs[name].kind.normalise(reset)
    assert [attr.name for attr in UKSM.attrs.values() if attr.resets] == ['cpu_governor']
    assert [attr.name for attr in KSM.attrs.values() if attr.resets] == ['advisor_mode']


def test_descriptions_name_what_a_write_resets():
    # the description is what the knob reference and the module docs show
    for backend in BACKENDS.values():
        for attr in backend.attrs.values():
            for value in getattr(attr.kind, 'choices', None) or [attr.default]:
                for name in attr.reset_values(value, {}):
                    assert name in attr.description, (attr.name, name)


def test_every_hazard_is_documented():
    for backend in BACKENDS.values():
        for attr in backend.attrs.values():
            for hazard in attr.hazards:
                assert hazard in HAZARDS
    assert 'corrupts_memory' in UKSM.attrs['eval_intervals'].hazards
    assert 'needs_daemon' in UKSM.attrs['run'].hazards
    assert 'ebusy_while_shared' in KSM.attrs['merge_across_nodes'].hazards
