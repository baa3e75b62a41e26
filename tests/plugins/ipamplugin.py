"""A remote IPAM driver for weft's tests: /24 pools under a base taken from the `base` option
(--ipam-opt base=10.77; default 10.123), the gateway the .1 of its pool, other addresses from .2.
Its allocations are written to --state after every call, so tests can see what is still held.
"""

import ipaddress
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server  # noqa: E402

pools = {}  # pool id -> {"subnet": str, "addresses": [str]}
state_path = None


def save():
    if state_path:
        tmp = state_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(pools, f)
        os.replace(tmp, state_path)


def request_pool(req):
    # Pools are asked in the space GetDefaultAddressSpaces gave, as Docker asks them.
    if req.get("AddressSpace") not in ("tplocal", "tpglobal"):
        raise server.PluginError("unknown address space %r" % req.get("AddressSpace"))
    if req.get("V6"):
        raise server.PluginError("this test IPAM has no IPv6 pools")
    if req.get("Pool"):
        subnet = str(ipaddress.ip_network(req["Pool"]))
    else:
        base = (req.get("Options") or {}).get("base", "10.123")
        taken = {p["subnet"] for p in pools.values()}
        subnet = next((s for s in ("%s.%d.0/24" % (base, n) for n in range(256)) if s not in taken), None)
        if subnet is None:
            raise server.PluginError("no free pool under %s" % base)
    pool_id = "tp-" + subnet
    if pool_id in pools:
        raise server.PluginError("pool %s is in use" % subnet)
    pools[pool_id] = {"subnet": subnet, "addresses": []}
    save()
    return {"PoolID": pool_id, "Pool": subnet, "Data": {}}


def release_pool(req):
    if pools.pop(req["PoolID"], None) is None:
        raise server.PluginError("unknown pool %s" % req["PoolID"])
    save()
    return {}


def request_address(req):
    pool = pools.get(req["PoolID"])
    if pool is None:
        raise server.PluginError("unknown pool %s" % req["PoolID"])
    net = ipaddress.ip_network(pool["subnet"])
    gateway = (req.get("Options") or {}).get("RequestAddressType") == "com.docker.network.gateway"
    if req.get("Address"):
        addr = req["Address"]
    elif gateway:
        addr = str(net.network_address + 1)
    else:
        addr = next((str(a) for a in list(net.hosts())[1:] if str(a) not in pool["addresses"]), None)
        if addr is None:
            raise server.PluginError("pool %s is full" % pool["subnet"])
    if addr in pool["addresses"]:
        raise server.PluginError("address %s is in use" % addr)
    pool["addresses"].append(addr)
    save()
    return {"Address": "%s/%d" % (addr, net.prefixlen), "Data": {}}


def release_address(req):
    pool = pools.get(req["PoolID"])
    if pool is None or req["Address"] not in pool["addresses"]:
        raise server.PluginError("address %s is not allocated" % req["Address"])
    pool["addresses"].remove(req["Address"])
    save()
    return {}


HANDLERS = {
    "Plugin.Activate": lambda req: {"Implements": ["IpamDriver"]},
    "IpamDriver.GetCapabilities": lambda req: {"RequiresMACAddress": False},
    "IpamDriver.GetDefaultAddressSpaces": lambda req: {
        "LocalDefaultAddressSpace": "tplocal",
        "GlobalDefaultAddressSpace": "tpglobal",
    },
    "IpamDriver.RequestPool": request_pool,
    "IpamDriver.ReleasePool": release_pool,
    "IpamDriver.RequestAddress": request_address,
    "IpamDriver.ReleaseAddress": release_address,
}

if __name__ == "__main__":
    args = server.parse_args(__doc__, "--state")
    state_path = args.state
    server.serve(args, HANDLERS, "Error")
