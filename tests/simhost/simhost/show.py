"""``python -m simhost show SYSROOT``: print the host's files as a user would see them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import TextIO

from simhost.sysroot import CTL_DIR, Paths

# The simulator's own bookkeeping is not part of the host.
HIDDEN = (".simhost", CTL_DIR)


def _walk(top: str) -> Iterator[str]:
    """Paths below ``top``, directories with a trailing slash, pids in numeric order."""
    try:
        entries = sorted(os.listdir(top), key=lambda name: (0, int(name), "") if name.isdigit() else (1, 0, name))
    except OSError as exc:
        yield "!%s" % exc.strerror  # marks the directory just yielded as unlistable
        return
    for name in entries:
        if name in HIDDEN:
            continue
        path = os.path.join(top, name)
        if os.path.isdir(path) and not os.path.islink(path):
            yield path + "/"
            yield from _walk(path)
        else:
            yield path


def _describe(path: str, root: str) -> list[str]:
    shown = os.path.relpath(path.rstrip("/"), root)
    if path.endswith("/"):
        return ["%s/" % shown]
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError as exc:
        return ["%s  [cannot stat: %s]" % (shown, exc.strerror)]
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "backslashreplace")
    except OSError as exc:
        return ["%s (%04o)  [cannot read: %s]" % (shown, mode, exc.strerror)]
    if "\n" not in text.rstrip("\n") and len(text) < 80:
        # One-line values are shown with their exact bytes (trailing spaces matter).
        return ["%s (%04o) = %r" % (shown, mode, text)]
    return ["%s (%04o):" % (shown, mode)] + ["    " + line for line in text.splitlines()]


def show(sysroot: str, out: TextIO) -> None:
    paths = Paths(sysroot)
    for path in _walk(paths.root):
        if path.startswith("!"):
            out.write("    [cannot list: %s]\n" % path[1:])
            continue
        for line in _describe(path, paths.root):
            out.write(line + "\n")
