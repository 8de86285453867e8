# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each module carries to the host, and what it compiles there at a run (README, Performance).

Each module runs once through ansible-core on localhost, on a simulated host tree (a plain directory:
KSM with a persisted policy, the fleet's usual case), with its AnsiballZ file kept: the payload is
the collection's module_utils inside its ZIP. The kept AnsiballZ file, run again with ``python -X
importtime``, shows which of them a run imports (CPython compiles them from source: a payload holds no
bytecode) and what that costs: their self time (compiling and running them; zipimport
compiles a file twice, python/cpython#141276, unless compile_once is imported first), the median of 7.
The same again on a tree where ``uksm_policy`` installed the boot applier: its package's bytecode,
compiled for this Python, serves every file of the payload that is byte for byte the installed one.

Usage: python tests/bench/payload.py  (ANSIBLE_COLLECTIONS_PATH naming the installed collection;
`make payload` sets it)
"""

from __future__ import annotations

import base64
import glob
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import typing as t
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.path.join(ROOT, 'tests', 'helpers')]
OURS = 'ansible_collections/litevirt/uksm/plugins/module_utils/'
# module -> its arguments on the host tree (``{root}`` is the tree), as the role and the bench run them
CASES = {
    'uksm_facts': {},
    'uksm_tunable': {'settings': {'pages_to_scan': 100, 'sleep_millisecs': 20, 'run': 1}},
    'uksm_policy_unit': {'python': '/usr/bin/python3'},
    'uksm_policy': {
        'ksm_settings': {'pages_to_scan': 100, 'sleep_millisecs': 20, 'run': 1},
        'python': '/usr/bin/python3',
    },
}


def host_tree(root: str) -> None:
    """KSM with the policy of CASES persisted and the units installed: a converged host."""
    import sysroot_tree  # pylint: disable=import-outside-toplevel

    sysroot_tree.ksm(root)
    sysroot_tree.meminfo(root, available_percent=50)
    sysroot_tree.put(
        root, 'etc/litevirt-uksm/policy.conf', '[ksm]\npages_to_scan = 100\nsleep_millisecs = 20\nrun = 1\n'
    )


def ansible(module: str, args: dict[str, t.Any], *options: str, env: dict[str, str] | None = None) -> None:
    """One ad hoc run of the collection's module on localhost, local connection."""
    subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), 'ansible'), 'localhost', '-c', 'local']
        + ['-m', 'litevirt.uksm.' + module, '-a', json.dumps(args), *options],
        env=env,
        check=True,
        capture_output=True,
    )


def install_applier(root: str) -> None:
    """The boot applier installed on the tree by a real run of uksm_policy (its package compiled)."""
    for sub in ('etc/systemd/system', 'usr/lib', 'run'):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    ansible('uksm_policy', dict(CASES['uksm_policy'], sysroot=root))


def payload(module: str, args: dict[str, t.Any], root: str, keep: str) -> tuple[str, dict[str, int]]:
    """The kept AnsiballZ file, and the collection's module_utils in its payload: file -> bytes."""
    env = dict(os.environ, ANSIBLE_KEEP_REMOTE_FILES='1', ANSIBLE_REMOTE_TMP=keep, ANSIBLE_PIPELINING='false')
    ansible(module, dict(args, sysroot=root), '--check', env=env)
    [wrapper] = glob.glob(os.path.join(keep, '*', 'AnsiballZ_%s.py' % module))
    with open(wrapper, encoding='utf-8') as handle:
        data = re.search(r"^zip_data='([^']+)'", handle.read(), re.M).group(1)
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(data))) as archive:
        return wrapper, {
            info.filename[len(OURS) :]: info.file_size
            for info in archive.infolist()
            if info.filename.startswith(OURS) and info.filename.endswith('.py')
        }


def imports(wrapper: str) -> tuple[float, list[str]]:
    """What the kept AnsiballZ file imports of the collection's module_utils when it runs again under
    ``-X importtime``: their self time in milliseconds (the median of 7 runs) and their names, as paths
    without ``.py`` (``_install/installation``; a sub-package by its directory, ``_install``)."""
    prefix = OURS.replace('/', '.')
    times, names = [], set()
    for _round in range(7):
        done = subprocess.run([sys.executable, '-X', 'importtime', wrapper], check=True, capture_output=True, text=True)
        total = 0
        for line in done.stderr.splitlines():
            # import time: self [us] | cumulative | imported package
            fields = [field.strip() for field in line.split(':', 1)[-1].split('|')]
            if len(fields) == 3 and fields[2].startswith(prefix):
                total += int(fields[0])
                names.add(fields[2][len(prefix) :].replace('.', '/'))
        times.append(total / 1000)
    return statistics.median(times), sorted(names)


def _module_of(path: str) -> str:
    """The name ``imports`` gives the module of a payload file: ``_host/paths``, ``_host`` for its __init__."""
    return path[: -len('/__init__.py')] if path.endswith('/__init__.py') else path[: -len('.py')]


def main() -> int:
    collections = os.environ['ANSIBLE_COLLECTIONS_PATH']
    rows = []
    with tempfile.TemporaryDirectory(prefix='uksm-payload-') as work:
        for module, args in CASES.items():
            if not os.path.exists(os.path.join(collections, OURS, '..', 'modules', module + '.py')):
                continue  # an older version of the collection, measured for comparison
            root = os.path.join(work, module)
            host_tree(root)
            wrapper, carried = payload(module, args, root, os.path.join(work, 'keep-' + module))
            import_ms, imported = imports(wrapper)
            used = [name for name in carried if _module_of(name) in imported]
            installed = os.path.join(work, module + '-installed')
            host_tree(installed)
            install_applier(installed)
            installed_ms, _used = imports(
                payload(module, args, installed, os.path.join(work, 'keep-installed-' + module))[0]
            )
            rows.append(
                {
                    'module': module,
                    'payload_files': len(carried),
                    'payload_bytes': sum(carried.values()),
                    'imported_files': len(used),
                    'imported_bytes': sum(carried.get(name, 0) for name in used),
                    'import_ms': round(import_ms, 1),
                    'import_installed_ms': round(installed_ms, 1),
                    'not_imported': sorted(set(carried) - set(used)),
                }
            )
    print(
        '%-18s %14s %16s %11s %15s  %s'
        % ('module', 'payload', 'imported a run', 'import', 'with applier', 'carried, not run')
    )
    for row in rows:
        print(
            '%-18s %2d / %6d B %3d / %6d B %8.1f ms %12.1f ms  %s'
            % (
                row['module'],
                row['payload_files'],
                row['payload_bytes'],
                row['imported_files'],
                row['imported_bytes'],
                row['import_ms'],
                row['import_installed_ms'],
                ' '.join(name[:-3] for name in row['not_imported']) or '-',
            )
        )
    return 0


if __name__ == '__main__':
    sys.exit(main())
