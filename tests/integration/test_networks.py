"""Project networks through a real berthd: a subnet per project from the pool berthd was started
with, an address per VM, egress as an audited project setting, and each node's assignment
carrying the networks of its VMs' projects with every name in them, across nodes.
"""
import subprocess
import unittest

import berth_harness as h

POOL = ["--project-subnets", "10.200.0.0/16"]


def vni(prefix):
    """A project's VNI from its subnet's "A.B.C." prefix: the number of its /24 block."""
    a, b, c = (int(x) for x in prefix.rstrip(".").split("."))
    return (a << 16) | (b << 8) | c


def network_of(assignment, project):
    return next(n for n in assignment.json["networks"] if n["project"] == project)


class NetworksTest(h.BerthdTestCase):
    berthd_args = h.NO_LIMITS + POOL

    def test_projects_and_vms_get_networks_and_nodes_get_them_all(self):
        a = self.admin
        r = a.post("/v1/projects", {"name": "net"})
        self.assertEqual(r.status, 201, r)
        # The lowest free /24s of the pool, whatever the other tests of the class took first.
        subnet = r.json["network"]["subnet"]
        self.assertRegex(subnet, r"^10\.200\.\d+\.0/24$")
        n = subnet.rsplit(".", 1)[0] + "."  # "10.200.K."
        s = a.post("/v1/projects", {"name": "sealed", "egress": "deny"}).json["network"]
        m = s["subnet"].rsplit(".", 1)[0] + "."
        self.assertEqual(r.json["network"], {"subnet": n + "0/24", "gateway": n + "1", "egress": "allow"})
        self.assertEqual(s, {"subnet": m + "0/24", "gateway": m + "1", "egress": "deny"})
        self.assertEqual(int(m.split(".")[2]), int(n.split(".")[2]) + 1)

        n1 = self.register_node("n1")
        for vm in ("web", "db"):
            r = a.post("/v1/projects/net/vms", {"name": vm, "memory_mib": 256, "disk_gib": 1})
            self.assertEqual(r.status, 201, r)
        self.assertEqual(a.get("/v1/projects/net/vms/web").json["address"], n + "2")
        self.assertEqual(a.get("/v1/projects/net/vms/db").json["address"], n + "3")
        self.assertEqual(a.post("/v1/projects/sealed/vms", {"name": "web", "disk_gib": 1}).json["address"], m + "2")
        r = a.post("/v1/projects/net/apps", {"name": "site", "command": ["httpd"], "replicas": 2})
        self.assertEqual(r.status, 201, r)
        for project, vm in (("net", "web"), ("net", "db"), ("sealed", "web")):
            self.wait_placed(project, vm, "n1")

        assignment = n1.get("/v1/nodes/n1/assignment")
        self.assertEqual(assignment.status, 200, assignment)
        addresses = {(v["project"], v["name"]): v["address"] for v in assignment.json["vms"]}
        self.assertEqual(addresses, {("net", "db"): n + "3", ("net", "web"): n + "2", ("sealed", "web"): m + "2"})
        self.assertEqual(assignment.json["networks"], [
            {"project": "net", "subnet": n + "0/24", "gateway": n + "1", "egress": "allow",
             "hosts": [{"name": "db.net.internal", "address": n + "3"},
                       {"name": "site.net.internal", "address": n + "2"},
                       {"name": "site.net.internal", "address": n + "3"},
                       {"name": "web.net.internal", "address": n + "2"}],
             "vni": vni(n), "peers": []},
            {"project": "sealed", "subnet": m + "0/24", "gateway": m + "1", "egress": "deny",
             "hosts": [{"name": "web.sealed.internal", "address": m + "2"}],
             "vni": vni(m), "peers": []},
        ])

        # A deleted VM frees its address for the next one.
        self.assertEqual(a.delete("/v1/projects/sealed/vms/web").status, 204)
        self.assertEqual(a.post("/v1/projects/sealed/vms", {"name": "again", "disk_gib": 1}).json["address"], m + "2")

    def test_egress_is_an_audited_admin_setting(self):
        a = self.admin
        self.assertEqual(a.post("/v1/projects", {"name": "egress"}).status, 201)
        seq = self.last_seq()
        r = a.patch("/v1/projects/egress", {"egress": "deny"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["network"]["egress"], "deny")
        events = self.events_after(seq)
        self.assertEqual([e["action"] for e in events], ["project.update"])
        self.assertEqual(events[0]["details"]["egress"], "deny")
        for bad in ("open", "", 1, ["deny"]):
            self.assertError(a.patch("/v1/projects/egress", {"egress": bad}), 400, "invalid_argument", "egress")
        self.assertError(a.post("/v1/projects", {"name": "x", "egress": "sometimes"}), 400, "invalid_argument",
                         "egress must be one of allow, deny")
        owner = self.client(a.post("/v1/tokens", {"name": "o", "role": "owner", "project": "egress"}).json["token"])
        self.assertError(owner.patch("/v1/projects/egress", {"egress": "allow"}), 403, "permission_denied")
        self.assertEqual(a.get("/v1/projects/egress").json["network"]["egress"], "deny")


class OverlayTest(h.BerthdTestCase):
    """Two nodes with underlay addresses, a project with a VM on each: each node's assignment
    names the other as the project's peer, with the VM it runs (docs/networking.md "Across nodes")."""
    berthd_args = h.NO_LIMITS + POOL

    def test_each_node_gets_the_other_as_the_projects_peer(self):
        a = self.admin
        # Placement goes to the node with the most free memory: n1 first, then n2, then n2 again.
        n1 = self.register_node("n1", "192.0.2.1", memory_mib=100000)
        subnet = a.post("/v1/projects", {"name": "span"}).json["network"]["subnet"]
        p = subnet.rsplit(".", 1)[0] + "."
        other = a.post("/v1/projects", {"name": "apart"}).json["network"]["subnet"].rsplit(".", 1)[0] + "."
        self.assertEqual(a.post("/v1/projects/span/vms", {"name": "web", "memory_mib": 256, "disk_gib": 1}).status, 201)
        self.wait_placed("span", "web", "n1")
        n2 = self.register_node("n2", "192.0.2.2", memory_mib=200000)
        self.assertEqual(a.post("/v1/projects/span/vms", {"name": "db", "memory_mib": 256, "disk_gib": 1}).status, 201)
        self.wait_placed("span", "db", "n2")
        self.assertEqual(a.post("/v1/projects/apart/vms", {"name": "solo", "memory_mib": 256, "disk_gib": 1}).status,
                         201)
        self.wait_placed("apart", "solo", "n2")
        nodes = {n["name"]: n for n in a.get("/v1/nodes").json["items"]}
        self.assertEqual(nodes["n1"]["address"], "192.0.2.1")

        on_n1 = network_of(n1.get("/v1/nodes/n1/assignment"), "span")
        self.assertEqual(on_n1["vni"], vni(p))
        self.assertEqual(on_n1["peers"], [{"node": "n2", "address": "192.0.2.2",
                                           "vms": [{"name": "db", "address": p + "3"}]}])
        on_n2 = n2.get("/v1/nodes/n2/assignment")
        self.assertEqual(network_of(on_n2, "span")["vni"], vni(p))
        self.assertEqual(network_of(on_n2, "span")["peers"], [{"node": "n1", "address": "192.0.2.1",
                                                               "vms": [{"name": "web", "address": p + "2"}]}])
        # Another project's network has its own VNI and, all on n2, no peer.
        self.assertEqual(network_of(on_n2, "apart")["vni"], vni(other))
        self.assertNotEqual(vni(other), vni(p))
        self.assertEqual(network_of(on_n2, "apart")["peers"], [])

        # An agent before overlays registers without an address: n2 is then no peer, nor has any.
        self.assertEqual(n2.post("/v1/nodes", {"name": "n2", "capacity": {"vcpus": 8, "memory_mib": 200000,
                                                                            "disk_gib": 100}}).status, 200)
        self.assertEqual(network_of(n1.get("/v1/nodes/n1/assignment"), "span")["peers"], [])
        self.assertEqual(network_of(n2.get("/v1/nodes/n2/assignment"), "span")["peers"], [])

    def test_a_node_address_must_be_an_ipv4_address(self):
        node = self.berthd.client(self.admin.post("/v1/tokens", {"name": "n9", "role": "node"}).json["token"])
        for bad in ("node-9.example", "192.0.2.9:7070", "192.0.2.09", "::1", 7):
            r = node.post("/v1/nodes", {"name": "n9", "address": bad,
                                        "capacity": {"vcpus": 1, "memory_mib": 512, "disk_gib": 1}})
            self.assertEqual(r.status, 400, (bad, r))
            self.assertEqual(r.error_code(), "invalid_argument", r)


class PoolTest(unittest.TestCase):
    def test_a_bad_pool_is_a_usage_error(self):
        for pool in ("10.200.0.1/16", "10.200.0.0", "banana", "10.200.0.0/33"):
            r = subprocess.run([h.BERTHD, "--data", "/nonexistent", "--project-subnets", pool],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, (pool, r.stderr))
            self.assertIn("--project-subnets", r.stdout + r.stderr)

    def test_changing_the_pool_moves_no_project(self):
        berthd = h.Berthd(h.NO_LIMITS + POOL)
        self.addCleanup(berthd.close)
        berthd.start()
        self.assertEqual(berthd.admin().post("/v1/projects", {"name": "kept"}).json["network"]["subnet"],
                         "10.200.0.0/24")
        self.assertEqual(berthd.stop(), 0)
        berthd.extra_args = h.NO_LIMITS + ["--project-subnets", "172.30.0.0/16", "--project-subnet-prefix", "28"]
        berthd.start()
        a = berthd.admin()
        self.assertEqual(a.get("/v1/projects/kept").json["network"]["subnet"], "10.200.0.0/24")
        self.assertEqual(a.post("/v1/projects", {"name": "new"}).json["network"],
                         {"subnet": "172.30.0.0/28", "gateway": "172.30.0.1", "egress": "allow"})
        self.assertEqual(berthd.stop(), 0)


if __name__ == "__main__":
    h.main()
