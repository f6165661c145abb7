#!/usr/bin/env bash
# Bring up a single-node SLURM cluster on this machine (slurmctld + slurmd on localhost, munged for auth).
#
# Why: the workflow's SLURM path is tested against a real scheduler, not assumed. This script makes one from
# Debian's slurm-wlm and munge packages on any root Debian machine (CI included), in about a minute.
#
# Needs root. Installs slurm-wlm and munge with apt-get when their binaries are missing. Writes
# /etc/slurm/slurm.conf for this host (refuses to overwrite one it did not write), keeps its state, logs and pid
# files under $ERBB2_SLURM_DIR (default /var/lib/erbb2-tki-slurm) and waits until the node is idle.
# .ci/slurm/down.sh stops exactly what this script started.
#
# Exit status: 0 the cluster is up and the node idle; 2 this machine cannot run it (the message says why);
# 1 bring-up failed (the message names the log to read).
set -euo pipefail

STATE_DIR="${ERBB2_SLURM_DIR:-/var/lib/erbb2-tki-slurm}"
CONF=/etc/slurm/slurm.conf
MARKER="# written by erbb2-tki .ci/slurm/up.sh"
PARTITION="${ERBB2_SLURM_PARTITION:-debug}"
IDLE_TIMEOUT="${ERBB2_SLURM_IDLE_TIMEOUT:-90}"

say() { echo "slurm-up: $*" >&2; }
cannot() { say "cannot run SLURM here: $*"; exit 2; }
fail() { say "FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || cannot "not root (slurmd and munged must run as root on a single-node test cluster)"

# --- packages ---------------------------------------------------------------------------------------------------
need=()
for pair in slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client munged:munge; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || cannot "no apt-get and no SLURM binaries (missing: ${need[*]})"
  say "installing slurm-wlm and munge (missing: ${need[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null || fail "apt-get update failed"
  # Wait for another apt/dpkg run (up to 10 min) rather than fail on its lock.
  # Policy: never let the packages' own init scripts start daemons; this script starts them itself.
  policy_added=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_added=1
  fi
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends slurm-wlm munge >/dev/null \
    || { [ "$policy_added" = 1 ] && rm -f /usr/sbin/policy-rc.d; fail "apt-get install slurm-wlm munge failed"; }
  [ "$policy_added" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
for bin in slurmctld slurmd sbatch squeue sinfo scontrol munged munge; do
  command -v "$bin" >/dev/null 2>&1 || fail "$bin is still missing after installing slurm-wlm and munge"
done

mkdir -p "$STATE_DIR"/{ctld,spool,log,run}
LOG="$STATE_DIR/log"
RUN="$STATE_DIR/run"

# Already up (from an earlier call)? Then only wait for the node. A pid file counts only while its
# process is still that daemon: after a reboot or a cleaned machine the number may belong to another.
alive() { # daemon pidfile
  local pid
  [ -s "$2" ] && pid="$(cat "$2")" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ]
}
if alive slurmctld "$RUN/slurmctld.pid" && alive slurmd "$RUN/slurmd.pid"; then
  say "already running (pids in $RUN)"
  already=1
else
  already=0
fi

if [ "$already" = 0 ]; then
  # --- munge -------------------------------------------------------------------------------------------------------
  mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null 2>&1; then
      mungekey --create --keyfile=/etc/munge/munge.key
    else
      dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
    fi
  fi
  chmod 0400 /etc/munge/munge.key
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged already answers; using it"
    rm -f "$RUN/munged.pid"
  else
    # --force: root owns the key and the socket dir here, which munged otherwise refuses.
    munged --force --pid-file="$RUN/munged.pid" --log-file="$LOG/munged.log" 2>>"$LOG/munged.log" \
      || fail "munged did not start (see $LOG/munged.log)"
    for _ in $(seq 1 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
    munge -n | unmunge >/dev/null 2>&1 || fail "munge credentials do not round-trip (see $LOG/munged.log)"
  fi

  # --- slurm.conf ----------------------------------------------------------------------------------------------------
  if [ -e "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
    cannot "$CONF exists and was not written by this script (a real cluster?); not overwriting it"
  fi
  host="$(hostname -s)"
  cpus="$(nproc)"
  mem_total_mb=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
  # Headroom for the OS and the Snakemake head process: 10 % of memory, at least 1 GiB.
  headroom=$((mem_total_mb / 10 > 1024 ? mem_total_mb / 10 : 1024))
  real_mb=$((mem_total_mb - headroom))
  mkdir -p /etc/slurm
  tmp="$(mktemp "$CONF.XXXXXX")"
  cat >"$tmp" <<CONF
$MARKER
# Single-node test cluster on $host: ${cpus} CPUs, ${real_mb} MB of ${mem_total_mb} MB memory.
ClusterName=erbb2ci
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
# No cgroups in containers: track processes through /proc and bind no tasks.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# squeue reports finished jobs (COMPLETED/FAILED) for MinJobAge seconds; Snakemake's status check relies on it.
MinJobAge=600
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/spool
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=10
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${real_mb} State=UNKNOWN
PartitionName=${PARTITION} Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
  chmod 0644 "$tmp"
  mv -f "$tmp" "$CONF"

  # --- daemons ------------------------------------------------------------------------------------------------------
  # -c: start from a clean job state, so no job of an earlier run comes back.
  slurmctld -c >>"$LOG/slurmctld.log" 2>&1 || fail "slurmctld did not start (see $LOG/slurmctld.log)"
  for _ in $(seq 1 30); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 1; done
  scontrol ping 2>/dev/null | grep -q UP || fail "slurmctld does not answer (see $LOG/slurmctld.log)"
  slurmd >>"$LOG/slurmd.log" 2>&1 || fail "slurmd did not start (see $LOG/slurmd.log)"
fi

# --- wait for the node ------------------------------------------------------------------------------------------------
host="$(hostname -s)"
state=""
for _ in $(seq 1 "$IDLE_TIMEOUT"); do
  state="$(sinfo -h -n "$host" -o '%T' 2>/dev/null | head -n1)"
  case "$state" in
    idle | mixed | allocated) break ;;
    down* | drain* | unknown*) scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;;
  esac
  sleep 1
done
case "$state" in
  idle | mixed | allocated) ;;
  *) fail "node $host is '${state:-not listed}' after ${IDLE_TIMEOUT}s (see $LOG/slurmd.log and $LOG/slurmctld.log)" ;;
esac
say "up: node $host $state, partition $PARTITION ($(sinfo -h -o '%c CPUs, %m MB' | head -n1)); logs in $LOG"
