# shellcheck shell=bash
# Sourced, not run, by the runme.sh of every target that mounts simulated hosts:
#   source ../setup_simhost/simhost.sh
# (so no shebang and no executable bit: the directive above tells shellcheck the shell instead).
# ansible-test runs a target in a temporary copy of the collection (tests/output/.tmp/integration/...)
# that holds the target, its needs/target/ dependencies and the files named by their needs/file/ aliases,
# each at its path in the collection. The needs/file/ aliases of this target put the simulated host at
# tests/simhost of that copy, three levels above this directory (tests/integration/targets/setup_simhost).
# Sets simhost_dir to it and exports PYTHON, the interpreter ansible-test runs the tests with, which has
# mfusepy: with-hosts.sh and `$PYTHON -m simhost` start the FUSE servers with it, and the tests' own
# checks run with it. Exports HOST_PYTHON, the managed hosts' interpreter (ansible_python_interpreter:
# the modules and the programs they install, boot applier included, run with it): the one ansible-test's
# inventory gives its test host (`ansible-test integration --target controller:python=venv/3.8` makes
# it Python 3.8; a context/controller target gets the controller's), else PYTHON.
simhost_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/simhost"
export PYTHON="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
if [ -n "${INVENTORY_PATH:-}" ]; then
  HOST_PYTHON="$(ansible-inventory -i "$INVENTORY_PATH" --host testhost |
    "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin).get("ansible_python_interpreter", ""))')"
fi
export HOST_PYTHON="${HOST_PYTHON:-$PYTHON}"
"$HOST_PYTHON" -c 'import sys; print("setup_simhost: the managed hosts run Python %d.%d.%d" % sys.version_info[:3])'
if [ ! -x "$simhost_dir/with-hosts.sh" ] || [ ! -x "$simhost_dir/cleanup.sh" ] || [ ! -f "$simhost_dir/simhost/__main__.py" ]; then
  echo "setup_simhost: no simulated host at $simhost_dir; run the target with ansible-test integration, which" \
    "copies it there from the needs/file/ aliases of tests/integration/targets/setup_simhost" >&2
  exit 1  # the runme.sh that sourced this file stops here
fi
