"""The rollout's junit.xml: a failure for hv07, skips for the hosts never reached, a suite per batch."""

import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
cases = {case.get('name'): case for case in root.iter('testcase')}
assert len(cases) == 11, sorted(cases)
assert [name for name, case in cases.items() if case.find('failure') is not None] == ['hv07']
assert 'EIO' in cases['hv07'].find('failure').get('message')
never = sorted(
    name
    for name, case in cases.items()
    if case.find('skipped') is not None and case.find('skipped').get('message') == 'not reached'
)
assert never == ['hv%02d' % n for n in range(8, 12)], never
assert [suite.get('name') for suite in root] == ['batch 1', 'batch 2', 'batch 3', 'batch 4', 'not reached']
print('junit.xml: %d test cases, failure on hv07, %d never reached' % (len(cases), len(never)))
