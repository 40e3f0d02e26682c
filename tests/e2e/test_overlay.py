"""A project's network across nodes, tested from inside real guests (docs/networking.md "Across
nodes").

Two nodes on one machine: each a network namespace of its own running a standalone berth-agent
(--network bridged, with its own data directory and --underlay-address), the two joined by a veth
pair (the underlay, 192.0.2.0/24), each joined to the root namespace by another veth over which it
reaches berthd (198.18.N.0/24). Project ov-a has VM a1 on one node and a2 on the other; project
ov-b has b1 beside a2. Each VM serves its own name on port 8080.

From inside the guests: a1 reaches a2 by address and by name across the tunnel, and a2 reaches a1;
b1 is unreachable from a1 and reaches neither of ov-a's VMs; each guest's gateway is its own node's
bridge. From outside: VXLAN packets into ov-a's VNI from an address that is not one of its peers
never reach the tunnel, while the same packets from the peer do. Needs root."""
import concurrent.futures
import hashlib
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import berth_harness as h  # noqa: E402
import test_vms as vms  # noqa: E402  (its helpers; its tests are not collected here)

AGENT = None  # set from --agent
NODES = ("n1", "n2")
NS = {"n1": "berth-ovl-n1", "n2": "berth-ovl-n2"}
UNDERLAY = {"n1": "192.0.2.11", "n2": "192.0.2.12"}
CONTROL = {"n1": 1, "n2": 2}  # 198.18.N.1 in the root namespace, 198.18.N.2 in the node's
VXLAN_PORT = 4789


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def in_ns(node, *args):
    return ["ip", "netns", "exec", NS[node], *args]


def vxlan_name(project):
    """The agent's name for the project's VXLAN device (src/agent/network/network_plan.cc)."""
    return "bx-" + hashlib.sha256(f"vxlan\n{project}".encode()).hexdigest()[:10]


def bridge_name(project):
    return "bb-" + hashlib.sha256(f"bridge\n{project}".encode()).hexdigest()[:10]


class Nodes:
    """The two node namespaces, their underlay and their links to the root namespace."""

    def __init__(self):
        self.close()  # a killed run's leftovers
        for node in NODES:
            run("ip", "netns", "add", NS[node])
            run("ip", "-n", NS[node], "link", "set", "lo", "up")
            n = CONTROL[node]
            root_end = f"bovl-c{n}"
            run("ip", "link", "add", root_end, "type", "veth", "peer", "name", "ctl0", "netns", NS[node])
            run("ip", "addr", "add", f"198.18.{n}.1/24", "dev", root_end)
            run("ip", "link", "set", root_end, "up")
            run("ip", "-n", NS[node], "addr", "add", f"198.18.{n}.2/24", "dev", "ctl0")
            run("ip", "-n", NS[node], "link", "set", "ctl0", "up")
        run("ip", "-n", NS["n1"], "link", "add", "ul0", "type", "veth", "peer", "name", "ul0", "netns", NS["n2"])
        for node in NODES:
            run("ip", "-n", NS[node], "addr", "add", UNDERLAY[node] + "/24", "dev", "ul0")
            run("ip", "-n", NS[node], "link", "set", "ul0", "up")
        # The root namespace is no peer; it reaches each node's underlay address over its control link.
        for node in NODES:
            run("ip", "route", "add", UNDERLAY[node] + "/32", "via", f"198.18.{CONTROL[node]}.2")

    def close(self):
        for node in NODES:
            subprocess.run(["ip", "route", "del", UNDERLAY[node] + "/32"], capture_output=True)
        for node in NODES:
            subprocess.run(["ip", "netns", "del", NS[node]], capture_output=True)
            subprocess.run(["ip", "link", "del", f"bovl-c{CONTROL[node]}"], capture_output=True)


def send_vxlan(vni, destination, count, namespace=None):
    """Sends `count` VXLAN packets for `vni` to `destination`:4789, each an Ethernet broadcast (an
    ARP request), from the root namespace or from `namespace`."""
    script = f"""
import socket, struct
header = struct.pack("!B3xI", 0x08, {vni} << 8)
frame = b"\\xff" * 6 + bytes.fromhex("02aabbccddee") + b"\\x08\\x06" + bytes(28)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range({count}):
    s.sendto(header + frame, ("{destination}", {VXLAN_PORT}))
"""
    argv = [sys.executable, "-c", script]
    if namespace:
        argv = ["ip", "netns", "exec", namespace, *argv]
    subprocess.run(argv, check=True, capture_output=True, timeout=30)


def rx_packets(node, device):
    stats = json.loads(run("ip", "-n", NS[node], "-s", "-j", "link", "show", "dev", device))
    return stats[0]["stats64"]["rx"]["packets"]


class OverlayTest(vms.VmTestBase):
    # No --dev: the only agents are the two nodes', which reach berthd on their control links.
    berthd_args = h.NO_LIMITS
    berthd_listen = "0.0.0.0:0"
    # The nodes' networks are in their namespaces, which go with them: the root namespace's bridges
    # and berth tables are another test's (this one needs no lock on them).
    root_networks = False

    @classmethod
    def setUpClass(cls):
        cls.nodes = Nodes()
        cls.addClassCleanup(cls.nodes.close)  # runs last: after the VMs and agents are gone
        super().setUpClass()
        port = cls.berthd.address.rsplit(":", 1)[1]
        cls.agents = {}
        for node in NODES:
            token = cls.admin.post("/v1/tokens", {"name": node, "role": "node"}).json["token"]
            # Under berthd's data directory, so that kill_vms finds the agents, their QEMUs,
            # resolvers and proxies by it.
            data = os.path.join(cls.berthd.data_dir, "agent-" + node)
            os.makedirs(data)
            token_file = os.path.join(data, "node.token")
            with open(token_file, "w") as f:
                f.write(token + "\n")
            log = open(os.path.join(data, "agent.log"), "ab")
            cls.addClassCleanup(log.close)
            cls.agents[node] = subprocess.Popen(
                in_ns(node, AGENT, "--server", f"http://198.18.{CONTROL[node]}.1:{port}",
                      "--token-file", token_file, "--name", node, "--data", data, "--network", "bridged",
                      "--underlay-address", UNDERLAY[node], "--ingress", "none"),
                stdout=log, stderr=subprocess.STDOUT)
        cls.wait_for(lambda: {n["name"]: n for n in cls.admin.get("/v1/nodes").json["items"]}.keys() >= set(NODES),
                     "both agents to register")
        nodes = {n["name"]: n for n in cls.admin.get("/v1/nodes").json["items"]}
        for node in NODES:
            assert nodes[node]["address"] == UNDERLAY[node], nodes[node]

        for project in ("ov-a", "ov-b"):
            r = cls.admin.post("/v1/projects", {"name": project, "egress": "deny"})
            assert r.status == 201, r
        # Placement goes to the node with the most free memory: a1 to one node, a2 to the other,
        # then b1 beside a2.
        cls.sites = {"a1": "ov-a", "a2": "ov-a", "b1": "ov-b"}
        cls.node_of = {}
        for vm, memory in (("a1", 512), ("a2", 256), ("b1", 256)):
            project = cls.sites[vm]
            r = cls.admin.post(f"/v1/projects/{project}/vms", {"name": vm, "memory_mib": memory})
            assert r.status == 201, r
            cls.wait_for(lambda: cls.admin.get(f"/v1/projects/{project}/vms/{vm}").json["node"], f"{vm} placed")
            cls.node_of[vm] = cls.admin.get(f"/v1/projects/{project}/vms/{vm}").json["node"]
        assert cls.node_of["a1"] != cls.node_of["a2"] == cls.node_of["b1"], cls.node_of

    @classmethod
    def wait_for(cls, condition, what, seconds=30):
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; agent logs:\n{cls.agent_logs()}")
            time.sleep(0.2)

    @classmethod
    def agent_logs(cls):
        out = ""
        for node in NODES:
            path = os.path.join(cls.berthd.data_dir, "agent-" + node, "agent.log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    out += f"--- {node}\n" + f.read()[-3000:]
        return out

    def setUp(self):
        # Deployed once, by the first test, so that a failure shows in a test and not in setUpClass.
        if getattr(OverlayTest, "deployed", False):
            return
        # The CLI waits for a published port on 127.0.0.1 of the VM's node: it runs in that
        # node's namespace. The three deploys boot their VMs at once.
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            results = list(pool.map(self.deploy_site, self.sites))
        for vm, (code, out, err) in zip(self.sites, results):
            self.assertEqual(code, 0, f"deploy of {vm} failed: {out}\n{err}\n{self.agent_logs()}")
        OverlayTest.deployed = True

    def deploy_site(self, vm):
        site = self.site(vm)
        node = self.node_of[vm]
        # berthd, from the node's namespace, is at the root end of its control link.
        env = dict(self.env, BERTH_URL=f"http://198.18.{CONTROL[node]}.1:{self.berthd.address.rsplit(':', 1)[1]}")
        r = subprocess.run(in_ns(node, h.BERTH, "deploy", "site-" + vm, "--project", self.sites[vm],
                                 "--dir", site, "--port", "8080", "--host-port", str(vms.free_port()),
                                 "--timeout", str(vms.BOOT_SECONDS * 2), "--vm", vm, "--",
                                 "busybox", "httpd", "-f", "-p", "8080"),
                           capture_output=True, text=True, env=env, timeout=vms.BOOT_SECONDS * 2 + 60)
        return r.returncode, r.stdout, r.stderr

    def address(self, vm):
        return self.admin.get(f"/v1/projects/{self.sites[vm]}/vms/{vm}").json["address"]

    def sh(self, vm, script):
        code, out, err = self.berth("exec", "site-" + vm, "-p", self.sites[vm], "--", "sh", "-c", script)
        self.assertEqual(code, 0, err)
        return out.strip()

    def wget(self, vm, url):
        """What `url` answers from inside `vm`, or "failed: <status>" (busybox's wget -T crashes;
        timeout bounds a connection whose packets are dropped)."""
        return self.sh(vm, f"timeout 5 busybox wget -q -O - '{url}' 2>&1 || echo \"failed: $?\"")

    def resolve(self, vm, name):
        """The address the guest's resolver gives `name`, or "" (bounded past one glibc retry)."""
        return self.sh(vm, f"timeout 12 busybox nslookup {name} 2>/dev/null | "
                           "awk '/^Name:/ {found=1} found && /^Address/ {print $NF; exit}'")

    def test_a_guest_reaches_its_project_on_the_other_node_by_address_and_name(self):
        self.assertEqual(self.wget("a1", f"http://{self.address('a2')}:8080/"), "a2", self.agent_logs())
        self.assertEqual(self.wget("a2", f"http://{self.address('a1')}:8080/"), "a1")
        self.assertEqual(self.resolve("a1", "a2.ov-a.internal"), self.address("a2"))
        self.assertEqual(self.resolve("a2", "site-a1.ov-a.internal"), self.address("a1"))
        self.assertEqual(self.wget("a1", "http://a2.ov-a.internal:8080/"), "a2")
        # A frame crosses the tunnel whole: the guests' MTU leaves room for VXLAN.
        self.assertEqual(self.sh("a1", "cat /sys/class/net/eth0/mtu"), "1450")

    def test_each_guests_gateway_is_its_own_nodes_bridge(self):
        self.wget("a1", "http://a2.ov-a.internal:8080/")  # the gateway (the resolver) is asked
        for vm in ("a1", "a2"):
            gateway = self.admin.get("/v1/projects/ov-a").json["network"]["gateway"]
            arp = self.sh(vm, "cat /proc/net/arp")
            mac = next((line.split()[3] for line in arp.splitlines() if line.split()[0] == gateway), None)
            link = json.loads(run("ip", "-n", NS[self.node_of[vm]], "-j", "link", "show", "dev",
                                  bridge_name("ov-a")))
            self.assertEqual(mac, link[0]["address"], f"{vm}'s ARP table:\n{arp}")

    def test_another_project_on_the_other_node_is_unreachable(self):
        self.assertEqual(self.wget("a2", f"http://{self.address('a2')}:8080/"), "a2")  # the probe works
        self.assertIn("failed", self.wget("a1", f"http://{self.address('b1')}:8080/"))
        self.assertIn("failed", self.wget("b1", f"http://{self.address('a1')}:8080/"))
        self.assertIn("failed", self.wget("b1", f"http://{self.address('a2')}:8080/"))
        self.assertEqual(self.resolve("b1", "a1.ov-a.internal"), "")

    def test_only_the_projects_peers_reach_its_tunnel(self):
        subnet = self.admin.get("/v1/projects/ov-a").json["network"]["subnet"]
        base = socket.inet_aton(subnet.split("/")[0])
        vni = int.from_bytes(base[:3], "big")
        n1 = self.node_of["a1"]
        other = "n2" if n1 == "n1" else "n1"
        device = vxlan_name("ov-a")
        # From the root namespace (no peer), at the node's underlay address: dropped before the
        # tunnel. Idle guests send a little of their own, hence a margin.
        before = rx_packets(n1, device)
        send_vxlan(vni, UNDERLAY[n1], 50)
        self.assertLess(rx_packets(n1, device) - before, 10)
        # Each project has a VNI of its own.
        b_subnet = self.admin.get("/v1/projects/ov-b").json["network"]["subnet"]
        self.assertNotEqual(socket.inet_aton(b_subnet.split("/")[0])[:3], base[:3])
        # From the peer: the same packets reach the tunnel.
        before = rx_packets(n1, device)
        send_vxlan(vni, UNDERLAY[n1], 50, namespace=NS[other])
        self.assertGreaterEqual(rx_packets(n1, device) - before, 50)


def main():
    global AGENT
    args = sys.argv[1:]
    if "--agent" not in args or args.index("--agent") + 1 >= len(args):
        sys.exit("usage: test_overlay.py --berthd BERTHD --berth BERTH --agent BERTH_AGENT")
    i = args.index("--agent")
    AGENT = os.path.abspath(args[i + 1])
    del sys.argv[i + 1:i + 3]
    h.main()


if __name__ == "__main__":
    main()
