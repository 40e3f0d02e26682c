"""Paging, versions (ETag / If-Match), the served OpenAPI document, health and metrics."""
import json

import berth_harness as h


class MiscTest(h.BerthdTestCase):
    def test_paging_visits_every_item_once(self):
        names = {f"page-{i:03}" for i in range(40)}
        for n in names:
            self.assertEqual(self.admin.post("/v1/projects", {"name": n}).status, 201)
        seen, after, pages = [], None, 0
        while True:
            r = self.admin.get("/v1/projects?limit=7" + (f"&after={after}" if after else "")).json
            seen += [p["name"] for p in r["items"] if p["name"].startswith("page-")]
            pages += 1
            if r["next"] is None:
                break
            after = r["next"]
        self.assertEqual(sorted(seen), sorted(names))
        self.assertEqual(len(seen), len(set(seen)))
        self.assertGreaterEqual(pages, 6)

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

    def test_openapi_document_is_served_verbatim(self):
        r = self.berthd.client(None).get("/v1/openapi.json")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json, h.OPENAPI)

    def test_health_and_metrics_need_no_token(self):
        anon = self.berthd.client(None)
        self.assertEqual(anon.get("/v1/healthz").json["status"], "ok")
        r = anon.get("/metrics")
        self.assertEqual(r.status, 200)
        text = r.raw.decode()
        self.assertIn("berth_http_requests_total", text)
        self.assertIn("berth_events_last_seq", text)

    def test_every_documented_path_answers_and_conforms(self):
        # GETs without parameters, as admin: each response is schema-checked by the harness.
        for path, ops in h.OPENAPI["paths"].items():
            if "get" in ops and "{" not in path and path != "/metrics":
                with self.subTest(path=path):
                    self.assertEqual(self.admin.get(path).status, 200)


if __name__ == "__main__":
    h.main()
