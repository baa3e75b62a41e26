# shellcheck shell=bash
# bench/run's driver for netavark and aardvark-dns, peers: `cargo install`ed into bench/.peers
# (kept between runs, never committed), driven through netavark's own CLI as Podman drives it
# (`netavark --config DIR setup|teardown NETNS` with the JSON network options on stdin: a bridge
# network with a subnet, dns_enabled, one port mapping), in a namespace of its own that plays the
# host, with one named namespace per container. netavark starts aardvark-dns itself (there is no
# systemd here, so as a plain child); it is stopped by the pid in its pidfile at the end. There is
# no daemon and no network object outside a container's setup, so network-create and restart do
# not apply. Sourced by bench/run.

NV_NS=weftbench-nv-$$
NV_DIR=$ROOT/netavark
NV_PEERS=$REPO/bench/.peers
NV_BIN=$NV_PEERS/bin/netavark
AV_BIN=$NV_PEERS/bin/aardvark-dns
NV_VERSION=2.1.0

netavark_install() {
  if [ -x "$NV_BIN" ] && [ -x "$AV_BIN" ]; then return 0; fi
  command -v protoc >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null
  log "cargo install netavark and aardvark-dns $NV_VERSION into bench/.peers (about 5 min each on 2 cores)"
  cargo install --locked --root "$NV_PEERS" "netavark@$NV_VERSION" "aardvark-dns@$NV_VERSION"
}

# nv NETAVARK-ARGS...: netavark in the host namespace of this peer. `ip netns exec` gives it a
# /sys of that namespace; no firewalld (no D-Bus), the nftables driver.
nv() {
  ip netns exec "$NV_NS" env NETAVARK_FW=nftables DBUS_SYSTEM_BUS_ADDRESS= \
    "$NV_BIN" --config "$NV_DIR/config" --rootless false -a "$AV_BIN" "$@"
}

# nv_json ID NAME NETWORK SUBNET GATEWAY IP PORT ALIAS: the options Podman passes for one
# container on one bridge network with DNS (PORT and ALIAS may be empty).
nv_json() {
  local ports="" aliases="\"$2\"" netid
  [ -z "$7" ] || ports="\"port_mappings\": [{\"host_ip\": \"\", \"container_port\": ${NV_CPORT:-80}, \"host_port\": $7, \"range\": 1, \"protocol\": \"tcp\"}],"
  [ -z "$8" ] || aliases="$aliases, \"$8\""
  netid=$(printf '%s' "$3" | sha256sum | cut -c1-64)
  cat <<EOF
{
  "container_id": "$1",
  "container_name": "$2",
  $ports
  "dns_servers": ["192.0.2.53"],
  "networks": {"$3": {"static_ips": ["$6"], "aliases": [$aliases], "interface_name": "eth0"}},
  "network_info": {"$3": {
    "name": "$3", "id": "$netid", "driver": "bridge", "network_interface": "wbnv-$3",
    "subnets": [{"subnet": "$4", "gateway": "$5"}],
    "ipv6_enabled": false, "internal": false, "dns_enabled": true,
    "ipam_options": {"driver": "host-local"}
  }}
}
EOF
}

# nv_ctr NAME NETNS-NAME: the JSON file of a container, written once.
nv_file() { echo "$NV_DIR/ctr-$1.json"; }

netavark_start() {
  netavark_install
  mkdir -p "$NV_DIR/config"
  ip netns add "$NV_NS"
  track_netns "$NV_NS"
  ip -n "$NV_NS" link set lo up
  upstream_in_ns "$NV_NS"
  on_cleanup netavark_stop
}

netavark_stop() {
  local p
  p=$(netavark_aardvark_pid)
  # Only if that pid is still our aardvark-dns (a pidfile may outlive its process).
  if [ -n "$p" ] && [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$AV_BIN" ]; then stop_pid "$p"; fi
  return 0
}

netavark_versions() { echo "$("$NV_BIN" --version 2>/dev/null), $("$AV_BIN" --version 2>/dev/null)"; }
netavark_ns() { echo "$NV_NS"; }
netavark_aardvark_pid() { cat "$NV_DIR/config/aardvark-dns/aardvark.pid" 2>/dev/null; }
# netavark runs only during a setup or teardown: what stays is aardvark-dns.
netavark_rss() {
  local p
  p=$(netavark_aardvark_pid)
  if [ -n "$p" ] && [ -d "/proc/$p" ]; then rss_mb "$p"; else echo 0; fi
}

# nv_up NAME IP PORT [NETWORK SUBNET GATEWAY ALIAS]: a named namespace for container NAME, set up.
nv_up() {
  local ns=weftbench-nvc-$$-$1 id
  id=$(printf '%s' "$1" | sha256sum | cut -c1-64)
  ip netns add "$ns"
  track_netns "$ns"
  nv_json "$id" "$1" "${4:-user}" "${5:-10.200.0.0/16}" "${6:-10.200.0.1}" "$2" "$3" "${7:-}" >"$(nv_file "$1")"
  nv -f "$(nv_file "$1")" setup "/run/netns/$ns" >/dev/null
}
nv_down() {
  nv -f "$(nv_file "$1")" teardown "/run/netns/weftbench-nvc-$$-$1" >/dev/null
  ip netns del "weftbench-nvc-$$-$1"
}

netavark_user_net() { :; }
netavark_fill() { nv_up "f$1" "10.200.$(($1 / 250 + 1)).$(($1 % 250 + 2))" "$((20000 + $1))"; }
# attach: `netavark setup` of a fresh namespace, with one port and DNS; detach: its teardown.
# Making and deleting the namespace itself is not counted (Podman makes it before).
netavark_connect() {
  local ns=weftbench-nvc-$$-probe id
  id=$(printf probe | sha256sum | cut -c1-64)
  nv_json "$id" probe user 10.200.0.0/16 10.200.0.1 10.200.255.250 18080 "" >"$(nv_file probe)"
  ip netns add "$ns"
  track_netns "$ns"
  local t0 t1
  t0=$(now)
  nv -f "$(nv_file probe)" setup "/run/netns/$ns" >/dev/null
  t1=$(now)
  NV_LAST_MS=$(ms_of $((t1 - t0)))
}
netavark_disconnect() {
  local t0 t1
  t0=$(now)
  nv -f "$(nv_file probe)" teardown "/run/netns/weftbench-nvc-$$-probe" >/dev/null
  t1=$(now)
  NV_LAST_MS=$(ms_of $((t1 - t0)))
  ip netns del "weftbench-nvc-$$-probe"
}

netavark_dns_setup() {
  nv_up db 10.210.0.2 "" app 10.210.0.0/24 10.210.0.1 database
  nv_up client 10.210.0.3 "" app 10.210.0.0/24 10.210.0.1
}
netavark_dns_netns() { echo "/run/netns/weftbench-nvc-$$-client"; }
netavark_dns_server() { echo "10.210.0.1 53"; }
netavark_dns_cpu_pid() { netavark_aardvark_pid; }
netavark_dns_teardown() {
  nv_down client
  nv_down db
}

# ports: a namespace set up with port 15201 -> 5201 and an iperf3 server in it; its address in IPERF_IP.
NV_IPERF_PID=
netavark_iperf_up() {
  NV_CPORT=5201 nv_up srv 10.200.255.249 15201 >/dev/null
  nsenter --net="/run/netns/weftbench-nvc-$$-srv" iperf3 -s -p 5201 >/dev/null 2>&1 &
  NV_IPERF_PID=$!
  track_pid "$NV_IPERF_PID"
  IPERF_IP=10.200.255.249
}
netavark_iperf_down() {
  stop_pid "$NV_IPERF_PID"
  nv_down srv
}
