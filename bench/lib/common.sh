# shellcheck shell=bash
# bench/run's shared helpers: samples, timing, waiting with a deadline, the registry of
# processes, namespaces, mounts and cgroups the run made, which cleanup() removes by pid and name
# whatever way the run ends, and the primitives that weft and Docker (the same command line) share.
# Sourced by bench/run before the systems' drivers; expects $ROOT (the run's scratch directory).

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

# The primitives of weft and Docker that are the same commands: both are driven through Docker's
# command line. CLI is the function that runs a system's CLI (weft_cli, docker_cli), IMAGE the
# image its containers run; one place, so that both systems are measured doing the same things.

# cli_user_net CLI: attach's networks, `user` for the long-running containers, `other` for the target.
cli_user_net() {
  "$1" network create --subnet 10.200.0.0/16 user >/dev/null
  "$1" network create --subnet 10.201.0.0/16 other >/dev/null
}

# cli_target CLI IMAGE: the running container that attach connects and disconnects, made anew (a
# restart stops it).
cli_target() {
  "$1" rm -f target >/dev/null 2>&1 || true
  "$1" run -d --name target --network other "$2" sleep 1000000 >/dev/null
}

# cli_fill CLI IMAGE I: the Ith long-running container on the user network, publishing one port.
cli_fill() { "$1" run -d --name "f$3" --network user -p "$((20000 + $3)):80" "$2" sleep 1000000; }

# cli_run_rm CLI IMAGE: a container that publishes a port, does nothing and is removed.
cli_run_rm() { "$1" run --rm --network user -p 18080:80 "$2" true; }

# cli_dns_setup CLI IMAGE VAR: the dns scenario's containers, db (alias database) and client, on
# network `app`; the pid of the client (in whose namespace dnsperf runs) in the variable VAR.
cli_dns_setup() {
  local pid
  "$1" network create --subnet 10.210.0.0/24 app >/dev/null
  "$1" run -d --name db --network app --network-alias database "$2" sleep 1000000 >/dev/null
  "$1" run -d --name client --network app "$2" sleep 1000000 >/dev/null
  pid=$("$1" inspect -f '{{.State.Pid}}' client)
  printf -v "$3" '%s' "$pid"
}

# cli_dns_teardown CLI: removes what cli_dns_setup made.
cli_dns_teardown() {
  "$1" rm -f db client >/dev/null
  "$1" network rm app >/dev/null
}

# restart_daemon SYSTEM WANT SIZE API_SECS LIST_SECS [THEN]: stop SYSTEM's daemon
# (<system>_daemon_down), start it (<system>_daemon_up) and sample the time from the start until
# its API answers (<system>_api_up, awaited at most API_SECS), and until `network ls` lists WANT
# networks again (at most LIST_SECS). THEN, a command, runs once the API answers (after the first
# figure is taken, within the second).
restart_daemon() {
  local y=$1 want=$2 size=$3 t0 t1
  "${y}_daemon_down"
  t0=$(now)
  "${y}_daemon_up"
  wait_until "$4" "${y}_api_up"
  t1=$(now)
  [ -z "${6:-}" ] || "$6"
  sample restart "until the API answers" "$size" "$y" "$(ms_of $((t1 - t0)))" ms
  wait_until "$5" test_count "$want" "${y}_net_count"
  t1=$(now)
  sample restart "until network ls lists all" "$size" "$y" "$(ms_of $((t1 - t0)))" ms
}
