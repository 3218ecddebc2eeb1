#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the sweep's Slurm integration test
# (experiments/tests/slurm.rs). Debian's slurm-wlm and munge, configured for a container
# without cgroups or systemd: process tracking by /proc, no task plugin, the daemons run as
# root. Idempotent: a second `start` finds the daemons running and only waits for the node.
#
#   bash .ci/slurm.sh start   # install (once), configure, start munged, slurmctld, slurmd
#   bash .ci/slurm.sh stop    # stop the daemons this script started
#   bash .ci/slurm.sh status  # sinfo and squeue
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
CONF_DIR=/etc/slurm
STATE_DIR=/var/spool/slurmctld
SPOOL_DIR=/var/spool/slurmd
LOG_DIR=/var/log/slurm
RUN_DIR=/run/slurm

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
    command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return
  fi
  echo "slurm.sh: installing slurm-wlm and munge"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    slurm-wlm munge >/dev/null
}

configure() {
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  # RealMemory in MiB, a little under the total so that slurmd does not drain the node.
  mem=$(free -m | awk '/^Mem:/ { print int($2 * 0.9) }')
  $SUDO mkdir -p "$CONF_DIR" "$STATE_DIR" "$SPOOL_DIR" "$LOG_DIR" "$RUN_DIR"
  local conf
  conf=$(
    cat <<CONF
# Written by .ci/slurm.sh: one node, this machine.
ClusterName=ci
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=600
MpiDefault=none
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  )
  if [ ! -f "$CONF_DIR/slurm.conf" ] || [ "$(cat "$CONF_DIR/slurm.conf")" != "$conf" ]; then
    echo "$conf" | $SUDO tee "$CONF_DIR/slurm.conf" >/dev/null
  fi
  # No cgroup.conf: slurmd 22.05 always loads a cgroup plugin and detects the version itself
  # (CgroupPlugin=disabled does not exist there); the job's processes are tracked through
  # /proc (proctrack/linuxproc), so cgroups need not be writable.
  if [ ! -s /etc/munge/munge.key ]; then
    $SUDO mkdir -p /etc/munge
    $SUDO dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
  $SUDO chown munge:munge /etc/munge/munge.key
  $SUDO chmod 400 /etc/munge/munge.key
  $SUDO mkdir -p /run/munge /var/log/munge /var/lib/munge
  $SUDO chown munge:munge /run/munge /var/log/munge /var/lib/munge
  $SUDO chmod 755 /run/munge
}

fail() {
  echo "slurm.sh: $1 did not start; the end of its log:" >&2
  tail -n 20 "$LOG_DIR/$1.log" >&2 || true
  exit 1
}

# Whether process $1 runs (a zombie, left where nothing reaps the daemons, does not).
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ "$state" != Z* ]]
}

# Whether a live process is named $1.
running() {
  local pid
  for pid in $(pgrep -x "$1"); do
    if alive "$pid"; then return 0; fi
  done
  return 1
}

start() {
  install
  configure
  if ! running munged; then
    if [ -n "$SUDO" ]; then
      sudo -u munge /usr/sbin/munged
    else
      runuser -u munge -- /usr/sbin/munged
    fi
  fi
  munge -n | unmunge >/dev/null
  if ! running slurmctld; then
    $SUDO slurmctld -i || fail slurmctld
  fi
  if ! running slurmd; then
    $SUDO slurmd || fail slurmd
  fi
  local host state=""
  host=$(hostname -s)
  for _ in $(seq 1 60); do
    state=$(sinfo -h -n "$host" -o '%T' 2>/dev/null || true)
    case "$state" in
      idle | mixed | allocated) break ;;
      down* | drain*) $SUDO scontrol update NodeName="$host" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 1
  done
  case "$state" in
    idle | mixed | allocated) echo "slurm.sh: node $host is $state" ;;
    *)
      echo "slurm.sh: node $host did not become idle (state '$state'); logs in $LOG_DIR" >&2
      tail -n 20 "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" >&2 || true
      exit 1
      ;;
  esac
}

stop_daemon() {
  local name="$1" pidfile="$2" pid
  pid=$(cat "$pidfile" 2>/dev/null) || pid=$(pgrep -x "$name" | head -n 1) || return 0
  alive "$pid" || return 0
  $SUDO kill "$pid"
  for _ in $(seq 1 40); do
    alive "$pid" || return 0
    sleep 0.25
  done
  echo "slurm.sh: $name (process $pid) did not stop" >&2
  return 1
}

stop() {
  stop_daemon slurmd "$RUN_DIR/slurmd.pid"
  stop_daemon slurmctld "$RUN_DIR/slurmctld.pid"
  stop_daemon munged /run/munge/munged.pid
  echo "slurm.sh: stopped"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status)
    sinfo
    squeue
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
