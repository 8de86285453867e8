# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The package the units run: the applier, the metrics writer, the tuner and every module_utils file they import.

The files are copied byte for byte from the collection that runs uksm_policy_unit, so boot applies
the policy with the very code the modules use, in the same layout: a module is named by its path in
module_utils, dotted (``_host.safefiles``). Sub-packages are ``_``-prefixed and modules never are, so
``from .._host import persist`` is read as importing the module ``_host.persist`` without opening a file.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import sys
import typing as t

if t.TYPE_CHECKING:
    # Never true when running. AnsiballZ ships with a module every module_utils file the module's
    # imports name, under any condition: this line is what puts the launchers' modules (and so
    # their own imports) into uksm_policy_unit's payload, where read_closure() reads them as text
    # without paying for compiling and running them.
    from .._programs import applier, metrics, preload, tuner  # noqa: F401 pylint: disable=unused-import

# the modules the launchers run; the package is their import closure
ROOTS = ('_programs.applier', '_programs.metrics', '_programs.tuner', '_programs.preload')


# module_utils, the package the closure's files are in (this file is in its sub-package _install)
_PACKAGE = __name__.rsplit('.', 2)[0]


def _source(name: str) -> str:
    """The text of the module_utils file ``name``, from the AnsiballZ payload or a plain file."""
    package = _PACKAGE
    fullname = '%s.%s' % (package, name)
    module = sys.modules[package]
    loader = getattr(module, '__loader__', None)
    source: str | None
    if hasattr(loader, 'archive'):
        # zipimport (AnsiballZ): read the file's bytes; find_spec would compile the module (CPython gh-141276)
        path = os.path.join(os.path.dirname(module.__file__ or ''), *name.split('.')) + '.py'
        source = loader.get_data(path).decode('utf-8')  # type: ignore[union-attr]
    else:
        spec = importlib.util.find_spec(fullname)
        found = spec.loader.get_source(fullname) if spec and spec.loader else None  # type: ignore[attr-defined]
        # the collection loader of ansible-core (controller, ansible-test) answers with bytes
        source = found.decode('utf-8') if isinstance(found, bytes) else found
    if source is None:
        raise OSError('cannot read the source of %s' % fullname)
    return source


# A relative import statement: a line's first words (lazy imports are indented), to the end of the line or
# to the closing parenthesis of a parenthesised list. Only these few lines are parsed: parsing whole files
# cost a converged uksm_policy run most of its time.
_RELATIVE_IMPORT = re.compile(r'^[ \t]*(from[ \t]+\.[\w. \t]*import[ \t]*(?:\([^)]*\)?|[^\n]*))', re.M)


def _imports(source: str, package: str) -> list[tuple[str, bool]]:
    """Each module_utils module ``source`` imports relatively, in the order written: (its dotted path,
    whether the import runs when the file is imported, i.e. is not indented)."""
    names: list[tuple[str, bool]] = []
    here = package.split('.') if package else []
    for statement in _RELATIVE_IMPORT.finditer(source):
        top_level = statement.start(1) == statement.start()
        for node in ast.parse(statement.group(1)).body:
            if not isinstance(node, ast.ImportFrom) or not node.level or node.level > len(here) + 1:
                continue  # absolute, or above module_utils
            base = here[: len(here) - node.level + 1]
            target = '.'.join(base + (node.module.split('.') if node.module else []))
            if not target or (target.startswith('_') and '.' not in target):
                # from a package (module_utils or a sub-package): the names are its modules
                names.extend(
                    ('%s.%s' % (target, alias.name) if target else alias.name, top_level) for alias in node.names
                )
            else:
                names.append((target, top_level))
    return names


def relative_imports(source: str, package: str = '', top_level: bool = False) -> list[str]:
    """The module_utils modules ``source`` imports relatively (``from .x import ...``, ``from .._host import
    persist``), lazy ones included, each by its dotted path in module_utils, in the order written; ``package``
    is where the importing file is (``_programs``, or '' at the top). ``top_level``: only the imports that
    run when the file is imported (not indented: neither lazy nor under ``if TYPE_CHECKING``)."""
    return [name for name, at_import in _imports(source, package) if at_import or not top_level]


class Closure(t.NamedTuple):
    """The launchers' modules and what they import: ``sources`` by dotted path in module_utils
    (``_programs.applier``), ``imports`` each one's imports that run when it is imported."""

    sources: dict[str, str]
    imports: dict[str, list[str]]


def read_closure() -> Closure:
    """The launchers' modules (``ROOTS``) and the module_utils they import (relative imports only)."""
    closure = Closure({}, {})
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in closure.sources:
            continue
        closure.sources[name] = _source(name)
        found = _imports(closure.sources[name], name.rpartition('.')[0])
        closure.imports[name] = [target for target, at_import in found if at_import]
        todo.extend(target for target, _at_import in found)
    return closure


def start_order(imports: dict[str, list[str]], *roots: str) -> list[str]:
    """The modules Python runs when it imports ``roots`` one after the other, packages included ('' the top,
    ``_host``), in the order it finishes them, from each module's imports that run at import
    (``Closure.imports``): what a launcher preloads (_programs/preload.py). The packages' own files import
    nothing."""
    order: list[str] = []
    started: set[str] = set()

    def visit(name: str) -> None:
        if name in started:
            return
        started.add(name)
        parts = name.split('.')
        # the packages above a module are imported, and finished, before its first line runs
        for depth in range(len(parts)):
            package = '.'.join(parts[:depth])
            if package not in order:
                order.append(package)
        for target in imports[name]:
            visit(target)
        order.append(name)

    for root in roots:
        visit(root)
    return order
