# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The one exception family the collection's modules and launchers catch.

Every error the collection raises on purpose is a ``UksmError``: a message for the task or the
journal line, and ``details``, the extra keys of a failed task's result (``errno``,
``failed_attribute``, ``restored``, ``not_restored``, ``problems``). A module fails with
``module.fail_json(**failure(error))`` and nothing else; a launcher prints ``str(error)``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t


class UksmError(Exception):
    """Base of the collection's errors: a message and the structured details of the failure."""

    def __init__(self, message: str, **details: t.Any) -> None:
        super().__init__(message)
        self.details = details


# What a module or launcher catches: the family, and the operating system's own errors (a file
# that cannot be read, an errno from the kernel outside a transaction), reported as themselves.
CAUGHT = (UksmError, OSError)


def failure(error: BaseException) -> dict[str, t.Any]:
    """The keyword arguments of ``fail_json`` for a caught error: ``msg`` and its details."""
    result: dict[str, t.Any] = {'msg': str(error)}
    result.update(getattr(error, 'details', None) or {})
    if isinstance(error, OSError) and error.errno is not None:
        result.setdefault('errno', error.errno)
    return result
