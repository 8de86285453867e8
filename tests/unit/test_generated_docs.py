# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The knob reference pages (docs/ and the docs site) are generated from the model and must be current."""

from __future__ import annotations

import os

import gen_knob_reference
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize('page', [gen_knob_reference.MARKDOWN_PAGE, gen_knob_reference.RST_PAGE])
def test_knob_reference_is_current(page):
    with open(os.path.join(ROOT, page), encoding='utf-8') as handle:
        assert handle.read() == gen_knob_reference.render(page), '%s is stale: run make docs' % page


def test_docs_site_page_carries_the_label_plugin_docs_refer_to():
    first_line = gen_knob_reference.render(gen_knob_reference.RST_PAGE).splitlines()[0]
    assert first_line == '.. _%s:' % gen_knob_reference.RST_LABEL


def test_both_pages_list_every_attribute_of_the_model():
    from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.attributes import BACKENDS

    markdown = gen_knob_reference.render(gen_knob_reference.MARKDOWN_PAGE)
    rst = gen_knob_reference.render(gen_knob_reference.RST_PAGE)
    for backend in BACKENDS.values():
        for name in backend.attrs:
            assert '`%s`' % name in markdown
            assert '``%s``' % name in rst


def test_unknown_page_format_fails():
    with pytest.raises(ValueError, match='.md or .rst'):
        gen_knob_reference.render('docs/knob-reference.html')
