#!/usr/bin/env bash
# Unmount every simulated host mounted under the given directories and stop their servers.
# Usage: tests/simhost/cleanup.sh DIR...   (safe to run when nothing is mounted)
set -u
status=0
# A server that exited stays a zombie until PID 1 reaps it, which some inits do only every second or
# two: that counts as gone (kill -0 would wait for the reaping, seconds per host).
alive() {
  local state
  state=$(sed -n 's/^.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
  [ -n "$state" ] && [ "$state" != Z ]
}
for top in "$@"; do
  [ -d "$top" ] || continue
  top=$(cd "$top" && pwd -P)
  # mountinfo field 5 is the mount point; the fs type follows the " - " separator.
  while read -r mount_point; do
    sysroot=${mount_point%/sys/kernel/mm}
    pidfile="$sysroot/.simhost/server.pid"
    pid=""
    if [ -r "$pidfile" ]; then
      pid=$(cat "$pidfile")
    fi
    fusermount3 -u "$mount_point" 2>/dev/null || fusermount3 -u -z "$mount_point" 2>/dev/null || umount -l "$mount_point" || status=1
    # Only a server of this sysroot is stopped, never a recycled pid.
    if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q "simhost serve $sysroot"; then
      for _ in $(seq 40); do
        alive "$pid" || break
        sleep 0.05
      done
      alive "$pid" && kill "$pid" 2>/dev/null
    fi
    rm -f "$pidfile"
  done < <(awk -v top="$top" '{
      for (i = 7; $i != "-"; i++) {}
      if ($(i + 1) == "fuse.simhost" && index($5, top "/") == 1) print $5
    }' /proc/self/mountinfo | sort -r)
done
exit "$status"
