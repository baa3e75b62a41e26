# shellcheck shell=bash
# bench/run's scenarios, the same for every system: each calls the system's primitives
# (`<system>_net_create`, `_fill`, `_connect`, ...) and skips what a system does not have. Sizes
# are the number of networks or containers that already existed when a figure was taken. The
# kernel's floors are measured with `ip` in weft's namespace, in the same run. Sourced by bench/run.

has() { declare -F "$1" >/dev/null; }

NETS_NOW=0
CTRS_NOW=0
USER_NET=0

# ensure_networks SYSTEM N: N networks of the bench's own exist (n1..nN).
ensure_networks() {
  has "$1_net_create" || return 0
  local i
  for ((i = NETS_NOW + 1; i <= $2; i++)); do "$1_net_create" "n$i" >/dev/null; done
  [ "$NETS_NOW" -ge "$2" ] || NETS_NOW=$2
}

# ensure_containers SYSTEM N: N long-running containers on the user network, each publishing a port.
ensure_containers() {
  [ "$USER_NET" = 1 ] || { "$1_user_net"; USER_NET=1; }
  local i
  for ((i = CTRS_NOW + 1; i <= $2; i++)); do "$1_fill" "$i" >/dev/null; done
  [ "$CTRS_NOW" -ge "$2" ] || CTRS_NOW=$2
}

# The kernel's floor for a network: one `ip -batch` that adds a bridge, gives it an address and
# brings it up; and one `ip link del` (as bench/network-create).
floor_network() {
  local i ns t0 t1 t2
  ns=$(weft_ns)
  for ((i = 0; i < S; i++)); do
    t0=$(now)
    printf 'link add wbfloor type bridge\naddr add 10.255.255.1/24 dev wbfloor\nlink set wbfloor up\n' | ip -n "$ns" -batch -
    t1=$(now)
    ip -n "$ns" link del wbfloor
    t2=$(now)
    sample network-create create "$1" "kernel (ip)" "$(ms_of $((t1 - t0)))" ms
    sample network-create rm "$1" "kernel (ip)" "$(ms_of $((t2 - t1)))" ms
  done
}

# The kernel's floor for an attach (as bench/containers): a namespace, a veth pair with one end in
# it, an address on each side, both up; and the removal. As `connect` and `disconnect`.
floor_attach() {
  local i ns fl=weftbench-floor-$$ t0 t1 t2
  ns=$(weft_ns)
  track_netns "$fl"
  for ((i = 0; i < S; i++)); do
    t0=$(now)
    ip netns add "$fl"
    printf 'link add wbfa type veth peer name wbfb netns %s\nlink set wbfa up\naddr add 10.254.0.1/24 dev wbfa\n' "$fl" | ip -n "$ns" -batch -
    printf 'link set lo up\naddr add 10.254.0.2/24 dev wbfb\nlink set wbfb up\n' | ip -n "$fl" -batch -
    t1=$(now)
    ip netns del "$fl"
    ip -n "$ns" link del wbfa 2>/dev/null || true
    t2=$(now)
    sample attach connect "$1" "kernel (ip)" "$(ms_of $((t1 - t0)))" ms
    sample attach disconnect "$1" "kernel (ip)" "$(ms_of $((t2 - t1)))" ms
  done
}

# 1. network-create: create and rm one network, with 0, N/10 and N networks already there.
scen_network_create() {
  local y=$1 cp i
  has "${y}_net_create" || { note "- network-create: not measured for $y (no network object outside a container's setup)."; return 0; }
  for cp in 0 $((nets / 10)) "$nets"; do
    ensure_networks "$y" "$cp"
    log "$y: network-create with $cp networks"
    for ((i = 0; i < S; i++)); do
      timed network-create create "$cp" "$y" "${y}_net_create" probe
      timed network-create rm "$cp" "$y" "${y}_net_rm" probe
    done
    [ "$y" != weft ] || floor_network "$cp"
  done
}

# 2. attach: run --rm with a port on the user network (DNS on); connect and disconnect of a running
# container; with 0, C/5 and C containers already on the network (each publishing a port).
scen_attach() {
  local y=$1 cp i
  ensure_containers "$y" 0
  ! has "${y}_target" || "${y}_target"
  # One untimed run first: the first container of a daemon pays one-time costs (image layers).
  ! has "${y}_run_rm" || "${y}_run_rm" >/dev/null
  for cp in 0 $((ctrs / 5)) "$ctrs"; do
    ensure_containers "$y" "$cp"
    log "$y: attach with $cp containers"
    for ((i = 0; i < S; i++)); do
      ! has "${y}_run_rm" || timed attach "run --rm -p" "$cp" "$y" "${y}_run_rm"
      if [ "$y" = netavark ]; then
        netavark_connect; sample attach connect "$cp" "$y" "$NV_LAST_MS" ms
        netavark_disconnect; sample attach disconnect "$cp" "$y" "$NV_LAST_MS" ms
      else
        timed attach connect "$cp" "$y" "${y}_connect"
        timed attach disconnect "$cp" "$y" "${y}_disconnect"
      fi
    done
    [ "$y" != weft ] || floor_attach "$cp"
  done
}

# dnsperf_run SYSTEM-LABEL NETNS SERVER PORT QUERYFILE OUTSTANDING CPU-PID KIND: one dnsperf run
# inside NETNS; records q/s and the server's CPU per 1000 queries at 100 outstanding, and the
# average latency and CPU at 1.
dnsperf_run() {
  local label=$1 netns=$2 server=$3 port=$4 file=$5 q=$6 pid=$7 kind=$8 u0 s0 u1 s1 res
  read -r u0 s0 < <(cpu_ticks "$pid")
  res=$(nsenter --net="$netns" dnsperf -s "$server" -p "$port" -d "$file" -l "$DNS_SECS" -q "$q" -c 1 -t 2 2>&1 |
    awk '/Queries completed:/ {d = $3} /Queries per second:/ {r = $4} /Average Latency/ {l = $4}
         END {printf "%d %f %f", d, r, l * 1e6}')
  read -r u1 s1 < <(cpu_ticks "$pid")
  local answered qps lat
  read -r answered qps lat <<<"$res"
  [ "${answered:-0}" -gt 0 ] || { log "$label: dnsperf got no answers from $server:$port ($kind, $q outstanding)"; return 1; }
  local cpu
  cpu=$(awk -v t=$((u1 - u0 + s1 - s0)) -v hz="$(getconf CLK_TCK)" -v d="$answered" 'BEGIN {printf "%.3f", t / hz * 1000 / d * 1000}')
  if [ "$q" = 100 ]; then
    sample dns "$kind q/s, 100 outstanding" - "$label" "$qps" "q/s"
  else
    sample dns "$kind latency, 1 outstanding" - "$label" "$lat" "µs"
  fi
  sample dns "$kind CPU per 1000 queries, $q outstanding" - "$label" "$cpu" ms
}

# 3. dns: dnsperf inside a container's namespace against the system's resolver, local names and
# names forwarded to the upstream (the trivial responder in the system's namespace); in weft's
# run also against the trivial responder itself inside the same container namespace (the ceiling).
scen_dns() {
  local y=$1 netns server port pid q r triv=
  has "${y}_dns_setup" || return 0
  "${y}_dns_setup"
  netns=$("${y}_dns_netns")
  read -r server port < <("${y}_dns_server")
  pid=$("${y}_dns_cpu_pid")
  printf 'db A\ndatabase A\n' >"$ROOT/dns-local"
  printf 'example.test A\nother.test A\n' >"$ROOT/dns-forward"
  # The resolver answers before the figures are taken (it may start with the container).
  wait_until 20 nsenter --net="$netns" dnsperf -s "$server" -p "$port" -d "$ROOT/dns-local" -n 1 -t 1 -c 1 -q 1
  if [ "$y" = weft ]; then
    nsenter --net="$netns" "$TRIVIAL" 127.0.0.12:5300 >/dev/null 2>&1 &
    triv=$!
    track_pid "$triv"
  fi
  for q in 100 1; do
    for ((r = 0; r < DNS_RUNS; r++)); do
      log "$y: dns, $q outstanding, run $((r + 1))"
      [ -z "$triv" ] || dnsperf_run "trivial responder" "$netns" 127.0.0.12 5300 "$ROOT/dns-local" "$q" "$triv" local
      dnsperf_run "$y" "$netns" "$server" "$port" "$ROOT/dns-local" "$q" "$pid" local
      dnsperf_run "$y" "$netns" "$server" "$port" "$ROOT/dns-forward" "$q" "$pid" forwarded
    done
  done
  [ -z "$triv" ] || stop_pid "$triv"
  "${y}_dns_teardown"
}

# 5. restart: the daemon restarted with N networks (stopped by SIGTERM, which also stops the
# containers, so none are there), 3 times.
scen_restart() {
  local y=$1 i want
  has "${y}_restart" || { note "- restart: not measured for $y (no daemon: netavark runs per setup)."; return 0; }
  ensure_networks "$y" "$nets"
  want=$("${y}_net_count")
  for i in 1 2 3; do
    log "$y: restart with $nets networks ($i of 3)"
    "${y}_restart" "$want" "$nets"
  done
}

# 6. memory: the daemon's RSS after its start, with N networks, and with C containers.
memory() {
  local r
  r=$("$1_rss")
  # netavark has no daemon: aardvark-dns runs only while a container with DNS is set up.
  [ "$r" != 0 ] || return 0
  sample memory "$2" "$3" "$1" "$r" MB
}

run_scenarios() {
  local y=$1
  NETS_NOW=0 CTRS_NOW=0 USER_NET=0
  if want memory; then memory "$y" "RSS with networks" 0; fi
  if want dns; then scen_dns "$y"; fi
  if want ports && has scen_ports; then scen_ports "$y"; fi
  if want network-create; then scen_network_create "$y"; fi
  if want memory && has "${y}_net_create"; then
    ensure_networks "$y" "$nets"
    memory "$y" "RSS with networks" "$nets"
  fi
  # Before attach: a restart stops the containers.
  if want restart; then scen_restart "$y"; fi
  if want memory; then memory "$y" "RSS with containers" 0; fi
  if want attach; then scen_attach "$y"; fi
  if want memory; then
    ensure_containers "$y" "$ctrs"
    memory "$y" "RSS with containers" "$ctrs"
  fi
  # Last, as it ends the containers: the daemon killed with them running, and started again.
  if want restart && has "${y}_crash_restart"; then
    ensure_containers "$y" "$ctrs"
    log "$y: restart after kill -9 with $ctrs containers running"
    "${y}_crash_restart" "$ctrs"
    CTRS_NOW=0
  fi
}

# gbits NETNS HOST PORT: one iperf3 run from NETNS, its received throughput in Gbit/s.
gbits() {
  ip netns exec "$1" iperf3 -c "$2" -p "$3" -t "$PORTS_SECS" -J |
    python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'
}

# 4. ports (`<system>_iperf_up` sets IPERF_IP: it runs in this shell, to register what it starts):
# iperf3 from the system's namespace (the host) to a container's address directly, and
# through its published port on the host's own address (192.0.2.53, on a dummy link), so the
# output-chain DNAT is on the path; runs interleaved. The time to publish the Nth port is the
# attach scenario's `run --rm -p` with N containers each publishing one.
PORTS_SECS=${PORTS_SECS:-3}
scen_ports() {
  local y=$1 ns ip r d p
  has "${y}_iperf_up" || return 0
  ensure_containers "$y" 0
  ns=$("${y}_ns")
  "${y}_iperf_up"
  ip=$IPERF_IP
  wait_until 20 ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$ip/5201"
  for ((r = 0; r < 3; r++)); do
    log "$y: ports, iperf3 run $((r + 1)) of 3"
    d=$(gbits "$ns" "$ip" 5201)
    p=$(gbits "$ns" 192.0.2.53 15201)
    sample ports "direct to the container" - "$y" "$d" Gbit/s
    sample ports "through the published port" - "$y" "$p" Gbit/s
    sample ports "published / direct" - "$y" "$(awk -v a="$p" -v b="$d" 'BEGIN {printf "%.3f", a / b}')" ratio
  done
  "${y}_iperf_down"
}
