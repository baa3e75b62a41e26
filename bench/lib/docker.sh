# shellcheck shell=bash
# bench/run's driver for Docker, a peer: Debian's docker.io (20.10), installed with a policy-rc.d
# that denies service starts (its postinst would start dockerd in the root namespace); dockerd
# started here inside a network namespace of its own with its own data root, exec root, socket,
# pidfile and cgroup parent, and stopped by its pid at the end (its containerd with it). Images
# are imported offline from a busybox-static rootfs. Driven through the docker CLI of the same
# version. Sourced by bench/run.

DOCKER_NS=weftbench-docker-$$
DOCKER_DIR=$ROOT/docker
DOCKER_SOCK="unix://$DOCKER_DIR/docker.sock"
DOCKER_CG=weftbench-docker-$$
DOCKER_PID=
DOCKER_CTRD_PID=
DOCKER_IMAGE=weftbench/busybox:1
# The CLI that comes with the daemon (a newer one may be first in PATH).
DOCKER_CLI=/usr/bin/docker

docker_install() {
  if [ -x /usr/sbin/dockerd ] && [ -x "$DOCKER_CLI" ] && command -v busybox >/dev/null; then return 0; fi
  log "installing docker.io and busybox-static (service starts denied by policy-rc.d)"
  [ ! -e /usr/sbin/policy-rc.d ] || { log "/usr/sbin/policy-rc.d exists already: not touching it"; return 1; }
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >/dev/null || rc=$?
  rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || return "$rc"
  # The package must not have started anything in the root namespace.
  if pgrep -x dockerd >/dev/null || ip link show docker0 >/dev/null 2>&1; then
    log "a dockerd or docker0 exists in the root namespace after the install: stop and remove it by hand"
    return 1
  fi
}

docker_cli() { "$DOCKER_CLI" -H "$DOCKER_SOCK" "$@"; }
# One bounded try to reach the API (the CLI waits as long as the socket accepts and the daemon has
# not answered, which at a restart with 1000 networks is minutes).
docker_api_up() { timeout 10 "$DOCKER_CLI" -H "$DOCKER_SOCK" version; }

docker_daemon_up() {
  nsenter --net="/run/netns/$DOCKER_NS" /usr/sbin/dockerd --data-root "$DOCKER_DIR/data" \
    --exec-root "$DOCKER_DIR/exec" -H "$DOCKER_SOCK" --pidfile "$DOCKER_DIR/docker.pid" \
    --cgroup-parent "/$DOCKER_CG" --default-address-pool base=10.0.0.0/8,size=24 --dns 192.0.2.53 \
    --shutdown-timeout 2 --log-level warn >>"$DOCKER_DIR/log" 2>&1 &
  DOCKER_PID=$!
  track_pid "$DOCKER_PID"
}

# The containerd dockerd started for itself: stopped by its pid too, after dockerd.
docker_track_containerd() {
  DOCKER_CTRD_PID=$(pgrep -P "$DOCKER_PID" -x containerd | head -1)
  [ -z "$DOCKER_CTRD_PID" ] || PIDS=("${PIDS[@]:0:${#PIDS[@]}-1}" "$DOCKER_CTRD_PID" "$DOCKER_PID")
}

docker_daemon_down() {
  stop_pid "$DOCKER_PID"
  [ -z "$DOCKER_CTRD_PID" ] || stop_pid "$DOCKER_CTRD_PID"
}

docker_start() {
  docker_install
  docker_check_root "before the run"
  mkdir -p "$DOCKER_DIR/rootfs/bin" "$DOCKER_DIR/rootfs/"{etc,proc,sys,dev,tmp}
  ip netns add "$DOCKER_NS"
  track_netns "$DOCKER_NS"
  track_cgroup "$DOCKER_CG"
  on_cleanup docker_kill_containers
  ip -n "$DOCKER_NS" link set lo up
  upstream_in_ns "$DOCKER_NS"
  docker_daemon_up
  wait_until 60 docker_api_up || { tail -20 "$DOCKER_DIR/log" >&2; return 1; }
  docker_track_containerd
  cp "$(command -v busybox)" "$DOCKER_DIR/rootfs/bin/busybox"
  for a in sh true sleep cat; do ln -s busybox "$DOCKER_DIR/rootfs/bin/$a"; done
  tar -C "$DOCKER_DIR/rootfs" -c . | docker_cli import - "$DOCKER_IMAGE" >/dev/null
}

# Nothing of Docker's may ever be in the root namespace: no docker0, no DOCKER chains or tables.
docker_check_root() {
  local bad=
  ip link show docker0 >/dev/null 2>&1 && bad="docker0 exists"
  iptables-save 2>/dev/null | grep -qi docker && bad="$bad; iptables rules name docker"
  nft list ruleset 2>/dev/null | grep -qi docker && bad="$bad; nftables rules name docker"
  [ -z "$bad" ] || { log "in the root namespace ($1): $bad"; return 1; }
}

# The containers' processes, found in the run's own cgroup parent, killed by pid: dockerd then has
# no container left to stop, which with hundreds of them takes it longer than a minute.
docker_kill_containers() {
  local p
  for p in $(cat /sys/fs/cgroup/pids/"$DOCKER_CG"/*/cgroup.procs /sys/fs/cgroup/"$DOCKER_CG"/*/cgroup.procs 2>/dev/null); do
    kill -9 "$p" 2>/dev/null || true
  done
}

docker_stop() {
  docker_kill_containers
  stop_pid "$DOCKER_PID" 120
  [ -z "$DOCKER_CTRD_PID" ] || stop_pid "$DOCKER_CTRD_PID" 30
  # The shims left behind are found by the run's own directory in their command line; they do not
  # end on SIGTERM once containerd is gone, so SIGKILL, by pid.
  local p
  for p in $(pgrep -f "$DOCKER_DIR" || true); do kill -9 "$p" 2>/dev/null || true; done
  docker_check_root "after the run"
}

docker_versions() { echo "docker $(docker_cli version --format '{{.Server.Version}}' 2>/dev/null)"; }
docker_ns() { echo "$DOCKER_NS"; }
# dockerd and its containerd (the per-container shims are not counted).
docker_rss() { awk -v a="$(rss_mb "$DOCKER_PID")" -v b="$(rss_mb "$DOCKER_CTRD_PID")" 'BEGIN {printf "%.1f", a + b}'; }

docker_net_create() { docker_cli network create "$1"; }
docker_net_rm() { docker_cli network rm "$1"; }
# The networks Docker makes itself (bridge, host, none) are counted as weft's are.
docker_net_count() { docker_cli network ls -q | wc -l; }

docker_user_net() { cli_user_net docker_cli; }
docker_target() { cli_target docker_cli "$DOCKER_IMAGE"; }
docker_fill() { cli_fill docker_cli "$DOCKER_IMAGE" "$1"; }
docker_run_rm() { cli_run_rm docker_cli "$DOCKER_IMAGE"; }
docker_connect() { docker_cli network connect user target; }
docker_disconnect() { docker_cli network disconnect user target; }

DOCKER_CLIENT_PID=
docker_dns_setup() { cli_dns_setup docker_cli "$DOCKER_IMAGE" DOCKER_CLIENT_PID; }
docker_dns_netns() { echo "/proc/$DOCKER_CLIENT_PID/ns/net"; }
docker_dns_server() { echo "127.0.0.11 53"; }
docker_dns_cpu_pid() { echo "$DOCKER_PID"; }
docker_dns_teardown() { cli_dns_teardown docker_cli; }

# dockerd re-runs iptables for every network before it answers: 1000 networks take minutes. Its
# containerd is a new process.
docker_restart() { restart_daemon docker "$1" "$2" 1200 600 docker_track_containerd; }

# ports: an image with iperf3 and its libraries from the host, imported offline like busybox.
docker_iperf_up() {
  local r=$DOCKER_DIR/iperf-rootfs lib
  mkdir -p "$r/usr/bin" "$r/tmp"
  cp /usr/bin/iperf3 "$r/usr/bin/"
  for lib in $(ldd /usr/bin/iperf3 | grep -o '/[^ ]*'); do cp --parents -L "$lib" "$r/"; done
  tar -C "$r" -c . | docker_cli import - weftbench/iperf3:1 >/dev/null
  docker_cli run -d --name srv --network user -p 15201:5201 weftbench/iperf3:1 /usr/bin/iperf3 -s -p 5201 >/dev/null
  IPERF_IP=$(docker_cli inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' srv)
}
docker_iperf_down() { docker_cli rm -f srv >/dev/null; }
