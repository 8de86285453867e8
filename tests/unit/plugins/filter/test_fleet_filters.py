# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet_summary, fleet_csv and fleet_html filters: names, errors, docs, and use by FQCN in a template."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import yaml
from ansible.errors import AnsibleTypeError

from ansible_collections.litevirt.uksm.plugins.filter import fleet_csv, fleet_html, fleet_summary
from ansible_collections.litevirt.uksm.plugins.plugin_utils import fleet

FILTERS = {'fleet_summary': fleet_summary, 'fleet_csv': fleet_csv, 'fleet_html': fleet_html}


@pytest.mark.parametrize('name', sorted(FILTERS))
def test_each_file_is_one_documented_filter(name):
    module = FILTERS[name]
    assert list(module.FilterModule().filters()) == [name]
    documentation = yaml.safe_load(module.DOCUMENTATION)
    assert documentation['name'] == name and documentation['options']['_input']['required']
    assert yaml.safe_load(module.RETURN)['_value']['type']
    assert all(task['name'] for task in yaml.safe_load(module.EXAMPLES))
    assert ('litevirt.uksm.' + name) in module.EXAMPLES


def test_csv_doc_names_every_column_in_order():
    documentation = yaml.safe_load(fleet_csv.DOCUMENTATION)
    named = re.findall(r'C\(([a-z_]+)\)', documentation['description'][0])
    assert tuple(named) == fleet.COLUMNS
    sample = yaml.safe_load(fleet_csv.RETURN)['_value']['sample']
    assert sample.splitlines()[0] == ','.join(fleet.COLUMNS)
    assert all(len(line.split(',')) == len(fleet.COLUMNS) for line in sample.splitlines())


def test_filters_chain():
    summary = fleet_summary.fleet_summary({'hv01': None})
    assert summary == fleet.summarize({'hv01': None})
    assert fleet_csv.fleet_csv(summary).splitlines()[1].startswith('hv01,unreachable,')
    page = fleet_html.fleet_html(summary, 'Lab', '2026-11-26')
    assert '<title>Lab</title>' in page and '2026-11-26' in page


@pytest.mark.parametrize(
    'name, value',
    [
        ('fleet_summary', ['hv01']),
        ('fleet_summary', {'hv01': 'up'}),
        ('fleet_csv', {}),
        ('fleet_html', {'hosts': []}),
    ],
)
def test_wrong_input_is_a_type_error(name, value):
    with pytest.raises(AnsibleTypeError, match=name):
        FILTERS[name].FilterModule().filters()[name](value)


def test_html_of_a_summary_from_before_the_cost_totals_fails_with_type_error():
    # a report.json written by an older collection has no cpu_seconds among its totals
    old = fleet.summarize({'hv01': None})
    for key in ('cpu_hosts', 'cpu_seconds', 'bytes_per_cpu_second'):
        del old['totals'][key]
    with pytest.raises(AnsibleTypeError, match='fleet_html: expected the result of fleet_summary'):
        fleet_html.fleet_html(old)


def test_csv_of_rows_from_before_the_cost_and_pressure_columns_has_them_empty():
    # the CSV reads rows with .get(): rows of an older summary still give every column
    old = fleet.summarize({'hv01': None})
    for row in old['hosts']:
        for key in fleet.COLUMNS[fleet.COLUMNS.index('cpu_seconds') :]:
            del row[key]
    line = fleet_csv.fleet_csv(old).splitlines()[1]
    assert line.endswith(',' * 6) and len(line.split(',')) == len(fleet.COLUMNS)


def test_html_of_a_summary_from_before_the_tier_totals_fails_with_type_error():
    old = fleet.summarize({'hv01': None})
    del old['totals']['by_tier']
    with pytest.raises(AnsibleTypeError, match='fleet_html: expected the result of fleet_summary'):
        fleet_html.fleet_html(old)


TEMPLATE = r'''
import json, sys
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader([sys.argv[1]])
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
templar = Templar(loader=DataLoader(), variables=json.loads(sys.argv[2]))
summary = templar.template(trust_as_template('{{ hosts | litevirt.uksm.fleet_summary }}'))
csv = templar.template(trust_as_template('{{ hosts | litevirt.uksm.fleet_summary | litevirt.uksm.fleet_csv }}'))
page = templar.template(trust_as_template("{{ hosts | litevirt.uksm.fleet_summary | litevirt.uksm.fleet_html('Lab') }}"))
print(json.dumps({'summary': summary, 'csv': csv, 'html': page}))
'''


def test_filters_by_fqcn_in_a_template():
    # the collection's ansible_collections directory (the stage under make units); a fresh interpreter
    # keeps Ansible's collection loader out of this one
    collections = os.path.abspath(os.path.join(os.path.dirname(fleet.__file__), *(['..'] * 5)))
    if not os.path.isdir(os.path.join(collections, 'ansible_collections', 'litevirt', 'uksm')):
        pytest.skip('the collection is not under an ansible_collections directory')
    hosts = {'hv01': {'unreachable': True, 'msg': 'down'}, 'hv02': None}
    done = subprocess.run(
        [sys.executable, '-c', TEMPLATE, collections, json.dumps({'hosts': hosts})],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result['summary'] == fleet.summarize(hosts)
    assert result['csv'] == fleet.to_csv(fleet.summarize(hosts))
    assert '<title>Lab</title>' in result['html']
