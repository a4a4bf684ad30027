#!/usr/bin/env bash
# A single-node Slurm cluster on localhost, for the cluster test (issue #19): munged, slurmctld and
# slurmd from Debian's `munge` and `slurm-wlm`, every file (key, config, state, logs, sockets) in
# one folder, on ports of its own, so nothing of the system's is touched and several can run.
#
#   scripts/slurm-local.sh start DIR   # prints `export SLURM_CONF=DIR/slurm.conf` when the node is idle
#   scripts/slurm-local.sh stop DIR    # stops the three daemons started in DIR
#
# Exit 77 (skip) with a message when it cannot run here (no packages, not root).
set -euo pipefail
command=${1:?usage: slurm-local.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: slurm-local.sh start|stop DIR}")

stop() {
    for name in slurmd slurmctld munged; do
        if [[ -f "$dir/$name.pid" ]]; then
            pid=$(cat "$dir/$name.pid")
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
            rm -f "$dir/$name.pid"
        fi
    done
}

if [[ $command == stop ]]; then stop; exit 0; fi
[[ $command == start ]] || { echo "usage: slurm-local.sh start|stop DIR" >&2; exit 2; }

for tool in munged mungekey slurmctld slurmd sbatch sinfo; do
    if ! PATH="$PATH:/usr/sbin" command -v "$tool" >/dev/null; then
        echo "skipped: $tool is missing (apt-get install slurm-wlm munge, or scripts/install-deps.sh --cluster)" >&2
        exit 77
    fi
done
if [[ $(id -u) != 0 ]]; then
    echo "skipped: slurmd must run as root to start jobs as their user" >&2
    exit 77
fi
export PATH="$PATH:/usr/sbin"
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
trap 'stop' ERR

# munge: a fresh key, its socket in DIR (slurm reaches it through AuthInfo).
mungekey --create --keyfile="$dir/munge/munge.key" --force 2>/dev/null || mungekey -c -k "$dir/munge/munge.key" -f
chmod 400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/socket" --pid-file="$dir/munged.pid" \
    --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/seed"

# Two free ports above 20000, chosen from the folder's name so two clusters rarely collide; a
# taken one is skipped.
port=$(( 20000 + $(cksum <<<"$dir" | cut -d' ' -f1) % 20000 ))
while ss -ltn | grep -qE ":($port|$((port + 1)))\b"; do port=$((port + 2)); done
host=$(hostname -s)
cpus=$(nproc)
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
cat >"$dir/slurm.conf" <<EOF
ClusterName=segterm-test
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -c -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)'; then
        echo "export SLURM_CONF=$SLURM_CONF"
        exit 0
    fi
    sleep 0.2
done
echo "the node did not come up; see $dir/slurmctld.log and $dir/slurmd.log" >&2
stop
exit 1
