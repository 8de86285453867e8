# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A zip laid out like an AnsiballZ payload of the collection's module_utils, and ways to import from it:
in a fresh interpreter (``probe``) or in this one through compile_once's finder (``zip_finder``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
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
import gc
print(json.dumps({
    'collecting': gc.isenabled(),
    'compiled': dict(compiled),
    'loaders': {m.__name__.rsplit('.', 1)[1]: type(m.__loader__).__name__ for m in modules},
    'files': {m.__name__.rsplit('.', 1)[1]: m.__file__ for m in modules},
    'human': getattr(modules[-1], 'human_bytes', lambda n: None)(2048),
}))
'''.replace('PACKAGE', PACKAGE)


def make_payload(tmp_path: t.Any, extra: dict[str, str] | None = None) -> str:
    """A zip laid out like an AnsiballZ payload: the package's __init__ files and every module_utils file."""
    path = str(tmp_path / 'payload.zip')
    with zipfile.ZipFile(path, 'w') as archive:
        parts = INSIDE.rstrip('/').split('/')
        for depth in range(1, len(parts) + 1):
            archive.writestr('/'.join(parts[:depth]) + '/__init__.py', '')
        for directory, dirs, files in os.walk(MODULE_UTILS):
            dirs[:] = [name for name in dirs if name != '__pycache__']
            relative = os.path.relpath(directory, MODULE_UTILS)
            inside = INSIDE if relative == '.' else INSIDE + relative + '/'
            for name in files:
                if name.endswith('.py'):
                    archive.write(os.path.join(directory, name), inside + name)
        for name, text in (extra or {}).items():
            archive.writestr(INSIDE + name, text)
    return path


def probe(payload: str, *names: str) -> t.Any:
    """What PROBE reports after importing ``names`` (module_utils-relative) from ``payload``."""
    done = subprocess.run(
        [sys.executable, '-I', '-c', PROBE, payload] + list(names), check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout)


def probe_on_host(payload: str, sysroot: str, *names: str) -> t.Any:
    """What PROBE reports when the run first calls ``compile_once.use_host_bytecode(sysroot)``, as a
    module does once it knows its sysroot, and then imports ``names``."""
    text = PROBE.replace('import importlib, traceback', 'import importlib, traceback, os').replace(
        'names = sys.argv[2:]',
        "names = sys.argv[2:]\nimportlib.import_module('%s.compile_once').use_host_bytecode(os.environ['HOST'])"
        % PACKAGE,
    )
    done = subprocess.run(
        [sys.executable, '-I', '-c', text, payload] + list(names),
        check=True,
        capture_output=True,
        text=True,
        env=dict(os.environ, HOST=sysroot),
    )
    return json.loads(done.stdout)


def zip_finder(tmp_path: t.Any, extra: dict[str, str] | None = None) -> tuple[t.Any, str]:
    """compile_once's finder on a new payload, and the payload's module_utils directory."""
    payload = make_payload(tmp_path, extra)
    directory = '%s/%s' % (payload, INSIDE.rstrip('/'))
    return compile_once._ZipSourceLoader(zipimport.zipimporter(payload), directory), directory


def exec_counting_compiles(spec: t.Any, module: t.Any) -> list[str]:
    """Run the module as its loader does; the file names compile() was called for."""
    compiled = []
    real_compile = compile

    def counting_compile(*args: t.Any, **kwargs: t.Any) -> t.Any:
        compiled.append(args[1])
        return real_compile(*args, **kwargs)

    with mock.patch('builtins.compile', counting_compile):
        spec.loader.exec_module(module)
    return compiled
