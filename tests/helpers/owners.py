# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files of another user, for the tests of what the code refuses to trust.

Root gives a file away with chown. Any other user cannot: for that user, ``give_away`` records the file
as the other user's, and ``owner_of`` (which tests/unit/conftest.py puts in place of
safefiles.owner_of, the one function every ownership check of the collection asks) answers with it.
So each refusal of another user's file is tested by every user: as root on files really given away,
as anyone else on the same decision taken from the recorded owner.
"""

from __future__ import annotations

import os

# a user that is neither root nor the tests' own: nobody, or the uid below it when the tests run as nobody
NOBODY = 65534 if os.geteuid() != 65534 else 65533

# (device, inode) -> the uid a test gave the file to, when it could not chown it
_GIVEN: dict[tuple[int, int], int] = {}


def give_away(path: str | os.PathLike[str], uid: int = NOBODY) -> None:
    """``path`` owned by ``uid``: chown as root, else recorded for ``owner_of``."""
    if os.geteuid() == 0:
        os.chown(path, uid, uid)
        return
    status = os.lstat(path)
    _GIVEN[(status.st_dev, status.st_ino)] = uid


def owner_of(status: os.stat_result) -> int:
    """The owner of a file as the tests made it: the recorded one, else its own."""
    return _GIVEN.get((status.st_dev, status.st_ino), status.st_uid)


def forget_given() -> None:
    """Forget the files given away (an inode number of a deleted file comes back for the next test's)."""
    _GIVEN.clear()
