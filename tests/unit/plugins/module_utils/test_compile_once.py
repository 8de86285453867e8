# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""compile_once: in a zip like an AnsiballZ payload, each module_utils file is compiled once (CPython's
``compile`` audit event counts it) and runs as zipimport would run it; anywhere else it changes nothing."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import types
import zipfile
import zipimport
from unittest import mock

from ansible_collections.litevirt.uksm.plugins.module_utils import compile_once

MODULE_UTILS = os.path.dirname(os.path.abspath(compile_once.__file__))
INSIDE = 'ansible_collections/litevirt/uksm/plugins/module_utils/'
PACKAGE = INSIDE.rstrip('/').replace('/', '.')

# Run in a fresh interpreter with the zip first on sys.path: counts compile() per file, imports what
# argv names, and reports each module's loader, __file__ and a function's result.
PROBE = r'''
import json, sys, collections
compiled = collections.Counter()
sys.addaudithook(lambda event, args: event == 'compile' and compiled.update([str(args[1]).rsplit('/', 1)[-1]]))
sys.path.insert(0, sys.argv[1])
import importlib, traceback
names = sys.argv[2:]
try:
    modules = [importlib.import_module('%s.%s' % ('PACKAGE', name)) for name in names]
except Exception:
    # as Ansible reports a module's exception: traceback.format_exc(), which reads lines through the loader
    sys.exit(traceback.format_exc())
print(json.dumps({
    'compiled': dict(compiled),
    'loaders': {m.__name__.rsplit('.', 1)[1]: type(m.__loader__).__name__ for m in modules},
    'files': {m.__name__.rsplit('.', 1)[1]: m.__file__ for m in modules},
    'human': getattr(modules[-1], 'human_bytes', lambda n: None)(2048),
}))
'''.replace('PACKAGE', PACKAGE)


def _payload(tmp_path, extra=None):
    """A zip laid out like an AnsiballZ payload: the package's __init__ files and every module_utils file."""
    path = str(tmp_path / 'payload.zip')
    with zipfile.ZipFile(path, 'w') as archive:
        parts = INSIDE.rstrip('/').split('/')
        for depth in range(1, len(parts) + 1):
            archive.writestr('/'.join(parts[:depth]) + '/__init__.py', '')
        for name in os.listdir(MODULE_UTILS):
            if name.endswith('.py'):
                archive.write(os.path.join(MODULE_UTILS, name), INSIDE + name)
        for name, text in (extra or {}).items():
            archive.writestr(INSIDE + name, text)
    return path


def _probe(payload, *names):
    done = subprocess.run(
        [sys.executable, '-I', '-c', PROBE, payload] + list(names), check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout)


def test_each_file_compiled_once_after_compile_once(tmp_path):
    seen = _probe(_payload(tmp_path), 'compile_once', 'attributes', 'paths')
    # compile_once itself came through zipimport (twice); every file after it once
    assert seen['compiled']['compile_once.py'] == 2
    assert seen['compiled']['attributes.py'] == 1
    assert seen['compiled']['value_kinds.py'] == 1  # imported by attributes, found by the same finder
    assert seen['compiled']['paths.py'] == 1
    assert seen['loaders']['attributes'] == '_ZipSourceLoader'
    assert seen['files']['paths'].endswith('/payload.zip/' + INSIDE + 'paths.py')


def test_without_compile_once_zipimport_compiles_twice(tmp_path):
    # the CPython behaviour compile_once exists for (python/cpython#141276); if a Python fixes it, this
    # test says so and compile_once can go
    seen = _probe(_payload(tmp_path), 'paths')
    assert seen['compiled']['paths.py'] == 2
    assert seen['loaders']['paths'] == 'zipimporter'


def test_modules_run_the_same_through_it(tmp_path):
    plain = _probe(_payload(tmp_path), 'facts')
    once = _probe(_payload(tmp_path), 'compile_once', 'facts')
    assert once['human'] is not None
    assert once['human'] == plain['human']


def test_traceback_shows_source_lines_expect_failure(tmp_path):
    # a module's exception, formatted as Ansible formats it, quotes the payload's source line
    payload = _payload(tmp_path, {'broken.py': 'def fail():\n    raise ValueError("from the payload")\nfail()\n'})
    done = subprocess.run(
        [sys.executable, '-I', '-c', PROBE, payload, 'compile_once', 'broken'],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert 'raise ValueError("from the payload")' in done.stderr
    assert INSIDE + 'broken.py' in done.stderr


def test_a_missing_module_is_left_to_zipimport_expect_failure(tmp_path):
    done = subprocess.run(
        [sys.executable, '-I', '-c', PROBE, _payload(tmp_path), 'compile_once', 'no_such_file'],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert 'ModuleNotFoundError' in done.stderr


def test_outside_a_zip_it_installs_nothing():
    # these tests import the collection from files: no finder of compile_once is on sys.meta_path
    assert not [finder for finder in sys.meta_path if type(finder).__name__ == '_ZipSourceLoader']


# --- in this process (what coverage sees): the finder on a zipimporter, and its installation -------


def _finder(tmp_path, extra=None):
    payload = _payload(tmp_path, extra)
    directory = '%s/%s' % (payload, INSIDE.rstrip('/'))
    return compile_once._ZipSourceLoader(zipimport.zipimporter(payload), directory), directory


def test_finder_loads_a_module_of_the_package_from_the_zip_compiling_it_once(tmp_path):
    finder, directory = _finder(tmp_path, {'tiny.py': 'ANSWER = 6 * 7\n'})
    spec = finder.find_spec(PACKAGE + '.tiny')
    assert spec.origin == directory + '/tiny.py' and spec.has_location
    module = importlib.util.module_from_spec(spec)
    compiled = []
    real_compile = compile

    def counting_compile(*args, **kwargs):
        compiled.append(args[1])
        return real_compile(*args, **kwargs)

    with mock.patch('builtins.compile', counting_compile):
        spec.loader.exec_module(module)
    assert module.ANSWER == 42 and module.__file__ == directory + '/tiny.py'
    assert compiled == [directory + '/tiny.py']
    assert finder.get_source(PACKAGE + '.tiny') == 'ANSWER = 6 * 7\n'


def test_finder_leaves_other_names_and_missing_files_to_the_next_finder(tmp_path):
    finder, _directory = _finder(tmp_path)
    assert finder.find_spec('json') is None
    assert finder.find_spec(PACKAGE + '.no_such_file') is None
    assert finder.create_module(None) is None


def test_installed_once_when_the_package_comes_from_a_zip(tmp_path, monkeypatch):
    payload = _payload(tmp_path)
    monkeypatch.setattr(sys, 'meta_path', list(sys.meta_path))
    monkeypatch.setattr(compile_once, '__loader__', zipimport.zipimporter(payload), raising=False)
    package = types.SimpleNamespace(__path__=['%s/%s' % (payload, INSIDE.rstrip('/'))])
    monkeypatch.setitem(sys.modules, PACKAGE, package)
    compile_once._install()
    compile_once._install()
    installed = [finder for finder in sys.meta_path if isinstance(finder, compile_once._ZipSourceLoader)]
    assert len(installed) == 1 and sys.meta_path[0] is installed[0]
