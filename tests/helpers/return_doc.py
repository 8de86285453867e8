# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module's RETURN documentation against a result the module really returned.

A result is walked key by key. A key RETURN documents is followed into its value when its entry has
``contains`` (a dict, or each dict of a list); a key it does not document is reported by its path
(``pressure.tier``, ``changes[].name``), unless it is one of the common return values Ansible
documents for every module. An entry of type dict without ``contains`` is a mapping whose keys are
data (attribute names, service names): its keys are not return keys, and the test names each such
mapping with the reason, so a fixed-key dict cannot hide there by accident.
"""

from __future__ import annotations

import typing as t

import yaml

# The common return values of ansible-core ("Return Values" in its documentation): Ansible adds
# them itself or documents them once for every module, so a module's RETURN does not repeat them.
COMMON_RETURN_VALUES = {
    'changed': 'common return value: whether the task changed the host',
    'failed': 'common return value: added by fail_json',
    'msg': 'common return value: the message of a failure (fail_json requires it)',
    'invocation': 'common return value: the module arguments, added by exit_json and fail_json',
    'diff': 'common return value: the before and after shown with --diff',
    'warnings': 'common return value: added by exit_json from module.warn()',
    'deprecations': 'common return value: added by exit_json from module.deprecate()',
    'exception': 'common return value: the traceback of a module that crashed',
}
# ... and for a module with facts support, the facts it adds to the host
FACTS_RETURN_VALUE = {'ansible_facts': 'common return value of a facts module: facts added to the host'}

# Python types of RETURN's types; None (null) is accepted for every type, the descriptions say when
PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    'str': (str,),
    'path': (str,),
    'int': (int,),
    'float': (int, float),
    'bool': (bool,),
    'dict': (dict,),
    'list': (list,),
    'complex': (dict, list),
    'raw': (object,),
}


def returns_of(module: t.Any) -> dict[str, t.Any]:
    """The module's RETURN, parsed."""
    return yaml.safe_load(module.RETURN) or {}


def exempt_of(module: t.Any) -> dict[str, str]:
    """The keys a result may carry without RETURN: the common return values, and ``ansible_facts``
    for a module with facts support (each with the reason)."""
    attributes = yaml.safe_load(module.DOCUMENTATION).get('attributes', {})
    facts = attributes.get('facts', {}).get('support', 'none') != 'none'
    return dict(COMMON_RETURN_VALUES, **(FACTS_RETURN_VALUE if facts else {}))


class Key(t.NamedTuple):
    """One key of a result: its path, its value, and its RETURN entry (None: undocumented)."""

    path: str
    value: t.Any
    entry: dict[str, t.Any] | None


def walk(result: dict[str, t.Any], returns: dict[str, t.Any]) -> list[Key]:
    """Every key of ``result`` with its RETURN entry, nested keys through ``contains``."""
    return _walk('', result, returns)


def _walk(prefix: str, mapping: dict[str, t.Any], entries: dict[str, t.Any]) -> list[Key]:
    keys = []
    for name, value in mapping.items():
        path = prefix + name
        entry = entries.get(name)
        keys.append(Key(path, value, entry))
        contains = (entry or {}).get('contains')
        if contains is None:
            continue
        if isinstance(value, dict):
            keys += _walk(path + '.', value, contains)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    keys += _walk(path + '[].', item, contains)
    return keys


def undocumented(result: dict[str, t.Any], returns: dict[str, t.Any], exempt: t.Iterable[str]) -> list[str]:
    """Paths of the keys of ``result`` that RETURN does not document, each once, in result order."""
    top_exempt = set(exempt)
    found = []
    for key in walk(result, returns):
        if key.entry is None and key.path not in top_exempt and key.path not in found:
            found.append(key.path)
    return found


def mistyped(result: dict[str, t.Any], returns: dict[str, t.Any]) -> list[str]:
    """``path: value is <type>, RETURN says <type>`` for each documented key (and list element) whose
    value is not of its documented type; null is accepted (the descriptions say when)."""
    found = []
    for key in walk(result, returns):
        if key.entry is None:
            continue
        problem = _type_problem(key.value, key.entry.get('type', 'raw'))
        if problem is None and isinstance(key.value, list) and 'elements' in key.entry:
            problems = [_type_problem(item, key.entry['elements']) for item in key.value]
            problem = next((p for p in problems if p), None)
            if problem:
                problem = 'an element ' + problem
        if problem and key.path + ': ' + problem not in found:
            found.append(key.path + ': ' + problem)
    return found


def _type_problem(value: t.Any, documented: str) -> str | None:
    if value is None:
        return None
    accepted = PYTHON_TYPES[documented]
    # a bool is an int to Python, not to a reader of the documentation
    if isinstance(value, bool) and bool not in accepted and object not in accepted:
        return 'is a bool, RETURN says %s' % documented
    if isinstance(value, accepted):
        return None
    return 'is %s (%r), RETURN says %s' % (type(value).__name__, value, documented)


def documented_paths(returns: dict[str, t.Any], prefix: str = '') -> list[str]:
    """Every key RETURN documents, nested ones by their path (a list's elements with ``[]``)."""
    paths = []
    for name, entry in returns.items():
        path = prefix + name
        paths.append(path)
        if entry.get('contains'):
            inner = path + ('[].' if entry.get('type') == 'list' else '.')
            paths += documented_paths(entry['contains'], inner)
    return paths


def free_mappings(returns: dict[str, t.Any], prefix: str = '') -> list[str]:
    """Paths of the entries whose values are dicts (or lists of dicts) without ``contains``: their
    keys are not checked, so each must be a mapping keyed by data, not a record with fixed keys."""
    paths = []
    for name, entry in returns.items():
        path = prefix + name
        holds_dicts = entry.get('type') == 'dict' or entry.get('elements') == 'dict'
        if holds_dicts and not entry.get('contains'):
            paths.append(path + ('[]' if entry.get('type') == 'list' else ''))
        if entry.get('contains'):
            inner = path + ('[].' if entry.get('type') == 'list' else '.')
            paths += free_mappings(entry['contains'], inner)
    return paths


def seen_paths(result: dict[str, t.Any], returns: dict[str, t.Any]) -> set[str]:
    """The documented paths ``result`` returns (to find documentation no result ever returns)."""
    return {key.path for key in walk(result, returns) if key.entry is not None}
