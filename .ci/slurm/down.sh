#!/usr/bin/env bash
# Tear down the single-node SLURM cluster that .ci/slurm/up.sh started.
#
# Stops only the daemons whose pid files up.sh left under $ERBB2_SLURM_DIR, cancels any job still queued, and
# removes the slurm.conf that up.sh wrote (never one it did not write). Packages stay installed. Safe to run twice.
set -uo pipefail

STATE_DIR="${ERBB2_SLURM_DIR:-/var/lib/erbb2-tki-slurm}"
CONF=/etc/slurm/slurm.conf
MARKER="# written by erbb2-tki .ci/slurm/up.sh"
RUN="$STATE_DIR/run"

say() { echo "slurm-down: $*" >&2; }

stop() { # daemon pidfile
  local pidfile="$2" pid
  [ -s "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  # Only that daemon: a stale pid file's number may belong to another process by now.
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ]; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$1 ($pid) did not stop on TERM; killing it"
      kill -9 "$pid" 2>/dev/null
    fi
    say "stopped $1 ($pid)"
  fi
  rm -f "$pidfile"
}

if [ -s "$RUN/slurmctld.pid" ] && [ "$(cat "/proc/$(cat "$RUN/slurmctld.pid")/comm" 2>/dev/null)" = slurmctld ]; then
  scancel --quiet --user="$(id -un)" 2>/dev/null || true
fi
stop slurmd "$RUN/slurmd.pid"
stop slurmctld "$RUN/slurmctld.pid"
stop munged "$RUN/munged.pid"
if [ -e "$CONF" ] && grep -qF "$MARKER" "$CONF"; then
  rm -f "$CONF"
fi
say "down"
