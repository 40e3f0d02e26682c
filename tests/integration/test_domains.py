"""Domains through a real berthd and the real CLI: a host name routes to one app of one project
across the whole cluster; a second claim is 409 naming neither the holder nor its project, and
another project's name is 404 to everyone else. Nodes register their ingress, whose CA any token
can fetch, and an app shows the URLs it answers on.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

import berth_harness as h

PEM = "-----BEGIN CERTIFICATE-----\nMIIBdGVzdA==\n-----END CERTIFICATE-----\n"


def app(name, host_port=0):
    ports = [{"port": 8080, "host_port": host_port}] if host_port else []
    return {"name": name, "command": ["httpd"], "ports": ports}


class DomainsTest(h.BerthdTestCase):
    # Given in another case and with a trailing dot: berthd keeps it normalized.
    berthd_args = h.NO_LIMITS + ["--base-domain", "Apps.Test."]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owners = {}
        for project, apps in (("alpha", ("web", "api")), ("beta", ("shop",))):
            assert cls.admin.post("/v1/projects", {"name": project}).status == 201
            token = cls.admin.post("/v1/tokens", {"name": project + "-owner", "role": "owner", "project": project})
            cls.owners[project] = cls.berthd.client(token.json["token"])
            for name in apps:
                r = cls.owners[project].post(f"/v1/projects/{project}/apps", app(name))
                assert r.status == 201, r

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="berth-domains-")
        self.token_file = os.path.join(self.home, "admin.token")
        with open(self.token_file, "w") as f:
            f.write(self.berthd.admin_token + "\n")

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def berth(self, *args):
        env = {"HOME": self.home, "PATH": os.environ.get("PATH", ""), "BERTH_URL": f"http://{self.berthd.address}",
               "BERTH_TOKEN": self.berthd.admin_token}
        r = subprocess.run([h.BERTH, *args], capture_output=True, text=True, env=env, timeout=60)
        return r.returncode, r.stdout, r.stderr

    def names(self, project):
        return [(d["name"], d["app"]) for d in self.admin.get(f"/v1/projects/{project}/domains").json["items"]]

    def test_a_name_is_one_apps_across_projects_and_never_names_its_holder(self):
        alpha, beta = self.owners["alpha"], self.owners["beta"]
        r = alpha.post("/v1/projects/alpha/domains", {"name": "Cross.Example.", "app": "web"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json["name"], r.json["project"], r.json["app"]), ("cross.example", "alpha", "web"))
        seq = self.last_seq()

        taken = beta.post("/v1/projects/beta/domains", {"name": "cross.example", "app": "shop"})
        self.assertError(taken, 409, "conflict")
        self.assertEqual(taken.error_message(), "domain 'cross.example' is already in use")
        for secret in (b"alpha", b"web"):
            self.assertNotIn(secret, taken.raw)
        # Removing it from another project is 404, as for a name nobody holds.
        gone = beta.delete("/v1/projects/beta/domains/cross.example")
        self.assertError(gone, 404, "not_found")
        self.assertEqual(gone.error_message(), "domain 'cross.example' does not exist in project 'beta'")
        self.assertNotIn(b"alpha", gone.raw)
        self.assertEqual(self.events_after(seq), [])
        self.assertEqual(self.names("beta"), [])

        # Adding it again to its own app changes nothing; the holder lets go and anyone may take it.
        self.assertEqual(alpha.post("/v1/projects/alpha/domains", {"name": "cross.example", "app": "web"}).status, 200)
        self.assertEqual(alpha.delete("/v1/projects/alpha/domains/cross.example").status, 204)
        self.assertEqual([e["action"] for e in self.events_after(seq)], ["domain.remove"])
        self.assertEqual(beta.post("/v1/projects/beta/domains", {"name": "cross.example", "app": "shop"}).status, 201)
        self.assertEqual(self.names("beta"), [("cross.example", "shop")])

    def test_bad_names_names_under_the_base_domain_and_bad_bodies_are_400(self):
        alpha = self.owners["alpha"]
        seq = self.last_seq()
        for bad, why in (("localhost", "single label"), ("*.example.com", "wildcard"), ("10.0.0.1", "IP address"),
                         ("a_b.example.com", "a-z, 0-9"), ("web.alpha.internal", ".internal"),
                         ("web.alpha.apps.test", "base domain 'apps.test'"),
                         ("shop.beta.Apps.Test", "base domain 'apps.test'"), ("x" * 300 + ".com", "at most 253")):
            r = alpha.post("/v1/projects/alpha/domains", {"name": bad, "app": "web"})
            self.assertError(r, 400, "invalid_argument", why)
        r = alpha.post("/v1/projects/alpha/domains", {"name": "ok.example", "app": "web", "tls": True})
        self.assertError(r, 400, "invalid_argument", "tls")
        r = alpha.post("/v1/projects/alpha/domains", {"name": "ok.example", "app": "nope"})
        self.assertError(r, 404, "not_found", "app 'nope' does not exist in project 'alpha'")
        self.assertEqual(self.events_after(seq), [])

    def test_cli_adds_lists_and_removes_and_deploy_and_show_print_urls(self):
        code, out, err = self.berth("domain", "add", "Shop.Example.COM", "--app", "api", "-p", "alpha")
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(out, "Added domain shop.example.com -> app api\n")
        code, out, _ = self.berth("domain", "ls", "-p", "alpha")
        self.assertRegex(out, r"(?m)^NAME\s+APP\s+ADDED\s+BY$")
        self.assertRegex(out, r"(?m)^shop\.example\.com\s+api\s")
        code, out, err = self.berth("domain", "add", "bad_name.example", "--app", "api", "-p", "alpha")
        self.assertEqual(code, 1)
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertTrue(err.startswith("berth: domain 'bad_name.example': label 'bad_name'"), err)

        site = os.path.join(self.home, "site")
        os.mkdir(site)
        with open(os.path.join(site, "index.html"), "w") as f:
            f.write("<p>hi</p>")
        code, out, err = self.berth("deploy", "api", "-p", "alpha", "--dir", site, "--port", "8080",
                                    "--host-port", "18601", "--no-wait", "--", "busybox", "httpd", "-f")
        self.assertEqual(code, 0, err)
        self.assertIn("URLs:\n  https://api.alpha.apps.test", out)
        self.assertIn("  https://shop.example.com", out)
        self.assertIn("  http://127.0.0.1:18601\n", out)
        code, out, _ = self.berth("app", "show", "api", "-p", "alpha")
        self.assertRegex(out, r"(?m)^Domain:\s+shop\.example\.com$")
        self.assertRegex(out, r"(?m)^URL:\s+http://127\.0\.0\.1:18601$")

        code, out, err = self.berth("domain", "rm", "shop.example.com", "-p", "alpha")
        self.assertEqual((code, out, err), (0, "Removed domain shop.example.com\n", ""))
        code, _, err = self.berth("domain", "rm", "shop.example.com", "-p", "alpha")
        self.assertEqual((code, err), (1, "berth: domain 'shop.example.com' does not exist in project 'alpha'\n"))

    def test_an_app_shows_its_domains_and_urls(self):
        # A node whose ingress is on 8443 and has no CA of its own (ACME): the app's URLs name the port.
        self.register_ingress("edge1", {"http_port": 8080, "https_port": 8443, "ca": ""})
        alpha = self.owners["alpha"]
        self.assertEqual(alpha.patch("/v1/projects/alpha/apps/web", {"ports": [{"port": 8080, "host_port": 18602}]})
                         .status, 200)
        self.assertEqual(alpha.post("/v1/projects/alpha/domains", {"name": "www.urls.example", "app": "web"}).status,
                         201)
        r = alpha.get("/v1/projects/alpha/apps/web")
        self.assertEqual(r.json["domains"], ["web.alpha.apps.test", "www.urls.example"])
        self.assertEqual(r.json["urls"][:2], ["https://web.alpha.apps.test:8443", "https://www.urls.example:8443"])
        self.assertIn("http://127.0.0.1:18602", r.json["urls"])
        listed = {a["name"]: a for a in alpha.get("/v1/projects/alpha/apps").json["items"]}
        self.assertEqual(listed["web"]["urls"], r.json["urls"])

    def register_ingress(self, name, ingress):
        node = self.berthd.client(self.admin.post("/v1/tokens", {"name": name, "role": "node"}).json["token"])
        body = {"name": name, "capacity": {"vcpus": 8, "memory_mib": 8192, "disk_gib": 100}, "ingress": ingress}
        r = node.post("/v1/nodes", body)
        self.assertEqual(r.status, 200, r)
        return node, body

    def test_nodes_register_their_ingress_and_any_token_fetches_its_ca(self):
        viewer = self.berthd.client(
            self.admin.post("/v1/tokens", {"name": "beta-viewer", "role": "viewer", "project": "beta"}).json["token"])
        r = viewer.get("/v1/ingress/ca")
        self.assertError(r, 404, "not_found", "no node's ingress has a CA of its own")
        code, _, err = self.berth("domain", "ca")
        self.assertEqual(code, 1)
        self.assertTrue(err.startswith("berth: no node's ingress has a CA of its own"), err)

        node, body = self.register_ingress("edge2", {"http_port": 8080, "https_port": 8443, "ca": PEM})
        for bad, why in (({"http_port": 0, "https_port": 443, "ca": ""}, "ingress.http_port is required"),
                         ({"http_port": 80, "https_port": 70000, "ca": ""}, "ingress.https_port"),
                         ({"http_port": 80, "https_port": 443, "ca": "hello"}, "PEM certificate"),
                         ({"http_port": 80, "https_port": 443, "ca": PEM + "x" * 16384}, "at most 16 KiB"),
                         ({"http_port": 80, "https_port": 443, "acme": True}, "ingress.acme")):
            r = node.post("/v1/nodes", {**body, "ingress": bad})
            self.assertError(r, 400, "invalid_argument", why)
        edge2 = [n for n in self.admin.get("/v1/nodes").json["items"] if n["name"] == "edge2"][0]
        self.assertEqual(edge2["ingress"], {"http_port": 8080, "https_port": 8443})  # as first registered

        r = viewer.get("/v1/ingress/ca")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["content-type"], "application/x-pem-file")
        self.assertEqual(r.raw.decode(), PEM)
        code, out, _ = self.berth("domain", "ca")
        self.assertEqual((code, out), (0, PEM))


class BaseDomainFlagTest(unittest.TestCase):
    def test_a_bad_base_domain_is_a_usage_error(self):
        for bad in ("localhost", "*.apps.example", "apps_example.com", "10.0.0.1"):
            r = subprocess.run([h.BERTHD, "--data", "/nonexistent", "--base-domain", bad],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertIn("--base-domain", (r.stdout + r.stderr).strip().splitlines()[0])


if __name__ == "__main__":
    h.main()
