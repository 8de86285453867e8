#!/usr/bin/env bash
# Check the release tarball as users get it:
#   1. ansible-galaxy collection build, and the tarball holds the collection and no development files;
#      no placeholder URL in it, and every relative link of its Markdown and RST files resolves inside it
#      (tests/tools/release_links.py);
#   2. installed offline into an empty collections path, ansible-doc lists every module, filter and role
#      of the source tree, and every plugin's documentation loads; and what a user must be able to trust
#      in the release (tests/tools/release_contents.py): the GPL-3.0 LICENSE, a semantic version released
#      in changelogs/changelog.yaml and CHANGELOG.rst, no fragment of changelogs/fragments left out of
#      that release, every plugin and role documented as added in it named in it, the knob reference
#      among the docs site's pages;
#   3. ansible-builder create on tests/ee/execution-environment.yml (this collection from that tarball)
#      and on meta/execution-environment.yml, and ansible-builder's own introspection of the installed
#      collection finds the dependencies its meta/execution-environment.yml declares (none).
# Usage: scripts/release-check.sh WORKDIR   (from the collection root; WORKDIR is emptied)
set -euo pipefail
work=${1:?usage: $0 WORKDIR}
root=$(pwd)
[ -f "$root/galaxy.yml" ] || { echo "release-check: run from the collection root" >&2; exit 2; }
case $work in /*) ;; *) work=$root/$work ;; esac

fail() { echo "release-check: FAIL: $*" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work/dist" "$work/collections" "$work/ee"

# 1. The tarball
ansible-galaxy collection build --output-path "$work/dist" . >/dev/null
tarballs=("$work"/dist/litevirt-uksm-*.tar.gz)
if [ ${#tarballs[@]} -ne 1 ] || [ ! -f "${tarballs[0]}" ]; then fail "expected one tarball in $work/dist"; fi
tarball=${tarballs[0]}
tar -tzf "$tarball" | sed 's|^\./||; s|/$||' | sort >"$work/contents.txt"

# Development files, kept out by galaxy.yml's build_ignore. Unreleased changelog fragments are
# development files too: users get changelogs/changelog.yaml (and CHANGELOG.rst once released).
dev_files='^(tests|extensions|scripts|build|\.ci|\.venv|\.nox|\.ruff_cache|\.mypy_cache|\.git|\.hypothesis|\.pytest_cache|changelogs/fragments)(/|$)'
dev_files+='|^(Makefile|DEVELOPMENT\.md|requirements\.txt|\.gitignore|\.ansible-lint|\.yamllint|changelogs/\.plugin-cache\.yaml|noxfile\.py|antsibull-nox\.toml|ruff\.toml|mypy\.ini|\.python-version)$'
dev_files+='|(^|/)(__pycache__|tests/output)(/|$)|\.pyc$|\.tar\.gz$'
if grep -E "$dev_files" "$work/contents.txt" >"$work/dev-files.txt"; then
  fail "development files in $(basename "$tarball"): $(head -20 "$work/dev-files.txt" | tr '\n' ' ')"
fi

expected_files=(MANIFEST.json FILES.json README.md LICENSE CHANGELOG.rst meta/runtime.yml meta/execution-environment.yml
  changelogs/changelog.yaml docs/docsite/extra-docs.yml docs/knob-reference.md roles/policy/meta/argument_specs.yml)
for f in plugins/modules/*.py plugins/module_utils/*.py plugins/module_utils/*/*.py plugins/filter/* \
  plugins/plugin_utils/*.py plugins/doc_fragments/*.py playbooks/*.yml docs/docsite/rst/*.rst; do
  expected_files+=("$f")
done
for f in "${expected_files[@]}"; do
  grep -qxF "$f" "$work/contents.txt" || fail "$f is missing from $(basename "$tarball")"
done
echo "release-check: $(basename "$tarball"): $(wc -l <"$work/contents.txt") entries, no development files"

# What users read in it: the files as the tarball holds them
mkdir "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked"
python3 "$root/tests/tools/release_links.py" "$work/unpacked" ||
  fail "a dangling link or a placeholder URL in $(basename "$tarball") (above)"
echo "release-check: $(basename "$tarball"): no placeholder URL, every relative link of its .md and .rst files resolves"

# 2. Installed offline into an empty collections path, nothing else visible to Ansible
[ -z "$(ls -A "$work/collections")" ] || fail "$work/collections is not empty"
export ANSIBLE_COLLECTIONS_PATH=$work/collections ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
: >"$work/ansible.cfg"
export ANSIBLE_CONFIG=$work/ansible.cfg
cd "$work"   # no ansible.cfg and no playbook-adjacent collections of the source tree
ansible-galaxy collection install --offline -p "$work/collections" "$tarball" >/dev/null
installed=$work/collections/ansible_collections/litevirt/uksm
[ -f "$installed/MANIFEST.json" ] || fail "litevirt.uksm not installed in $work/collections"

# Every plugin and role of the source tree, as ansible-doc names them
expected_modules=()
for f in "$root"/plugins/modules/*.py; do
  name=$(basename "$f" .py)
  [ "$name" = __init__ ] || expected_modules+=("litevirt.uksm.$name")
done
expected_filters=()
for f in "$root"/plugins/filter/*.yml; do
  expected_filters+=("litevirt.uksm.$(basename "$f" .yml)")
done
for f in "$root"/plugins/filter/*.py; do
  if grep -q '^DOCUMENTATION' "$f"; then expected_filters+=("litevirt.uksm.$(basename "$f" .py)"); fi
done
expected_roles=()
for d in "$root"/roles/*/; do
  expected_roles+=("litevirt.uksm.$(basename "$d")")
done

check_listed() {  # TYPE NAME...
  local type=$1 listing name
  shift
  listing=$(ansible-doc -t "$type" -l -j litevirt.uksm 2>"$work/ansible-doc.err") ||
    fail "ansible-doc -t $type -l litevirt.uksm: $(cat "$work/ansible-doc.err")"
  if grep -E 'ERROR|WARNING' "$work/ansible-doc.err"; then fail "ansible-doc -t $type -l litevirt.uksm warned"; fi
  for name in "$@"; do
    grep -qF "\"$name\"" <<<"$listing" || fail "ansible-doc -t $type -l litevirt.uksm does not list $name"
  done
  echo "release-check: ansible-doc -t $type lists $*"
}
check_listed module "${expected_modules[@]}"
check_listed filter "${expected_filters[@]}"
check_listed role "${expected_roles[@]}"

# Every plugin's documentation parses (ansible-doc -l lists plugins whose docs are broken too)
ansible-doc --metadata-dump --no-fail-on-errors litevirt.uksm >"$work/metadata.json" 2>"$work/ansible-doc.err" ||
  fail "ansible-doc --metadata-dump: $(cat "$work/ansible-doc.err")"
python3 - "$work/metadata.json" <<'EOF'
import json
import sys

with open(sys.argv[1]) as f:
    dump = json.load(f)
broken = ['%s %s: %s' % (kind, name, doc['error'])
          for kind, plugins in dump['all'].items() for name, doc in plugins.items() if 'error' in doc]
if broken:
    sys.exit('release-check: FAIL: documentation does not load: ' + '; '.join(broken))
EOF

# The release: licence, version, changelog, fragments, new plugins, knob reference in the docs site
python3 "$root/tests/tools/release_contents.py" "$work/unpacked" --fragments "$root/changelogs/fragments" \
  --metadata "$work/metadata.json" || fail "$(basename "$tarball") is not a release users can trust (above)"
version=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["collection_info"]["version"])' \
  "$work/unpacked/MANIFEST.json")
echo "release-check: LICENSE is the GPL-3.0 text; $version is released in changelog.yaml and CHANGELOG.rst with" \
  "every new plugin and role, no fragment left out; the knob reference is a docs site page"

# 3. Execution environments
cp "$root/tests/ee/execution-environment.yml" "$work/ee/"
cp "$tarball" "$work/ee/litevirt-uksm.tar.gz"
ansible-builder create --output-filename Containerfile -f "$work/ee/execution-environment.yml" \
  -c "$work/ee/context" >"$work/ee/create.log" 2>&1 || fail "ansible-builder create: $(cat "$work/ee/create.log")"
context=$work/ee/context
for f in Containerfile _build/requirements.yml _build/scripts/introspect.py _build/collections/litevirt-uksm.tar.gz; do
  [ -f "$context/$f" ] || fail "ansible-builder create did not write $f"
done
cmp -s "$tarball" "$context/_build/collections/litevirt-uksm.tar.gz" || fail "the EE context holds another tarball"
grep -qF 'name: /build/collections/litevirt-uksm.tar.gz' "$context/_build/requirements.yml" ||
  fail "the EE does not install litevirt.uksm from the tarball: $(cat "$context/_build/requirements.yml")"
grep -q 'ansible-galaxy collection install .*-r requirements.yml' "$context/Containerfile" ||
  fail "the Containerfile does not install the galaxy requirements"
# The collection declares no Python or system dependency: the context has no user requirements files...
for f in requirements.txt bindep.txt; do
  [ ! -e "$context/_build/$f" ] || fail "unexpected $f in the EE context"
done
# ...and the builder stage's introspection of the installed collection (the script the Containerfile
# runs) finds none in its meta/execution-environment.yml, and does not fail on it.
[ -f "$installed/meta/execution-environment.yml" ] || fail "meta/execution-environment.yml not installed"
python3 "$context/_build/scripts/introspect.py" introspect "$work/collections" >"$work/ee/introspect.yml" 2>&1 ||
  fail "ansible-builder introspection of the installed collection: $(cat "$work/ee/introspect.yml")"
python3 - "$work/ee/introspect.yml" <<'EOF'
import sys

import yaml

with open(sys.argv[1]) as f:
    deps = yaml.safe_load(f)
if deps != {'python': [], 'system': []}:
    sys.exit('release-check: FAIL: ansible-builder introspection found dependencies: %r' % (deps,))
EOF
# meta/execution-environment.yml is a complete EE definition of its own (from Galaxy)
ansible-builder create --output-filename Containerfile -f "$installed/meta/execution-environment.yml" \
  -c "$work/ee/meta-context" >"$work/ee/meta-create.log" 2>&1 ||
  fail "ansible-builder create -f meta/execution-environment.yml: $(cat "$work/ee/meta-create.log")"
grep -qF 'name: litevirt.uksm' "$work/ee/meta-context/_build/requirements.yml" ||
  fail "meta/execution-environment.yml does not install litevirt.uksm"
echo "release-check: ansible-builder create: EE contexts for the tarball and for meta/execution-environment.yml"
echo "release-check: OK"
