# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reference for package_closure's import scan: every relative import of a fully parsed file,
resolved to the module_utils module it names (dotted, ``_host.persist``)."""

from __future__ import annotations

import ast


def imported_modules(source: str, package: str = '') -> list[str]:
    """Every module_utils module ``source`` (a file in ``package``, '' for the top) imports relatively,
    anywhere in the file, as many times as it is imported. A name imported from module_utils or from a
    sub-package (``_``-prefixed) is a module; from a module, the module itself is what is imported."""
    here = package.split('.') if package else []
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and 0 < node.level <= len(here) + 1:  # not above module_utils
            parts = here[: len(here) - node.level + 1] + (node.module.split('.') if node.module else [])
            if not parts or (len(parts) == 1 and parts[0].startswith('_')):
                found += ['.'.join(parts + [alias.name]) for alias in node.names]
            else:
                found.append('.'.join(parts))
    return found
