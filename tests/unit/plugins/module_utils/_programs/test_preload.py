# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/_programs/preload.py: a launcher's modules run from the installed bytecode in the order given,
as the import system would have run them; any doubt about the bytecode leaves the imports to Python."""

from __future__ import annotations

import importlib
import itertools
import os
import py_compile
import sys

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._programs.preload import is_package, preload

# a package of the installed shape: sub-packages _-prefixed, each module importing what it needs at its top,
# and one import left for later (lazy), which the import system serves from the preloaded __path__
FILES = {
    '__init__.py': '',
    'errors.py': 'class UksmError(Exception):\n    pass\n',
    '_host/__init__.py': '',
    '_host/paths.py': 'PACKAGE_DIR = "usr/lib/litevirt-uksm"\n',
    '_host/persist.py': 'from ..errors import UksmError\nfrom .paths import PACKAGE_DIR\n',
    '_plan/__init__.py': '',
    '_plan/tiers.py': 'from ..errors import UksmError\n',
    '_programs/__init__.py': '',
    '_programs/applier.py': (
        'from .._host import persist\n'
        'from ..errors import UksmError\n'
        'def main():\n'
        '    from .._plan import tiers\n'
        '    return tiers\n'
    ),
}
START = ['', '_programs', '_host', 'errors', '_host.paths', '_host.persist', '_programs.applier']
_NUMBERS = itertools.count()


@pytest.fixture
def installed(tmp_path):
    """(package directory, package name): the package written and compiled as the installer does (timestamp .pyc);
    a name of its own per test, and none of its modules left in sys.modules afterwards."""
    package = 'preload_test_%d' % next(_NUMBERS)
    top = tmp_path / package
    for name, text in FILES.items():
        path = top / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding='utf-8')
        py_compile.compile(str(path), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    sys.path.insert(0, str(tmp_path))
    yield str(top), package
    sys.path.remove(str(tmp_path))
    for name in [name for name in sys.modules if name.split('.')[0] == package]:
        del sys.modules[name]


def _loaded(package):
    return sorted(name for name in sys.modules if name.split('.')[0] == package)


def test_modules_run_from_the_bytecode_in_order_as_the_import_system_would_have(installed):
    directory, package = installed
    assert preload(os.path.dirname(directory), package, START) is True
    assert _loaded(package) == sorted('%s.%s' % (package, name) if name else package for name in START)
    applier = sys.modules[package + '._programs.applier']
    # the program's import finds it done: the same module, with what it imported bound
    assert importlib.import_module(package + '._programs.applier') is applier
    assert applier.persist is sys.modules[package + '._host.persist']
    assert applier.UksmError is sys.modules[package + '.errors'].UksmError
    # each module as the import system leaves it: file, bytecode, package, parent's attribute, loader
    persist = sys.modules[package + '._host.persist']
    assert persist.__file__ == os.path.join(directory, '_host', 'persist.py')
    assert persist.__cached__ == os.path.join(
        directory, '_host', '__pycache__', 'persist.%s.pyc' % sys.implementation.cache_tag
    )
    assert persist.__package__ == package + '._host' and persist.__spec__.parent == package + '._host'
    assert sys.modules[package + '._host'].persist is persist
    assert sys.modules[package + '._host'].__path__ == [os.path.join(directory, '_host')]
    assert persist.__loader__.get_source(persist.__name__) == FILES['_host/persist.py']
    # a lazy import later goes through the import system, from the preloaded package's path
    assert applier.main() is sys.modules[package + '._plan.tiers']


def test_modules_imported_already_are_left_as_they_are(installed):
    directory, package = installed
    top = importlib.import_module(package)
    assert preload(os.path.dirname(directory), package, START) is True
    assert sys.modules[package] is top


@pytest.mark.parametrize('name, expected', [('', True), ('_host', True), ('errors', False), ('_host.persist', False)])
def test_packages_are_the_top_and_the_underscored_names(name, expected):
    assert is_package(name) is expected


def _rewrite(path, text):
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)


@pytest.mark.parametrize(
    'damage',
    ['source edited', 'bytecode missing', 'bytecode of another Python', 'bytecode torn', 'source missing'],
)
def test_bytecode_in_doubt_loads_nothing_and_leaves_the_imports_to_python(installed, damage):
    directory, package = installed
    source = os.path.join(directory, '_host', 'persist.py')
    cached = os.path.join(directory, '_host', '__pycache__', 'persist.%s.pyc' % sys.implementation.cache_tag)
    with open(cached, 'rb') as handle:
        data = handle.read()
    if damage == 'source edited':
        _rewrite(source, FILES['_host/persist.py'] + 'EDITED = True\n')
    elif damage == 'bytecode missing':
        os.unlink(cached)
    elif damage == 'bytecode of another Python':
        with open(cached, 'wb') as handle:
            handle.write(b'\x00\x00\r\n' + data[4:])
    elif damage == 'bytecode torn':
        with open(cached, 'wb') as handle:
            handle.write(data[:20])
    else:
        os.unlink(source)
    assert preload(os.path.dirname(directory), package, START) is False
    assert _loaded(package) == []
    if damage == 'source edited':
        # Python compiles the edited source itself
        assert importlib.import_module(package + '._programs.applier').persist.EDITED is True


def test_module_that_raises_keeps_none_of_the_preloaded_modules(installed):
    directory, package = installed
    top = importlib.import_module(package)
    path = os.path.join(directory, '_programs', 'applier.py')
    _rewrite(path, FILES['_programs/applier.py'] + 'raise RuntimeError("broken")\n')
    py_compile.compile(path, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    assert preload(os.path.dirname(directory), package, START) is False
    assert _loaded(package) == [package]
    assert not hasattr(top, '_programs') and not hasattr(top, '_host')
    # the import system runs it again and reports the error as it always does
    with pytest.raises(RuntimeError, match='broken'):
        importlib.import_module(package + '._programs.applier')


def test_order_that_names_a_module_after_its_importer_never_loads_a_second_copy(installed):
    directory, package = installed
    # persist before paths: persist's import loads paths through the import system first
    wrong = ['', '_programs', '_host', 'errors', '_host.persist', '_host.paths', '_programs.applier']
    assert preload(os.path.dirname(directory), package, wrong) is True
    paths = sys.modules[package + '._host.paths']
    assert sys.modules[package + '._host.persist'].PACKAGE_DIR is paths.PACKAGE_DIR
    assert sys.modules[package + '._host'].paths is paths
