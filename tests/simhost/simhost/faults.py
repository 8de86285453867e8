"""Queue of injected faults (written to ``.simctl/faults``).

A fault is a JSON object naming an attribute and exactly one effect:

* ``{"attr": "cpu_ratios", "errno": "ENOMEM", "times": 1, "skip": 0}``: the
  matching writes fail with that errno (``"op": "read"`` makes reads fail
  instead); nothing reaches the kernel model.
* ``{"attr": "run", "short": 1}``: the write accepts only that many bytes and
  applies nothing (a short write).
* ``{"attr": "sleep_millisecs", "readback": "777\\n"}``: after the next
  successful write, reads return that text until the attribute is written
  again (a read-back mismatch).
* ``{"attr": "sleep_millisecs", "block": 30}``: the write does not return
  until ``.simctl/release`` is written (it then goes to the kernel model like
  any write), or it is abandoned: after that many seconds, when the queue is
  replaced, on reboot, when its writer is SIGKILLed or the host unmounted (it
  then applies nothing and fails EINTR).  This holds a writer inside write()
  so a test can kill it there, or keep it in the middle of a transaction while
  another writer runs.

``skip`` lets that many matching operations through first; ``times`` is how
many operations the fault affects before it is used up.
"""

from __future__ import annotations

import copy
import errno
from typing import Any

from simhost.parse import kernel_error

EFFECTS = ("errno", "short", "readback", "block")

#: longest block a fault may ask for: a forgotten release must not hang a test run for long
MAX_BLOCK_SECONDS = 600


def _bad(message: str) -> OSError:
    return kernel_error(errno.EINVAL, message)


def normalise(spec: Any) -> dict[str, Any]:
    """Validate one fault object and fill in the defaults."""
    if not isinstance(spec, dict):
        raise _bad("a fault must be a JSON object")
    unknown = set(spec) - {"attr", "op", "times", "skip"} - set(EFFECTS)
    if unknown:
        raise _bad("unknown fault keys: %s" % ", ".join(sorted(unknown)))
    if not isinstance(spec.get("attr"), str) or not spec["attr"]:
        raise _bad("a fault needs an attribute name in 'attr'")
    effects = [key for key in EFFECTS if key in spec]
    if len(effects) != 1:
        raise _bad("a fault needs exactly one of %s" % ", ".join(EFFECTS))
    fault = {
        "attr": spec["attr"],
        "op": spec.get("op", "write"),
        "times": spec.get("times", 1),
        "skip": spec.get("skip", 0),
    }
    for key in ("times", "skip"):
        if not isinstance(fault[key], int) or isinstance(fault[key], bool) or fault[key] < 0:
            raise _bad("%s must be a non-negative integer" % key)
    if fault["times"] < 1:
        raise _bad("times must be at least 1")
    if fault["op"] not in ("write", "read"):
        raise _bad("op must be write or read")
    effect = effects[0]
    value = spec[effect]
    if effect == "errno":
        value = _errno_name(value)
    elif effect == "short":
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise _bad("short must be a positive byte count")
    elif effect == "block":
        value = _block_seconds(value)
    elif not isinstance(value, str):
        raise _bad("readback must be a string")
    if effect != "errno" and fault["op"] != "write":
        raise _bad("%s faults apply to writes only" % effect)
    fault[effect] = value
    return fault


def _errno_name(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value in errno.errorcode:
        return errno.errorcode[value]
    if isinstance(value, str) and value.startswith("E") and isinstance(getattr(errno, value, None), int):
        return value
    raise _bad("unknown errno %r" % (value,))


def _block_seconds(value: Any) -> float:
    # "not 0 < value <= max" also refuses NaN and infinity (json.loads accepts both).
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= MAX_BLOCK_SECONDS:
        raise _bad("block must be a number of seconds, more than 0 and at most %d" % MAX_BLOCK_SECONDS)
    return value


def kind_of(fault: dict[str, Any]) -> str:
    """Which operation consumes the fault: 'write', 'read' or 'readback'."""
    if "readback" in fault:
        return "readback"
    return fault["op"]


class FaultQueue:
    """Pending faults, first match wins."""

    def __init__(self, items: list[dict[str, Any]] | None = None) -> None:
        self.items: list[dict[str, Any]] = [normalise(item) for item in items or []]

    def add(self, spec: Any) -> None:
        self.items.append(normalise(spec))

    def replace(self, specs: list[Any]) -> None:
        self.items = [normalise(spec) for spec in specs]

    def pending(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self.items)

    def take(self, attr: str, kind: str) -> dict[str, Any] | None:
        """Consume one use of the first fault for ``attr`` and operation ``kind``."""
        for fault in self.items:
            if fault["attr"] != attr or kind_of(fault) != kind:
                continue
            if fault["skip"] > 0:
                fault["skip"] -= 1
                return None
            fault["times"] -= 1
            if fault["times"] <= 0:
                self.items.remove(fault)
            return dict(fault)
        return None
