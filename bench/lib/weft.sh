# shellcheck shell=bash
# bench/run's driver for weft: a weftd of its own in a network namespace of its own (the release
# build in target/release), driven through the `weft` CLI, as bench/network-create, containers and
# dns do. Each primitive is one user-visible command. Sourced by bench/run.

WEFT_NS=weftbench-weft-$$
WEFT_DIR=$ROOT/weft
WEFT_SOCK="unix://$WEFT_DIR/weft.sock"
WEFT_PID=

weft_cli() { "$BIN/weft" -H "$WEFT_SOCK" "$@"; }
weft_api_up() { timeout 10 "$BIN/weft" -H "$WEFT_SOCK" version; }

weft_daemon_up() {
  nsenter --net="/run/netns/$WEFT_NS" "$BIN/weftd" --data-root "$WEFT_DIR/data" --exec-root "$WEFT_DIR/exec" \
    -H "$WEFT_SOCK" --config-file /dev/null --default-address-pool base=10.0.0.0/8,size=24 \
    --dns 192.0.2.53 --log-level warn 2>>"$WEFT_DIR/log" &
  WEFT_PID=$!
  track_pid "$WEFT_PID"
}

weft_daemon_down() {
  stop_pid "$WEFT_PID"
}

weft_start() {
  mkdir -p "$WEFT_DIR"
  ip netns add "$WEFT_NS"
  track_netns "$WEFT_NS"
  ip -n "$WEFT_NS" link set lo up
  upstream_in_ns "$WEFT_NS"
  weft_daemon_up
  wait_until 30 weft_api_up || { cat "$WEFT_DIR/log" >&2; return 1; }
}

weft_stop() {
  weft_daemon_down
}

weft_versions() { "$BIN/weft" --version 2>/dev/null | head -1; }
weft_ns() { echo "$WEFT_NS"; }
weft_rss() { rss_mb "$WEFT_PID"; }

# network-create
weft_net_create() { weft_cli network create "$1"; }
weft_net_rm() { weft_cli network rm "$1"; }
weft_net_count() { weft_cli network ls -q | wc -l; }

# attach: the user network, its long-running containers, the probes.
weft_user_net() { cli_user_net weft_cli; }
weft_target() { cli_target weft_cli hostfs; }
weft_fill() { cli_fill weft_cli hostfs "$1"; }
weft_run_rm() { cli_run_rm weft_cli hostfs; }
weft_connect() { weft_cli network connect user target; }
weft_disconnect() { weft_cli network disconnect user target; }

# dns: two containers on network `app`; dnsperf runs in the client's namespace.
WEFT_CLIENT_PID=
weft_dns_setup() { cli_dns_setup weft_cli hostfs WEFT_CLIENT_PID; }
weft_dns_netns() { echo "/proc/$WEFT_CLIENT_PID/ns/net"; }
weft_dns_server() { echo "127.0.0.11 53"; }
weft_dns_cpu_pid() { echo "$WEFT_PID"; }
weft_dns_teardown() { cli_dns_teardown weft_cli; }

# restart: SIGTERM, wait for the exit, start; the time from the start until the API answers, and
# until `network ls` lists every network again.
weft_restart() { restart_daemon weft "$1" "$2" 60 60; }

# restart after a crash: SIGKILL with C containers running (their endpoints, veths and published
# ports in the kernel), then start. weftd stops what the dead daemon left running and releases its
# networking before it listens, so "until the API answers" includes that; the kernel removes the
# veths of the namespaces it let go in the background, hence the second figure.
weft_no_veths() { ! ip -n "$WEFT_NS" -o link show | grep -q ': wv'; }
weft_crash_restart() {
  local size=$1 t0 t1
  kill -9 "$WEFT_PID" 2>/dev/null || true
  wait "$WEFT_PID" 2>/dev/null || true
  t0=$(now)
  weft_daemon_up
  wait_until 120 weft_api_up
  t1=$(now)
  sample restart "after kill -9 with containers running, until the API answers" "$size" weft "$(ms_of $((t1 - t0)))" ms
  wait_until 120 weft_no_veths
  t1=$(now)
  sample restart "after kill -9 with containers running, until their veths are gone" "$size" weft "$(ms_of $((t1 - t0)))" ms
}

# ports: an iperf3 server in a container publishing 15201 -> 5201; its address in IPERF_IP.
weft_iperf_up() {
  weft_cli run -d --name srv --network user -p 15201:5201 hostfs iperf3 -s -p 5201 >/dev/null
  IPERF_IP=$(weft_cli inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' srv)
}
weft_iperf_down() { weft_cli rm -f srv >/dev/null; }
