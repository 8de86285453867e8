#!/usr/bin/env bash
# Run a command with simulated hosts mounted, and always unmount them afterwards.
# Usage: with-hosts.sh DIR VARIANT[:OPTION,...] ... -- COMMAND [ARGS...]
#   Each host is DIR/<variant> (options are `up` flags without dashes, e.g. ksm:active).
#   PYTHON names the interpreter that has mfusepy (default python3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
dir="$1"
shift
specs=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do specs+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
trap '"$here/cleanup.sh" "$dir" >/dev/null 2>&1 || true' EXIT
for spec in "${specs[@]}"; do
  variant="${spec%%:*}"
  flags=()
  if [ "$spec" != "$variant" ]; then
    IFS=',' read -r -a options <<< "${spec#*:}"
    for option in "${options[@]}"; do flags+=("--${option//_/-}"); done
  fi
  PYTHONPATH="$here" "$python" -m simhost up "$dir/$variant" --variant "$variant" "${flags[@]}"
done
"$@"
