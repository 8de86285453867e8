# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How long the tests wait before they call an operation slow, on a machine that is busy.

`make test` runs the QEMU guest (about one core, TCG) beside the other gates on two cores, so a test
process can lose the CPU for seconds. A bound that tells "at once" from "waited for a 30 s hold or a
timeout" is PROMPT_SECONDS, far from both; hypothesis gets no per-example deadline and no
too-slow health check for the same reason (a CI run failed at stop 26 without saying which test).
"""

from __future__ import annotations

PROMPT_SECONDS = 10.0


def load_hypothesis_profile() -> None:
    """Every hypothesis test in this process: no deadline, no health check on generation speed."""
    from hypothesis import HealthCheck, settings  # pylint: disable=import-outside-toplevel

    settings.register_profile('busy-machine', deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile('busy-machine')
