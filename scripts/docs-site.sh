#!/usr/bin/env bash
# Build the collection's HTML docs site (plugins, role and docs/docsite guides) with antsibull-docs
# and Sphinx, warnings as errors, offline.
# Usage: scripts/docs-site.sh WORKDIR OUTDIR   (from the collection root; WORKDIR is emptied)
# The site shows what users install: ansible-galaxy installs the source tree through the manifest it
# would build the tarball from.
set -euo pipefail
work=${1:?usage: $0 WORKDIR OUTDIR}
out=${2:?usage: $0 WORKDIR OUTDIR}
case $work in /*) ;; *) work=$(pwd)/$work ;; esac

rm -rf "$work" "$out"
mkdir -p "$work"
ansible-galaxy collection install --offline -p "$work/collections" . >/dev/null
export ANSIBLE_COLLECTIONS_PATH=$work/collections
work=$work/src
# antsibull-docs wants its directories writable by their owner only
mkdir -m 700 "$work"
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$work" litevirt.uksm >/dev/null
chmod 700 "$work/rst"
antsibull-docs --config-file "$work/antsibull-docs.cfg" collection --use-current --fail-on-error \
  --cleanup everything --dest-dir "$work/rst" litevirt.uksm >/dev/null

# conf.py maps intersphinx to docs.python.org, jinja and docs.ansible.com, with a local inventory
# file as fallback (../NAME.inv from the source dir). Offline (CI has no network but the package
# registries) those fallbacks are what Sphinx reads: small inventories holding the labels the
# generated pages refer to, pointing at the real pages.
python3 - "$work" <<'EOF'
import sys
import zlib

ANSIBLE = 'https://docs.ansible.com/projects/ansible/devel/'
labels = {
    'ansible_devel': [
        # uksm_policy has an action plugin, which its page mentions
        ('action_plugins', 'plugins/action.html#action-plugins', 'Action plugins'),
        ('ansible_configuration_settings', 'reference_appendices/config.html#ansible-configuration-settings',
         'Ansible Configuration Settings'),
        ('common_return_values', 'reference_appendices/common_return_values.html#common-return-values',
         'Return Values'),
    ],
    'python2': [], 'python3': [], 'jinja2': [],
}
for name, entries in labels.items():
    body = ''.join('%s std:label -1 %s %s\n' % (label, uri, title) for label, uri, title in entries)
    header = ('# Sphinx inventory version 2\n# Project: %s\n# Version: \n'
              '# The remainder of this file is compressed using zlib.\n' % name)
    with open('%s/%s.inv' % (sys.argv[1], name), 'wb') as inv:
        inv.write(header.encode() + zlib.compress(body.encode()))
EOF

sphinx-build -q -b html -W --keep-going -c "$work" -d "$work/doctrees" "$work/rst" "$out"
echo "docs site: $out/index.html"
