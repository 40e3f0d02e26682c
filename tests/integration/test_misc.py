"""Paging, versions (ETag / If-Match), the served OpenAPI document, health and metrics."""
import json

import berth_harness as h


class MiscTest(h.BerthdTestCase):
    def page_through(self, path, limit):
        """Every item's name, one page of `limit` at a time; checks the page shape on the way."""
        names, after, pages = [], None, 0
        while True:
            r = self.admin.get(f"{path}?limit={limit}" + (f"&after={after}" if after else ""))
            self.assertEqual(r.status, 200, r)
            self.assertLessEqual(len(r.json["items"]), limit)
            names += [item["name"] for item in r.json["items"]]
            pages += 1
            if r.json["next"] is None:
                return names, pages
            self.assertEqual(len(r.json["items"]), limit, "a short page that is not the last")
            after = r.json["next"]

    def test_paging_visits_every_item_once(self):
        created = [f"page-{i:03}" for i in range(250)]
        for n in created:
            self.assertEqual(self.admin.post("/v1/projects", {"name": n}).status, 201)
        names, pages = self.page_through("/v1/projects", 7)
        paged = [n for n in names if n.startswith("page-")]
        self.assertEqual(paged, sorted(created), "an item missing, repeated or out of order")
        self.assertGreaterEqual(pages, 250 // 7)

    def test_paging_vms_within_a_quota(self):
        quotas = {"vcpus": 40, "memory_mib": 40 * 128, "disk_gib": 40, "vms": 40}
        self.assertEqual(self.admin.post("/v1/projects", {"name": "pv", "quotas": quotas}).status, 201)
        created = [f"vm-{i:02}" for i in range(40)]
        for n in created:
            r = self.admin.post("/v1/projects/pv/vms", {"name": n, "memory_mib": 128, "disk_gib": 1})
            self.assertEqual(r.status, 201, r)
        names, _ = self.page_through("/v1/projects/pv/vms", 7)
        self.assertEqual(names, created)
        # A page that holds exactly the rest is the last: next is null, no empty page follows.
        self.assertEqual(self.page_through("/v1/projects/pv/vms", 40), (created, 1))

    def test_etag_and_if_match_bump_the_version(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "ver"}).status, 201)
        r = self.admin.get("/v1/projects/ver")
        self.assertEqual(r.headers["etag"], f'"{r.json["version"]}"')
        patched = self.admin.patch("/v1/projects/ver", {"quotas": {"vms": 4}}, headers={"If-Match": r.headers["etag"]})
        self.assertEqual(patched.status, 200, patched)
        self.assertEqual(patched.json["version"], r.json["version"] + 1)
        self.assertEqual(patched.headers["etag"], f'"{r.json["version"] + 1}"')
        stale = self.admin.patch("/v1/projects/ver", {"quotas": {"vms": 5}}, headers={"If-Match": r.headers["etag"]})
        self.assertEqual(stale.status, 412)

    def test_if_match_on_vms_and_apps_quotes_optional(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "ifm"}).status, 201)
        vm = self.admin.post("/v1/projects/ifm/vms", {"name": "w"})
        self.assertEqual(vm.headers["etag"], '"1"')
        # docs/api.md: If-Match: "<version>", quotes optional.
        stopped = self.admin.post("/v1/projects/ifm/vms/w/stop", headers={"If-Match": "1"})
        self.assertEqual((stopped.status, stopped.json["version"], stopped.json["power"]), (202, 2, "stopped"))
        patched = self.admin.patch("/v1/projects/ifm/vms/w", {"vcpus": 2}, headers={"If-Match": '"2"'})
        self.assertEqual((patched.status, patched.json["version"], patched.json["vcpus"]), (200, 3, 2))
        self.assertEqual(self.admin.request("DELETE", "/v1/projects/ifm/vms/w", headers={"If-Match": "3"}).status, 204)
        app = self.admin.post("/v1/projects/ifm/apps", {"name": "a", "command": ["true"]})
        patched = self.admin.patch("/v1/projects/ifm/apps/a", {"replicas": 2}, headers={"If-Match": app.headers["etag"]})
        self.assertEqual((patched.status, patched.json["version"], patched.json["release"]), (200, 2, 2))

    def test_openapi_document_is_served_verbatim(self):
        r = self.berthd.client(None).get("/v1/openapi.json")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("application/json"), r.headers)
        self.assertEqual(r.json, h.OPENAPI, f"berthd serves an openapi.json other than {h.OPENAPI_PATH}")

    def test_health_and_metrics_need_no_token(self):
        anon = self.berthd.client(None)
        self.assertEqual(anon.get("/v1/healthz").json["status"], "ok")
        r = anon.get("/metrics")
        self.assertEqual(r.status, 200)
        text = r.raw.decode()
        self.assertIn("berth_http_requests_total", text)
        self.assertIn("berth_events_last_seq", text)

    def test_every_documented_path_answers_and_conforms(self):
        # GETs without parameters, as admin: each response is schema-checked by the harness. A node
        # whose ingress is its own CA gives GET /v1/ingress/ca something to serve.
        ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        r = self.admin.post("/v1/nodes", {"name": "edge", "capacity": {"vcpus": 1, "memory_mib": 512, "disk_gib": 1},
                                          "ingress": {"http_port": 80, "https_port": 443, "ca": ca}})
        self.assertEqual(r.status, 200, r)
        for path, ops in h.OPENAPI["paths"].items():
            if "get" in ops and "{" not in path and path != "/metrics":
                with self.subTest(path=path):
                    self.assertEqual(self.admin.get(path).status, 200)


if __name__ == "__main__":
    h.main()
