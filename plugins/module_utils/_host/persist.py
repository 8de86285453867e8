# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The persisted policy: the settings the boot-time applier writes again after every reboot.

One file, ``<sysroot>/etc/litevirt-uksm/policy.conf``, with a section per backend and the
attributes in write order, so the same policy always renders to the same bytes. A backend's pressure
tiers (tiers.py) follow its section: ``[<backend> pressure]`` (the hysteresis) and one
``[<backend> tier <n>]`` per tier (its threshold and settings), which the boot applier does not read.
"""

from __future__ import annotations

from .._knobs.attributes import BACKENDS
from .._knobs.value_kinds import Choice
from ..errors import UksmError
from .paths import POLICY_FILE, UNIT_FILE, UNIT_NAME, UNIT_WANTED_BY, wants_link
from .safefiles import UnsafePathError, read_file
from .sysfs import detect, exists, host_path

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

    from .._knobs.attributes import Backend
    from .sysfs import Detection

    Policies = t.Dict[str, t.Dict[str, str]]

HEADER = (
    '# Managed by the litevirt.uksm Ansible collection (uksm_tunable persist, policy role).\n'
    '# Applied at boot by uksm-policy.service. Local edits are overwritten.\n'
)
# Bounds on what the parser accepts: a policy is a few hundred bytes; nothing read at boot is unbounded.
MAX_BYTES = 65536
MAX_NAME = 64
MAX_VALUE = 1024
_NAME_CHARACTERS = frozenset('abcdefghijklmnopqrstuvwxyz0123456789_')


# Tiers a policy may have: a handful is already more than anyone tunes by hand.
MAX_TIERS = 8
# The names of the pressure and tier sections that are not attributes, written first.
TIER_KEYS = ('hysteresis', 'available_below_percent')


class PolicyFileError(UksmError):
    """The persisted policy cannot be parsed."""


def pressure_section(backend: str) -> str:
    return backend + ' pressure'


def tier_section(backend: str, index: int) -> str:
    return '%s tier %d' % (backend, index)


def section_names() -> list[str]:
    """Every section a policy file may have, in the order render() writes them."""
    names = []
    for backend in BACKENDS:
        names += [backend, pressure_section(backend)] + [tier_section(backend, n) for n in range(MAX_TIERS)]
    return names


_SECTIONS = section_names()


def as_text(value: t.Any) -> str:
    """A typed value as the policy file stores it (lists space-separated)."""
    if isinstance(value, (list, tuple)):
        return ' '.join(str(item) for item in value)
    return str(value)


def typed(backend: str, settings: t.Mapping[str, str]) -> dict[str, t.Any]:
    """Persisted settings as results show values: ints, lists and names as the kernel's values read;
    a value the model cannot read back stays the text (the facts report why the policy does not apply)."""
    attrs = BACKENDS[backend].attrs
    values: dict[str, t.Any] = {}
    for name, text in settings.items():
        attr = attrs.get(name)
        value: t.Any = text
        if attr is not None and attr.writable and not isinstance(attr.kind, Choice):
            try:
                value = attr.kind.parse(text)
            except (UksmError, ValueError):
                pass
        values[name] = value
    return values


def _printable(text: str) -> bool:
    return all(' ' <= character <= '~' for character in text)


def _shown(text: str) -> str:
    """Text from the file as a message may quote it: bounded, control and non-ASCII characters as '?'."""
    return ''.join(character if ' ' <= character <= '~' else '?' for character in text[:MAX_NAME])


def parse(text: str) -> Policies:
    """The sections of a policy file; raises ``PolicyFileError`` naming the line and what is accepted.

    Names are attribute names (lowercase letters, digits, underscores), never paths; values are
    printable ASCII. A repeated section or name is refused rather than silently merged.
    """
    policies: Policies = {}
    section = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('[') and line.endswith(']'):
            section = line[1:-1].strip()
            if section not in _SECTIONS:
                raise PolicyFileError(
                    'line %d: unknown section [%s]; accepted: %s, [<backend> pressure], [<backend> tier N] '
                    'with N from 0 to %d'
                    % (number, _shown(section), ', '.join('[%s]' % name for name in BACKENDS), MAX_TIERS - 1)
                )
            if section in policies:
                raise PolicyFileError(
                    'line %d: section [%s] appears twice; accepted: each section once' % (number, section)
                )
            policies[section] = {}
            continue
        name, sep, value = line.partition('=')
        if not sep or section is None:
            raise PolicyFileError('line %d: expected "name = value" inside a [uksm] or [ksm] section' % number)
        name = name.strip()
        value = value.strip()
        if not name or len(name) > MAX_NAME or not set(name) <= _NAME_CHARACTERS:
            raise PolicyFileError(
                'line %d: \'%s\' is not an attribute name; accepted: up to %d lowercase letters, '
                'digits and underscores' % (number, _shown(name), MAX_NAME)
            )
        if name in policies[section]:
            raise PolicyFileError(
                'line %d: %s appears twice in [%s]; accepted: each name once per section' % (number, name, section)
            )
        if len(value) > MAX_VALUE or not _printable(value):
            raise PolicyFileError(
                'line %d: the value of %s is not accepted; accepted: up to %d printable ASCII '
                'characters' % (number, name, MAX_VALUE)
            )
        policies[section][name] = value
    return policies


def decode(data: bytes) -> str:
    """The file's bytes as text, or ``PolicyFileError`` (a policy is UTF-8; what we write is ASCII)."""
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as error:
        raise PolicyFileError('not UTF-8 text (byte 0x%02x at offset %d)' % (data[error.start], error.start)) from None


def render(policies: Policies) -> str:
    """The file's text: sections in a fixed order; in each the tier keys, the attributes in write order, the rest."""
    chunks = [HEADER]
    for section in _SECTIONS:
        settings = policies.get(section)
        if not settings:
            continue
        backend = BACKENDS[section.partition(' ')[0]]
        first = [n for n in TIER_KEYS if n in settings]
        known = backend.write_order(n for n in settings if n in backend.attrs)
        unknown = sorted(n for n in settings if n not in backend.attrs and n not in TIER_KEYS)
        chunks.append('\n[%s]\n' % section)
        chunks.extend('%s = %s\n' % (name, settings[name]) for name in first + known + unknown)
    return ''.join(chunks)


def path_of(sysroot: str) -> str:
    return host_path(sysroot, POLICY_FILE)


def unit_state(sysroot: str) -> dict[str, t.Any]:
    """Whether the boot unit is installed and enabled, from files only (works offline)."""
    return {
        'name': UNIT_NAME,
        'installed': exists(host_path(sysroot, UNIT_FILE)),
        'enabled': exists(host_path(sysroot, wants_link(UNIT_NAME, UNIT_WANTED_BY)), follow_symlinks=False),
    }


def remove(sysroot: str) -> bool:
    """Delete the policy file and its directory when empty; whether anything was there."""
    # where used: a run that only reads the policy (facts, a converged tunable run) does not compile it
    from .safewrites import remove_file  # pylint: disable=import-outside-toplevel

    return remove_file(sysroot, POLICY_FILE, remove_empty_directory=True)


def load(sysroot: str) -> tuple[Policies, str]:
    """The persisted policies and the file's text ('' when there is none).

    Raises ``PolicyFileError`` for content that is not a policy and ``OSError`` (``UnsafePathError``
    included) for a file that cannot or must not be read: a symlink, a FIFO, a file or directory
    another user could write, more than MAX_BYTES.
    """
    found = read_file(sysroot, POLICY_FILE, MAX_BYTES)
    if found is None:
        return {}, ''
    text = decode(found[0])
    return parse(text), text


def save(sysroot: str, text: str) -> None:
    """Replace the policy file (fsynced with its directory: a crash leaves the old file or the new one)."""
    from .safewrites import replace_file  # pylint: disable=import-outside-toplevel

    replace_file(sysroot, POLICY_FILE, text.encode('utf-8'), 0o644)


def updated(policies: Policies, backend: str, settings: dict[str, t.Any], record: bool) -> Policies:
    """Policies with ``settings`` recorded (``record``) or their names removed."""
    result = {name: dict(values) for name, values in policies.items()}
    section = result.setdefault(backend, {})
    for name, value in settings.items():
        if record:
            section[name] = as_text(value)
        else:
            section.pop(name, None)
    if not section:
        del result[backend]
    return result


def for_launcher(
    sysroot: str, out: t.Callable[[str], None], doing: str
) -> int | tuple[Policies, Detection, Backend, dict[str, str]]:
    """What the boot applier and the tuner start from: the policies, the detection, its backend and
    that backend's base settings; or, when there is nothing to ``doing`` (apply, tune), the exit status after one
    line saying why (a policy that cannot be read is a failure, no interface or no base is not)."""
    try:
        policies, _text = load(sysroot)
    except UnsafePathError as error:
        out('FAILED: %s' % error)
        return 1
    except (OSError, PolicyFileError) as error:
        out('FAILED: cannot read %s: %s' % (path_of(sysroot), error))
        return 1
    detection = detect(sysroot)
    backend = detection.backend
    if backend is None:
        out('nothing to %s: %s' % (doing, detection.reason))
        return 0
    base = policies.get(backend.name)
    if not base:
        out('no %s policy in %s; nothing to %s' % (backend.name, path_of(sysroot), doing))
        return 0
    return policies, detection, backend, base
