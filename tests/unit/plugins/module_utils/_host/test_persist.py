# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy file parser: corrupt input ends in PolicyFileError (or OSError from load), never a traceback;
what it accepts is bounded, and render/parse round-trip."""

from __future__ import annotations

import os
import re
import tempfile
import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths, persist
from ansible_collections.litevirt.uksm.plugins.module_utils._host.persist import (
    MAX_BYTES,
    MAX_NAME,
    MAX_VALUE,
    PolicyFileError,
)
from ansible_collections.litevirt.uksm.plugins.module_utils._host.safefiles import UnsafePathError
from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.attributes import BACKENDS

PURE = settings(max_examples=200, deadline=None)
FILES = settings(max_examples=100, deadline=None)
NAME = re.compile(r'[a-z0-9_]{1,64}')
ANY_NAME = st.text('abcdefghijklmnopqrstuvwxyz0123456789_', min_size=1, max_size=MAX_NAME)

# pieces of plausible and hostile policy files, joined at random
FRAGMENTS = [
    '[uksm]',
    '[ksm]',
    '[x]',
    '[]',
    '[',
    ']',
    '[ uksm ]',
    '[UKSM]',
    'name = value',
    'run = 1',
    'run=0',
    'cpu_governor = full',
    'cpu_ratios = 20 40 MAX/4 MAX/1',
    'sleep_millisecs = 200',
    '=',
    ' = ',
    '#',
    '# comment',
    '\n',
    '\r\n',
    '\r',
    ' ',
    '\t',
    '\x00',
    '\x0b',
    '\x0c',
    '\x1b',
    '\x7f',
    '\x85',
    '\u2028',
    '../x',
    '/etc/x',
    'A',
    'é',
    '\u00a0',
    '\U0001f600',
    'a' * (MAX_NAME + 1),
    'v' * (MAX_VALUE + 1),
]
PLAUSIBLE_TEXT = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=30).map(''.join)
# whole lines, mostly valid ones, so that parses also succeed with settings in them
SETTING_LINES = st.tuples(
    st.sampled_from(sorted(set().union(*(backend.attrs for backend in BACKENDS.values())))),
    st.sampled_from(['=', ' = ', '  =\t']),
    st.sampled_from(['1', '', '20 40 MAX/4 MAX/1', 'a=b', '#']),
).map(''.join)
PLAUSIBLE_LINES = st.lists(
    st.one_of(st.sampled_from(['[uksm]', '[ksm]', '', '# comment']), SETTING_LINES, SETTING_LINES, PLAUSIBLE_TEXT),
    max_size=12,
).map(lambda lines: '[uksm]\n' + '\n'.join(lines))
PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
# short values, and values of the longest length accepted (a short pattern repeated: cheap to draw)
VALUE = st.one_of(
    st.text(PRINTABLE, max_size=40),
    st.text(PRINTABLE, min_size=1, max_size=8).map(lambda text: (text * MAX_VALUE)[:MAX_VALUE]),
).map(lambda text: text.strip(' '))


def _name(backend: str) -> st.SearchStrategy[str]:
    """A model attribute of the backend, or any valid name (render writes unknown names after the known)."""
    return st.one_of(st.sampled_from(sorted(BACKENDS[backend].attrs)), ANY_NAME)


@st.composite
def _policies(draw: st.DrawFn) -> dict[str, dict[str, str]]:
    result = {}
    for backend in BACKENDS:
        if draw(st.booleans()):
            result[backend] = draw(st.dictionaries(_name(backend), VALUE, min_size=1, max_size=12))
    return result


def _assert_bounded(policies: dict[str, dict[str, str]]) -> None:
    for section, values in policies.items():
        assert section in BACKENDS
        for name, value in values.items():
            assert NAME.fullmatch(name), name
            assert len(value) <= MAX_VALUE and all(' ' <= character <= '~' for character in value), value


def _parse_or_refuse(text: str) -> None:
    try:
        policies = persist.parse(text)
    except PolicyFileError as error:
        message = str(error)
        assert re.match(r'line \d+: ', message), message
        assert len(message.splitlines()) == 1, message  # one journal line
        return
    _assert_bounded(policies)


@PURE
@given(st.text())
def test_parse_of_any_text_returns_bounded_policies_or_fails_with_policy_file_error(text: str) -> None:
    _parse_or_refuse(text)


@PURE
@given(st.one_of(PLAUSIBLE_TEXT, PLAUSIBLE_LINES))
def test_parse_of_plausible_fragments_returns_bounded_policies_or_fails_with_policy_file_error(text: str) -> None:
    _parse_or_refuse(text)


@PURE
@given(
    st.one_of(
        st.binary(),
        st.text().map(lambda text: text.encode('utf-8')),
        st.lists(st.one_of(st.binary(max_size=3), st.text(max_size=3).map(str.encode))).map(b''.join),
    )
)
def test_decode_of_any_bytes_returns_text_or_fails_naming_the_byte_offset(data: bytes) -> None:
    try:
        text = persist.decode(data)
    except PolicyFileError as error:
        found = re.fullmatch(r'not UTF-8 text \(byte 0x([0-9a-f]{2}) at offset (\d+)\)', str(error))
        assert found, str(error)
        offset = int(found.group(2))
        assert data[offset] == int(found.group(1), 16)
        # the named offset is the first bad byte: everything before it is text, from it on nothing is
        data[:offset].decode('utf-8')
        with pytest.raises(UnicodeDecodeError):
            data[offset:].decode('utf-8')
        return
    assert isinstance(text, str) and text == data.decode('utf-8')


@PURE
@given(_policies())
def test_render_then_parse_gives_the_policies_back(policies: dict[str, dict[str, str]]) -> None:
    text = persist.render(policies)
    assert persist.parse(text) == policies
    assert text.isascii() and text.startswith(persist.HEADER)


@PURE
@given(_policies())
def test_render_is_deterministic_whatever_the_insertion_order(policies: dict[str, dict[str, str]]) -> None:
    reordered = {section: dict(reversed(list(values.items()))) for section, values in reversed(list(policies.items()))}
    assert persist.render(policies) == persist.render(reordered) == persist.render(policies)


@PURE
@given(
    _policies(),
    st.sampled_from(sorted(BACKENDS)),
    st.booleans(),
    st.dictionaries(
        ANY_NAME,
        st.one_of(
            st.integers(0, 2**64),
            st.lists(st.integers(0, 10000), min_size=1, max_size=4),
            st.text(PRINTABLE, min_size=1, max_size=20).map(str.strip).filter(bool),
        ),
        max_size=5,
    ),
)
def test_updated_policies_still_round_trip(
    policies: dict[str, dict[str, str]], backend: str, record: bool, changes: dict[str, t.Any]
) -> None:
    after = persist.updated(policies, backend, changes, record)
    assert all(after.values())  # no empty section is kept
    for name, value in changes.items():
        assert after.get(backend, {}).get(name) == (persist.as_text(value) if record else None)
    assert persist.parse(persist.render(after)) == after


NAME_ACCEPTED = 'accepted: up to %d lowercase letters, digits and underscores' % MAX_NAME
VALUE_ACCEPTED = 'accepted: up to %d printable ASCII characters' % MAX_VALUE
REFUSED = [
    # (what, text, line, fragments of the message)
    ('duplicate key', '# policy\n[uksm]\nrun = 1\nsleep_millisecs = 20\nrun = 0\n', 5, ['run appears twice in [uksm]']),
    ('same section twice', '[uksm]\nrun = 1\n\n[ksm]\nrun = 1\n[uksm]\n', 6, ['section [uksm] appears twice']),
    ('name ../x', '[uksm]\n../x = 1\n', 2, ["'../x' is not an attribute name", NAME_ACCEPTED]),
    ('name /etc/x', '[ksm]\n/etc/x = 1\n', 2, ["'/etc/x' is not an attribute name", NAME_ACCEPTED]),
    ('uppercase name', '[uksm]\n# A\nA = 1\n', 3, ["'A' is not an attribute name", NAME_ACCEPTED]),
    (
        'name of 65 characters',
        '[uksm]\n%s = 1\n' % ('a' * (MAX_NAME + 1)),
        2,
        ['is not an attribute name', NAME_ACCEPTED],
    ),
    ('empty name', '[uksm]\n = 1\n', 2, ["'' is not an attribute name", NAME_ACCEPTED]),
    ('value with a control character', '[uksm]\nrun = 1\x012\n', 2, ['the value of run', VALUE_ACCEPTED]),
    ('value with a tab', '[uksm]\ncpu_ratios = 20\t40 MAX/4 MAX/1\n', 2, ['the value of cpu_ratios', VALUE_ACCEPTED]),
    ('value with DEL', '[ksm]\nrun = 1\x7f\n', 2, ['the value of run', VALUE_ACCEPTED]),
    ('non-ASCII value', '[uksm]\ncpu_governor = f\u00fcll\n', 2, ['the value of cpu_governor', VALUE_ACCEPTED]),
    (
        'value of 1025 characters',
        '[uksm]\nrun = %s\n' % ('1' * (MAX_VALUE + 1)),
        2,
        ['the value of run', VALUE_ACCEPTED],
    ),
    ('unknown section', '# x\n[x]\nrun = 1\n', 2, ['unknown section [x]', 'accepted: [uksm], [ksm]']),
    ('line outside a section', 'run = 1\n[uksm]\n', 1, ['expected "name = value" inside a [uksm] or [ksm] section']),
    ('line without =', '[ksm]\nrun\n', 2, ['expected "name = value" inside a [uksm] or [ksm] section']),
]


@pytest.mark.parametrize('text, line, fragments', [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED])
def test_corrupt_policy_text_is_refused_naming_the_line_and_what_is_accepted(
    text: str, line: int, fragments: list[str]
) -> None:
    with pytest.raises(PolicyFileError) as caught:
        persist.parse(text)
    message = str(caught.value)
    assert message.startswith('line %d: ' % line), message
    for fragment in fragments:
        assert fragment in message, message


def _write_policy(sysroot: str, data: bytes) -> str:
    """Write the policy file's bytes as root would find them: root's directories, mode 0644."""
    path = os.path.join(sysroot, paths.POLICY_FILE)
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    for each in (os.path.dirname(directory), directory):
        os.chmod(each, 0o755)
    with open(path, 'wb') as handle:
        handle.write(data)
    os.chmod(path, 0o644)
    return path


@FILES
@given(st.one_of(st.binary(max_size=2048), PLAUSIBLE_TEXT.map(lambda text: text.encode('utf-8'))))
def test_load_of_any_file_content_returns_policies_or_fails_with_a_documented_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as sysroot:
        _write_policy(sysroot, data)
        try:
            policies, text = persist.load(sysroot)
        except (PolicyFileError, OSError):
            return
    assert text == data.decode('utf-8') and policies == persist.parse(text)
    _assert_bounded(policies)


def test_load_of_a_file_larger_than_max_bytes_is_refused(tmp_path) -> None:
    sysroot = str(tmp_path)
    _write_policy(sysroot, b'#' * (MAX_BYTES + 1))
    with pytest.raises(UnsafePathError) as caught:
        persist.load(sysroot)
    assert 'larger than %d bytes' % MAX_BYTES in str(caught.value)
    assert '/' + paths.POLICY_FILE in str(caught.value)


def test_load_of_a_file_of_exactly_max_bytes_is_read(tmp_path) -> None:
    sysroot = str(tmp_path)
    data = b'[uksm]\nrun = 1\n'
    _write_policy(sysroot, data + b'#' * (MAX_BYTES - len(data)))
    assert persist.load(sysroot)[0] == {'uksm': {'run': '1'}}


def test_load_of_an_empty_file_gives_no_policies(tmp_path) -> None:
    sysroot = str(tmp_path)
    _write_policy(sysroot, b'')
    assert persist.load(sysroot) == ({}, '')


def test_load_without_a_policy_file_gives_no_policies(tmp_path) -> None:
    assert persist.load(str(tmp_path)) == ({}, '')


def test_load_of_non_utf8_bytes_is_refused_naming_the_offset(tmp_path) -> None:
    sysroot = str(tmp_path)
    _write_policy(sysroot, b'[uksm]\nrun = \xff\n')
    with pytest.raises(PolicyFileError) as caught:
        persist.load(sysroot)
    assert str(caught.value) == 'not UTF-8 text (byte 0xff at offset 13)'


def test_persisted_settings_read_back_with_the_types_results_use():
    text = {
        'cpu_governor': 'medium',
        'cpu_ratios': '10 30 MAX/4 MAX/1',
        'eval_intervals': '1000 500 400 100',
        'run': '1',
    }
    assert persist.typed('uksm', text) == {
        'cpu_governor': 'medium',
        'cpu_ratios': ['10', '30', 'MAX/4', 'MAX/1'],
        'eval_intervals': [1000, 500, 400, 100],
        'run': 1,
    }


def test_persisted_text_the_model_cannot_read_stays_text_and_expects_no_failure():
    # unknown names and unreadable values are reported by the facts' policy.error, not hidden by a crash
    assert persist.typed('ksm', {'pages_to_scan': 'lots', 'no_such_knob': '3', 'advisor_mode': 'scan-time'}) == {
        'pages_to_scan': 'lots',
        'no_such_knob': '3',
        'advisor_mode': 'scan-time',
    }
