# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Arbitrary settings become Problems naming the attribute, never a traceback; a corrupt policy file
makes the boot applier fail with one FAILED line and write nothing to the kernel."""

from __future__ import annotations

import os

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths, persist
from ansible_collections.litevirt.uksm.plugins.module_utils._programs.applier import apply_policy


def _write_policy(sysroot: str, data: bytes) -> None:
    directory = os.path.join(sysroot, os.path.dirname(paths.POLICY_FILE))
    os.makedirs(directory, mode=0o755, exist_ok=True)
    with open(os.path.join(sysroot, paths.POLICY_FILE), 'wb') as handle:
        handle.write(data)


CORRUPT_POLICIES = [
    ('non-UTF-8 bytes', b'[uksm]\nrun = \xff\xfe\n', 'not UTF-8 text (byte 0xff at offset 13)'),
    (
        'duplicate key',
        b'[uksm]\nsleep_millisecs = 200\nsleep_millisecs = 300\n',
        'line 3: sleep_millisecs appears twice',
    ),
    ('name ../x', b'[uksm]\n../x = 1\n', "line 2: '../x' is not an attribute name"),
    ('100 KB of a', b'a' * 100 * 1024, 'larger than %d bytes' % persist.MAX_BYTES),
]


@pytest.mark.parametrize(
    'data, fragment', [case[1:] for case in CORRUPT_POLICIES], ids=[case[0] for case in CORRUPT_POLICIES]
)
def test_applier_with_a_corrupt_policy_file_fails_with_one_line_and_writes_nothing(
    make_host, data: bytes, fragment: str
) -> None:
    host = make_host('uksm')
    root = host.paths.root
    _write_policy(root, data)
    lines: list[str] = []
    assert apply_policy(root, lines.append, lock_timeout=1.0) == 1
    assert len(lines) == 1 and lines[0].startswith('FAILED: ') and '\n' not in lines[0], lines
    assert fragment in lines[0] and '/' + paths.POLICY_FILE in lines[0], lines
    assert host.writes() == []
