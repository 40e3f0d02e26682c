"""Bad input gets a 4xx with {"error":{"code","message"}} naming the field, and changes nothing."""
import berth_harness as h


class BadInputTest(h.BerthdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        assert cls.admin.post("/v1/projects", {"name": "demo", "quotas": {"vcpus": 4, "vms": 3}}).status == 201
        assert cls.admin.post("/v1/projects/demo/vms", {"name": "web", "vcpus": 2}).status == 201

    def snapshot(self):
        """What a refused request must not change: every list, and the event log."""
        lists = [self.admin.list_all(p) for p in ("/v1/projects", "/v1/projects/demo/vms", "/v1/projects/demo/apps",
                                                  "/v1/tokens")]
        # Observed fields are the scheduler's to change at any time; they are not what a request writes.
        for vm in lists[1]:
            vm.pop("state_detail")
        return lists, self.last_seq()

    def assertRejectedUnchanged(self, method, path, body=None, status=400, code="invalid_argument", mentions=None,
                                **kw):
        before = self.snapshot()
        r = self.admin.request(method, path, body=body, **kw)
        self.assertError(r, status, code, mentions)
        self.assertEqual(self.snapshot(), before, f"{method} {path} was refused but changed something")
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
        self.assertRejectedUnchanged("PATCH", "/v1/projects/demo", {"quotas": {"vms": 4, "bogus": 1}},
                                     mentions="quotas.bogus")
        self.assertRejectedUnchanged("PATCH", "/v1/projects/demo/vms/web", {"vcpus": 1, "name": "other"},
                                     mentions="'name'")

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
        app_cases = [
            ({"command": "ls"}, "command must be an array of strings"),
            ({"command": ["ls"], "env": {"A": 1}}, "env.A must be a string"),
            ({"command": ["ls"], "ports": [{"port": 70000}]}, "ports[0].port must be between"),
            ({"command": ["ls"], "ports": [{"port": 80, "protocol": "sctp"}]}, "ports[0].protocol must be one of"),
            ({"command": ["ls"], "replicas": -1}, "replicas must be between"),
            ({"command": ["ls"], "health": {"type": "udp"}}, "health.type must be one of"),
            ({"command": ["ls"], "health": {"path": "/"}}, "health.type is required"),
            ({"command": ["ls"], "health": {"type": "http"}}, "health check probes the app's port, but the app has none"),
            ({"command": ["ls"], "health": {"type": "exec"}}, "an exec health check needs a command"),
            ({"command": ["ls"], "ports": [{"port": 80}], "health": {"type": "http", "path": "no-slash"}},
             "health.path must start with '/'"),
            ({"command": ["ls"], "ports": [{"port": 80}], "health": {"type": "tcp", "retries": 0}},
             "health.retries must be between"),
            ({"command": ["ls"], "ports": [{"port": 80}], "health": {"type": "tcp", "interval_ms": 5}},
             "health.interval_ms must be between"),
            ({"command": ["ls"], "health": {"type": "tcp", "every": 1}}, "health.every"),
        ]
        for body, mention in app_cases:
            with self.subTest(body=body):
                self.assertRejectedUnchanged("POST", "/v1/projects/demo/apps", {"name": "x", **body}, mentions=mention)
        self.assertRejectedUnchanged("PATCH", "/v1/projects/demo", {"quotas": {"vcpus": -4}},
                                     mentions="quotas.vcpus must be between")
        self.assertRejectedUnchanged("PATCH", "/v1/projects/demo/vms/web", {"memory_mib": "lots"},
                                     mentions="memory_mib must be an integer")

    def test_names_must_be_dns_labels(self):
        for name in ("Demo", "a" * 64, "-x", "x-", "../x", "a_b", ""):
            with self.subTest(name=name):
                self.assertRejectedUnchanged("POST", "/v1/projects", {"name": name}, mentions="name")
                self.assertRejectedUnchanged("POST", "/v1/projects/demo/vms", {"name": name}, mentions="name")
                self.assertRejectedUnchanged("POST", "/v1/tokens", {"name": name, "role": "admin"}, mentions="name")
        self.assertRejectedUnchanged("POST", "/v1/projects", {"name": "a" * 63 + "!"}, mentions="name")

    def test_oversize_body(self):
        big = b'{"name":"x","pad":"' + b"a" * (1 << 20) + b'"}'
        self.assertRejectedUnchanged("POST", "/v1/projects", raw_body=big, status=413, code="payload_too_large",
                                     mentions="1048576")
        self.assertEqual(self.admin.get("/v1/projects/x").status, 404)

    def test_wrong_content_type(self):
        self.assertRejectedUnchanged("POST", "/v1/projects", raw_body=b'{"name":"x"}', status=415,
                                     code="unsupported_media_type", content_type="text/plain")
        self.assertRejectedUnchanged("PATCH", "/v1/projects/demo/vms/web", raw_body=b'{"vcpus":1}', status=415,
                                     code="unsupported_media_type", content_type="application/x-www-form-urlencoded")
        self.assertRejectedUnchanged("POST", "/v1/projects/demo/vms/web/stop", raw_body=b"now", status=415,
                                     code="unsupported_media_type", content_type="text/plain")

    def test_if_match(self):
        self.assertRejectedUnchanged("PATCH", "/v1/projects/demo", {"quotas": {"vms": 5}},
                                     headers={"If-Match": "abc"}, mentions="If-Match")
        version = self.admin.get("/v1/projects/demo").json["version"]
        self.assertRejectedUnchanged("PATCH", "/v1/projects/demo", {"quotas": {"vms": 5}},
                                     headers={"If-Match": f'"{version + 7}"'}, status=412, code="version_mismatch")
        self.assertEqual(self.admin.get("/v1/projects/demo").json["version"], version)
        vm = self.admin.get("/v1/projects/demo/vms/web").json
        for method, suffix in (("DELETE", ""), ("POST", "/stop"), ("PATCH", "")):
            with self.subTest(method=method, suffix=suffix):
                self.assertRejectedUnchanged(method, f"/v1/projects/demo/vms/web{suffix}",
                                             {"vcpus": 1} if method == "PATCH" else None,
                                             headers={"If-Match": f'"{vm["version"] - 1}"'}, status=412,
                                             code="version_mismatch", mentions=f"at version {vm['version']}")

    def test_paging_parameters(self):
        for q in ("limit=0", "limit=abc", "limit=1001", "limit=-1", "limit=2.5"):
            for path in ("/v1/projects", "/v1/projects/demo/vms", "/v1/events", "/v1/tokens"):
                with self.subTest(q=q, path=path):
                    self.assertError(self.admin.get(f"{path}?{q}"), 400, "invalid_argument", "limit")
        self.assertError(self.admin.get("/v1/events?after=abc"), 400, "invalid_argument", "after")

    def test_unknown_endpoint_and_wrong_method(self):
        self.assertError(self.admin.get("/v1/nothing"), 404, "not_found")
        r = self.admin.request("PUT", "/v1/projects/demo", body={})
        self.assertError(r, 405, "method_not_allowed")
        self.assertEqual(r.headers["allow"], "GET, PATCH, DELETE")
        r = self.admin.get("/v1/projects/demo/vms/web/start")
        self.assertError(r, 405, "method_not_allowed")
        self.assertEqual(r.headers["allow"], "POST")

    def test_wrong_method_on_public_endpoints(self):
        # docs/api.md: a wrong method is 405 method_not_allowed, with Allow; these paths exist for GET.
        for path in ("/v1/healthz", "/v1/openapi.json", "/metrics"):
            with self.subTest(path=path):
                r = self.admin.request("POST", path, body={})
                self.assertError(r, 405, "method_not_allowed")
                self.assertEqual(r.headers["allow"], "GET")

    def test_quota_exceeded_names_limit_and_excess(self):
        r = self.assertRejectedUnchanged("POST", "/v1/projects/demo/vms", {"name": "big", "vcpus": 3}, status=409,
                                         code="failed_precondition", mentions="vcpus would be 5 of a quota of 4")
        self.assertIn("over by 1", r.json["error"]["message"])
        self.assertEqual(self.admin.get("/v1/projects/demo/vms/big").status, 404)
        # Growing a VM counts against the quota the same way.
        r = self.assertRejectedUnchanged("PATCH", "/v1/projects/demo/vms/web", {"vcpus": 7}, status=409,
                                         code="failed_precondition", mentions="vcpus would be 7 of a quota of 4")
        self.assertIn("over by 3", r.json["error"]["message"])

    def test_project_with_vms_cannot_be_deleted(self):
        self.assertRejectedUnchanged("DELETE", "/v1/projects/demo", status=409, code="failed_precondition",
                                     mentions="delete them first")

    def test_duplicate_names(self):
        self.assertRejectedUnchanged("POST", "/v1/projects/demo/vms", {"name": "web"}, status=409,
                                     code="already_exists", mentions="already exists")
        self.assertRejectedUnchanged("POST", "/v1/projects", {"name": "demo"}, status=409,
                                     code="already_exists", mentions="project 'demo' already exists")

    def test_bad_token_payloads(self):
        self.assertRejectedUnchanged("POST", "/v1/tokens", {"name": "t", "role": "root"}, mentions="role")
        self.assertRejectedUnchanged("POST", "/v1/tokens", {"name": "t", "role": "viewer"}, mentions="needs a project")
        self.assertRejectedUnchanged("POST", "/v1/tokens", {"name": "t", "role": "admin", "project": "demo"},
                                     mentions="global")


if __name__ == "__main__":
    h.main()
