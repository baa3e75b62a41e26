# shellcheck shell=bash
# bench/run's shared helpers: samples, timing, waiting with a deadline, and the registry of
# processes, namespaces, mounts and cgroups the run made, which cleanup() removes by pid and name
# whatever way the run ends. Sourced by bench/run; expects $ROOT (the run's scratch directory).

SAMPLES=$ROOT/samples.tsv
META=$ROOT/meta.tsv
NOTES=$ROOT/notes.md
: >"$SAMPLES"
: >"$META"
: >"$NOTES"

now() { date +%s%N; }
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }
note() { printf '%s\n' "$*" >>"$NOTES"; }

# sample SCENARIO METRIC SIZE SYSTEM VALUE UNIT
sample() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$SAMPLES"; }

# ms_of NANOSECONDS: milliseconds with 3 decimals, without a process.
ms_of() { printf '%d.%03d' $(($1 / 1000000)) $((($1 / 1000) % 1000)); }

# timed SCENARIO METRIC SIZE SYSTEM CMD...: run CMD (its stdout dropped), record its time in ms.
# A failing CMD fails the run (set -e): a figure of a command that did not work means nothing.
timed() {
  local s=$1 m=$2 z=$3 y=$4 t0 t1
  shift 4
  t0=$(now)
  "$@" >/dev/null
  t1=$(now)
  sample "$s" "$m" "$z" "$y" "$(ms_of $((t1 - t0)))" ms
}

# wait_until SECONDS CMD...: poll CMD every 20 ms until it succeeds; fails after SECONDS.
wait_until() {
  local deadline=$(($(date +%s) + $1))
  shift
  while ! "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.02
  done
}

# wait_gone SECONDS PID: wait for PID to exit; fails after SECONDS.
wait_gone() { wait_until "$1" bash -c "! kill -0 $2 2>/dev/null"; }

# rss_mb PID: resident set size in MB (VmRSS).
rss_mb() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# cpu_ticks PID: user and system clock ticks so far.
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }

# The registry of what the run made. Processes are stopped in the reverse order they were
# registered (stop_pid).
PIDS=()
NETNS=()
CGROUPS=()
CLEANUP_HOOKS=()
track_pid() { PIDS+=("$1"); }
track_netns() { NETNS+=("$1"); }
track_cgroup() { CGROUPS+=("$1"); }
on_cleanup() { CLEANUP_HOOKS+=("$1"); }

# stop_pid PID [SECONDS]: SIGTERM, SECONDS (default 20) to exit, then SIGKILL.
stop_pid() {
  local p=$1 secs=${2:-20}
  kill -0 "$p" 2>/dev/null || return 0
  kill "$p" 2>/dev/null || true
  wait_gone "$secs" "$p" || { log "pid $p did not stop on SIGTERM in $secs s: SIGKILL"; kill -9 "$p" 2>/dev/null || true; }
  wait "$p" 2>/dev/null || true
}

cleanup() {
  local rc=$? i
  set +e
  for ((i = ${#CLEANUP_HOOKS[@]} - 1; i >= 0; i--)); do "${CLEANUP_HOOKS[$i]}"; done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
  # Mounts a daemon left under the run's directory (overlay layers, netns bind mounts).
  awk -v r="$ROOT" 'index($2, r) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  for ns in "${NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  for cg in "${CGROUPS[@]}"; do
    for d in /sys/fs/cgroup/*/"$cg" /sys/fs/cgroup/"$cg"; do
      [ -d "$d" ] || continue
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  done
  rm -rf "$ROOT"
  exit "$rc"
}

# test_count WANT CMD...: true when CMD prints a number >= WANT.
test_count() { local want=$1; shift; [ "$("$@" 2>/dev/null || echo 0)" -ge "$want" ]; }

# upstream_in_ns NS: the upstream DNS server of the forwarded names in that system's namespace: the
# trivial responder on 192.0.2.53:53 (TEST-NET-1, an address on NS's loopback link: this kernel
# has no dummy links), so no query ever leaves the namespaces the run made. The address also plays
# the host's own address for published ports.
upstream_in_ns() {
  ip -n "$1" addr add 192.0.2.53/32 dev lo
  nsenter --net="/run/netns/$1" "$TRIVIAL" 192.0.2.53:53 >/dev/null 2>&1 &
  track_pid $!
}
