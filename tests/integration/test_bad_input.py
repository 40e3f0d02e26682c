"""Bad input gets a 4xx with {"error":{"code","message"}} naming the field, and changes nothing."""
import berth_harness as h


class BadInputTest(h.BerthdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        assert cls.admin.post("/v1/projects", {"name": "demo", "quotas": {"vcpus": 4, "vms": 3}}).status == 201
        assert cls.admin.post("/v1/projects/demo/vms", {"name": "web", "vcpus": 2}).status == 201

    def assertRejectedUnchanged(self, method, path, body=None, status=400, code="invalid_argument", mentions=None,
                                **kw):
        before = self.last_seq()
        r = self.admin.request(method, path, body=body, **kw)
        self.assertError(r, status, code, mentions)
        self.assertEqual(self.last_seq(), before, f"{method} {path} was refused but wrote an event")
        return r

    def test_malformed_and_non_object_json(self):
        self.assertRejectedUnchanged("POST", "/v1/projects", raw_body=b'{"name": "x"', mentions="not valid JSON")
        self.assertRejectedUnchanged("POST", "/v1/projects", raw_body=b'["x"]', mentions="JSON object")
        self.assertRejectedUnchanged("POST", "/v1/projects", raw_body=b"", mentions="empty")

    def test_unknown_fields_top_level_and_nested(self):
        self.assertRejectedUnchanged("POST", "/v1/projects", {"name": "x", "bogus": 1}, mentions="'bogus'")
        self.assertRejectedUnchanged("POST", "/v1/projects", {"name": "x", "quotas": {"bogus": 1}},
                                     mentions="quotas.bogus")
        self.assertRejectedUnchanged("POST", "/v1/projects/demo/apps",
                                     {"name": "x", "command": ["a"], "ports": [{"port": 80, "bogus": 1}]},
                                     mentions="ports[0].bogus")

    def test_wrong_types_and_ranges_name_the_field(self):
        cases = [
            ({"name": "x", "vcpus": "2"}, "vcpus must be an integer"),
            ({"name": "x", "vcpus": -1}, "vcpus must be between"),
            ({"name": "x", "vcpus": 2 ** 63}, "vcpus must be between"),
            ({"name": "x", "memory_mib": 10}, "memory_mib must be between"),
            ({"name": "x", "machine": "pc"}, "machine must be one of"),
            ({"name": "x", "vcpus": 1.5}, "vcpus must be an integer"),
            ({"name": 7}, "name must be a string"),
            ({}, "name is required"),
        ]
        for body, mention in cases:
            with self.subTest(body=body):
                self.assertRejectedUnchanged("POST", "/v1/projects/demo/vms", body, mentions=mention)

    def test_names_must_be_dns_labels(self):
        for name in ("Demo", "a" * 64, "-x", "x-", "../x", "a_b", ""):
            with self.subTest(name=name):
                self.assertRejectedUnchanged("POST", "/v1/projects", {"name": name}, mentions="name")

    def test_oversize_body(self):
        big = b'{"name":"x","pad":"' + b"a" * (1 << 20) + b'"}'
        r = self.admin.request("POST", "/v1/projects", raw_body=big)
        self.assertError(r, 413, "payload_too_large", "1048576")
        self.assertEqual(self.admin.get("/v1/projects/x").status, 404)

    def test_wrong_content_type(self):
        self.assertRejectedUnchanged("POST", "/v1/projects", raw_body=b'{"name":"x"}', status=415,
                                     code="unsupported_media_type", content_type="text/plain")

    def test_if_match(self):
        self.assertRejectedUnchanged("PATCH", "/v1/projects/demo", {"quotas": {"vms": 5}},
                                     headers={"If-Match": "abc"}, mentions="If-Match")
        version = self.admin.get("/v1/projects/demo").json["version"]
        self.assertRejectedUnchanged("PATCH", "/v1/projects/demo", {"quotas": {"vms": 5}},
                                     headers={"If-Match": f'"{version + 7}"'}, status=412, code="version_mismatch")
        self.assertEqual(self.admin.get("/v1/projects/demo").json["version"], version)

    def test_paging_parameters(self):
        for q in ("limit=0", "limit=abc", "limit=1001"):
            with self.subTest(q=q):
                self.assertError(self.admin.get(f"/v1/projects?{q}"), 400, "invalid_argument", "limit")

    def test_unknown_endpoint_and_wrong_method(self):
        self.assertError(self.admin.get("/v1/nothing"), 404, "not_found")
        r = self.admin.request("PUT", "/v1/projects/demo", body={})
        self.assertError(r, 405, "method_not_allowed")
        self.assertEqual(r.headers["allow"], "GET, PATCH, DELETE")

    def test_quota_exceeded_names_limit_and_excess(self):
        r = self.assertRejectedUnchanged("POST", "/v1/projects/demo/vms", {"name": "big", "vcpus": 3}, status=409,
                                         code="failed_precondition", mentions="vcpus would be 5 of a quota of 4")
        self.assertIn("over by 1", r.json["error"]["message"])
        self.assertEqual(self.admin.get("/v1/projects/demo/vms/big").status, 404)

    def test_project_with_vms_cannot_be_deleted(self):
        self.assertRejectedUnchanged("DELETE", "/v1/projects/demo", status=409, code="failed_precondition",
                                     mentions="delete them first")

    def test_duplicate_names(self):
        self.assertRejectedUnchanged("POST", "/v1/projects/demo/vms", {"name": "web"}, status=409,
                                     code="already_exists", mentions="already exists")

    def test_bad_token_payloads(self):
        self.assertRejectedUnchanged("POST", "/v1/tokens", {"name": "t", "role": "root"}, mentions="role")
        self.assertRejectedUnchanged("POST", "/v1/tokens", {"name": "t", "role": "viewer"}, mentions="needs a project")
        self.assertRejectedUnchanged("POST", "/v1/tokens", {"name": "t", "role": "admin", "project": "demo"},
                                     mentions="global")


if __name__ == "__main__":
    h.main()
