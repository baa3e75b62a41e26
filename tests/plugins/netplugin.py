"""A remote network driver for weft's tests that does real networking with `ip`, in the namespace
it runs in: a bridge per network (CreateNetwork, with the gateway address), a veth pair per
endpoint with its host end on the bridge (CreateEndpoint), the other end handed over at Join.

Names derive from the ids, so a restarted plugin can still delete what an earlier one made.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server  # noqa: E402

gateways = {}


def ip(*args, check=True):
    r = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise server.PluginError("ip %s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def bridge(network_id):
    return "tpb" + network_id[:8]


def veth(endpoint_id):
    return "tpv" + endpoint_id[:8], "tpc" + endpoint_id[:8]


def create_network(req):
    nid = req["NetworkID"]
    br = bridge(nid)
    ip("link", "add", "name", br, "type", "bridge")
    for d in req.get("IPv4Data") or []:
        if d.get("Gateway"):
            ip("addr", "add", d["Gateway"], "dev", br)
            gateways[nid] = d["Gateway"].split("/")[0]
    ip("link", "set", br, "up")
    return {}


def delete_network(req):
    ip("link", "del", bridge(req["NetworkID"]), check=False)
    gateways.pop(req["NetworkID"], None)
    return {}


def create_endpoint(req):
    host, peer = veth(req["EndpointID"])
    ip("link", "add", "name", host, "type", "veth", "peer", "name", peer)
    ip("link", "set", host, "master", bridge(req["NetworkID"]))
    ip("link", "set", host, "up")
    return {"Interface": {}}


def delete_endpoint(req):
    ip("link", "del", veth(req["EndpointID"])[0], check=False)
    return {}


def join(req):
    answer = {"InterfaceName": {"SrcName": veth(req["EndpointID"])[1], "DstPrefix": "eth"}}
    gw = gateways.get(req["NetworkID"])
    if gw:
        answer["Gateway"] = gw
    return answer


HANDLERS = {
    "Plugin.Activate": lambda req: {"Implements": ["NetworkDriver"]},
    "NetworkDriver.GetCapabilities": lambda req: {"Scope": "local", "ConnectivityScope": "local"},
    "NetworkDriver.CreateNetwork": create_network,
    "NetworkDriver.DeleteNetwork": delete_network,
    "NetworkDriver.CreateEndpoint": create_endpoint,
    "NetworkDriver.DeleteEndpoint": delete_endpoint,
    "NetworkDriver.EndpointOperInfo": lambda req: {"Value": {}},
    "NetworkDriver.Join": join,
    "NetworkDriver.Leave": lambda req: {},
    "NetworkDriver.DiscoverNew": lambda req: {},
    "NetworkDriver.DiscoverDelete": lambda req: {},
}

if __name__ == "__main__":
    server.serve(server.parse_args(__doc__), HANDLERS, "Err")
