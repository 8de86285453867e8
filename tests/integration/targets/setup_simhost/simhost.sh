# shellcheck shell=bash
# Sourced, not run, by the runme.sh of every target that mounts simulated hosts:
#   source ../setup_simhost/simhost.sh
# (so no shebang and no executable bit: the directive above tells shellcheck the shell instead).
# ansible-test runs a target in a temporary copy of the collection (tests/output/.tmp/integration/...)
# that holds the target, its needs/target/ dependencies and the files named by their needs/file/ aliases,
# each at its path in the collection. The needs/file/ aliases of this target put the simulated host at
# tests/simhost of that copy, three levels above this directory (tests/integration/targets/setup_simhost).
# Sets simhost_dir to it and exports PYTHON, the interpreter ansible-test runs the tests with, which has
# mfusepy: with-hosts.sh and `$PYTHON -m simhost` start the FUSE servers with it.
simhost_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/simhost"
export PYTHON="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
if [ ! -x "$simhost_dir/with-hosts.sh" ] || [ ! -x "$simhost_dir/cleanup.sh" ] || [ ! -f "$simhost_dir/simhost/__main__.py" ]; then
  echo "setup_simhost: no simulated host at $simhost_dir; run the target with ansible-test integration, which" \
    "copies it there from the needs/file/ aliases of tests/integration/targets/setup_simhost" >&2
  exit 1  # the runme.sh that sourced this file stops here
fi
