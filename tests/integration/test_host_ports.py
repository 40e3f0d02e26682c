"""Host ports through a real berthd: a published port is held by one app of one project across
the whole cluster, inside the range the operator allows; a second claim is 409 naming neither
the holder nor its project, and writes nothing.
"""
import subprocess
import unittest

import berth_harness as h

TAKEN = "host port 18080 is already published by another app"


def app(name, host_port, **more):
    return {"name": name, "command": ["httpd"], "ports": [{"port": 8080, "host_port": host_port}], **more}


def ports(host_port):
    return {"ports": [{"port": 8080, "host_port": host_port}]}


class HostPortsTest(h.BerthdTestCase):
    berthd_args = h.NO_LIMITS

    def project(self, name):
        self.assertEqual(self.admin.post("/v1/projects", {"name": name}).status, 201)
        owner = self.admin.post("/v1/tokens", {"name": name + "-owner", "role": "owner", "project": name})
        return self.client(owner.json["token"])

    def assertTaken(self, resp, message=TAKEN):
        self.assertError(resp, 409, "conflict")
        self.assertEqual(resp.error_message(), message)
        for secret in ("alpha", "beta", "site", "shop"):
            self.assertNotIn(secret, resp.error_message())

    def test_a_port_is_one_apps_until_it_lets_go(self):
        alpha, beta = self.project("alpha"), self.project("beta")
        self.assertEqual(alpha.post("/v1/projects/alpha/apps", app("site", 18080)).status, 201)
        seq = self.last_seq()

        # Another project: refused, and nothing written (no app, no VM for its replica, no event).
        self.assertTaken(beta.post("/v1/projects/beta/apps", app("shop", 18080)))
        self.assertEqual(beta.get("/v1/projects/beta/apps/shop").status, 404)
        self.assertEqual(beta.get("/v1/projects/beta/vms").json["items"], [])
        self.assertEqual(self.events_after(seq), [])
        # The same project's other app is refused alike.
        self.assertTaken(alpha.post("/v1/projects/alpha/apps", app("other", 18080, vm="site-1")))

        # A patch onto the port: no release.
        r = beta.post("/v1/projects/beta/apps", app("shop", 18081))
        self.assertEqual(r.status, 201, r)
        self.assertTaken(beta.patch("/v1/projects/beta/apps/shop", ports(18080)))
        self.assertEqual(beta.get("/v1/projects/beta/apps/shop").json["release"], 1)
        self.assertEqual(len(beta.get("/v1/projects/beta/apps/shop/releases").json["items"]), 1)

        # The holder redeploys on its own port freely.
        r = alpha.patch("/v1/projects/alpha/apps/site", {"env": {"MODE": "v2"}, **ports(18080)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["release"], 2)

        # Deleting the holder frees the port for anyone.
        self.assertEqual(alpha.delete("/v1/projects/alpha/apps/site").status, 204)
        r = beta.patch("/v1/projects/beta/apps/shop", ports(18080))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["release"], 2)
        # ...and the port the patch left is free again too.
        self.assertEqual(alpha.post("/v1/projects/alpha/apps", app("site", 18081)).status, 201)

    def test_a_rollback_claims_its_releases_ports_or_is_refused(self):
        gamma, delta = self.project("gamma"), self.project("delta")
        self.assertEqual(gamma.post("/v1/projects/gamma/apps", app("web", 18090)).status, 201)
        self.assertEqual(gamma.patch("/v1/projects/gamma/apps/web", ports(18091)).json["release"], 2)
        self.assertEqual(delta.post("/v1/projects/delta/apps", app("api", 18090)).status, 201)
        seq = self.last_seq()

        self.assertTaken(gamma.post("/v1/projects/gamma/apps/web/rollback", {"to": 1}),
                         "host port 18090 is already published by another app")
        self.assertEqual(gamma.get("/v1/projects/gamma/apps/web").json["release"], 2)
        self.assertEqual(len(gamma.get("/v1/projects/gamma/apps/web/releases").json["items"]), 2)
        self.assertEqual(self.events_after(seq), [])

        self.assertEqual(delta.delete("/v1/projects/delta/apps/api").status, 204)
        r = gamma.post("/v1/projects/gamma/apps/web/rollback", {"to": 1})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["release"], 3)
        self.assertEqual(r.json["spec"]["ports"], [{"port": 8080, "protocol": "tcp", "host_port": 18090}])
        # 18091, which release 2 published, went with the rollback.
        self.assertEqual(delta.post("/v1/projects/delta/apps", app("api", 18091)).status, 201)

    def test_ports_outside_the_operators_range_are_refused_naming_it(self):
        eps = self.project("eps")
        seq = self.last_seq()
        for port in (80, 1023):
            self.assertError(eps.post("/v1/projects/eps/apps", app("low", port)), 400, "invalid_argument",
                             f"host port {port} is outside the range this platform publishes (1024-65535)")
        self.assertEqual(self.events_after(seq), [])
        self.assertEqual(eps.get("/v1/projects/eps/vms").json["items"], [])


class RangeTest(unittest.TestCase):
    def test_a_bad_range_is_a_usage_error(self):
        for bad in ("80", "0-100", "2000-1000", "1024-65536", "low-high"):
            r = subprocess.run([h.BERTHD, "--data", "/nonexistent", "--host-ports", bad],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            lines = (r.stdout + r.stderr).strip().splitlines()
            self.assertIn("--host-ports", lines[0])
            self.assertIn("LOW-HIGH", lines[0])

    def test_the_operator_sets_the_range_and_narrowing_it_moves_no_app(self):
        berthd = h.Berthd(h.NO_LIMITS + ["--host-ports", "80-65535"])
        self.addCleanup(berthd.close)
        berthd.start()
        a = berthd.admin()
        self.assertEqual(a.post("/v1/projects", {"name": "ops"}).status, 201)
        self.assertEqual(a.post("/v1/projects/ops/apps", app("web", 80)).status, 201)
        self.assertEqual(berthd.stop(), 0)

        berthd.extra_args = h.NO_LIMITS + ["--host-ports", "20000-20100"]
        berthd.start()
        a = berthd.admin()
        r = a.patch("/v1/projects/ops/apps/web", {"env": {"MODE": "v2"}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["release"], 2)
        r = a.post("/v1/projects/ops/apps", app("api", 18080))
        self.assertEqual((r.status, r.error_message()),
                         (400, "host port 18080 is outside the range this platform publishes (20000-20100)"))
        self.assertEqual(a.post("/v1/projects/ops/apps", app("api", 20000)).status, 201)
        self.assertEqual(berthd.stop(), 0)


if __name__ == "__main__":
    h.main()
