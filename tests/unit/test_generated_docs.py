# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The knob reference in docs/ is generated from the model and must be current."""

from __future__ import annotations

import os

import gen_knob_reference

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_knob_reference_is_current():
    with open(os.path.join(ROOT, 'docs', 'knob-reference.md'), encoding='utf-8') as handle:
        assert handle.read() == gen_knob_reference.render(), 'docs/knob-reference.md is stale: run make docs'
