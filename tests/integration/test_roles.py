"""The role matrix: every endpoint, every kind of caller.

admin: everything. owner of A: everything in A including A's tokens, but not projects
themselves. deployer of A: read, VMs, apps, power, rollback. viewer of A: read. Any token of B
asking about A's objects: 404, never 403. No token, a malformed header, a revoked token: 401.
A denied request must change nothing: it adds no event.
"""
import itertools

import berth_harness as h

_ids = itertools.count()


def fresh(prefix):
    return f"{prefix}{next(_ids)}"


class RoleMatrixTest(h.BerthdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a = cls.admin
        for p in ("a", "b"):
            assert a.post("/v1/projects", {"name": p, "quotas": {"vcpus": 1000, "memory_mib": 1 << 22, "vms": 1000,
                                                             "disk_gib": 100000}}).status == 201
            assert a.post(f"/v1/projects/{p}/vms", {"name": "v1", "memory_mib": 64, "disk_gib": 1}).status == 201
            assert a.post(f"/v1/projects/{p}/apps", {"name": "s1", "command": ["true"]}).status == 201
        cls.tokens = {"admin": cls.berthd.admin_token}
        for role, project in (("owner", "a"), ("deployer", "a"), ("viewer", "a"), ("owner", "b")):
            r = a.post("/v1/tokens", {"name": f"{role}-{project}", "role": role, "project": project})
            assert r.status == 201, r
            cls.tokens[f"{role}_{project}"] = r.json["token"]
        revoked = a.post("/v1/tokens", {"name": "gone", "role": "owner", "project": "a"}).json
        assert a.delete(f"/v1/tokens/{revoked['id']}").status == 204
        cls.tokens["revoked"] = revoked["token"]

    # --- endpoints: each returns (method, path, body), preparing what it needs with the admin token ---

    def make_vm(self, project="a"):
        name = fresh("vm")
        assert self.admin.post(f"/v1/projects/{project}/vms", {"name": name, "memory_mib": 64, "disk_gib": 1}).status == 201
        return name

    def make_app(self, project="a"):
        name = fresh("app")
        assert self.admin.post(f"/v1/projects/{project}/apps", {"name": name, "command": ["true"]}).status == 201
        assert self.admin.patch(f"/v1/projects/{project}/apps/{name}", {"replicas": 2}).status == 200
        return name

    def make_project(self):
        name = fresh("p")
        assert self.admin.post("/v1/projects", {"name": name}).status == 201
        return name

    def endpoints(self):
        """(name, access, request factory). access: read|deploy|tokens|admin|global-read|any."""
        return [
            ("whoami", "any", lambda: ("GET", "/v1/whoami", None)),
            ("list projects", "any", lambda: ("GET", "/v1/projects", None)),
            ("create project", "admin", lambda: ("POST", "/v1/projects", {"name": fresh("np")})),
            ("get project", "read", lambda: ("GET", "/v1/projects/a", None)),
            ("patch project", "admin-of-a", lambda: ("PATCH", "/v1/projects/a", {"quotas": {"vms": 1000}})),
            ("delete project", "admin-of-project",
             lambda: ("DELETE", f"/v1/projects/{self.make_project()}", None)),
            ("list vms", "read", lambda: ("GET", "/v1/projects/a/vms", None)),
            ("get vm", "read", lambda: ("GET", "/v1/projects/a/vms/v1", None)),
            ("create vm", "deploy", lambda: ("POST", "/v1/projects/a/vms",
                                             {"name": fresh("cv"), "memory_mib": 64, "disk_gib": 1})),
            ("patch vm", "deploy", lambda: ("PATCH", f"/v1/projects/a/vms/{self.make_vm()}", {"vcpus": 2})),
            ("delete vm", "deploy", lambda: ("DELETE", f"/v1/projects/a/vms/{self.make_vm()}", None)),
            ("start vm", "deploy", lambda: ("POST", f"/v1/projects/a/vms/{self.make_vm()}/start", None)),
            ("stop vm", "deploy", lambda: ("POST", f"/v1/projects/a/vms/{self.make_vm()}/stop", None)),
            ("restart vm", "deploy", lambda: ("POST", f"/v1/projects/a/vms/{self.make_vm()}/restart", None)),
            ("list apps", "read", lambda: ("GET", "/v1/projects/a/apps", None)),
            ("get app", "read", lambda: ("GET", "/v1/projects/a/apps/s1", None)),
            ("create app", "deploy", lambda: ("POST", "/v1/projects/a/apps", {"name": fresh("ca"), "command": ["x"]})),
            ("patch app", "deploy", lambda: ("PATCH", f"/v1/projects/a/apps/{self.make_app()}", {"replicas": 3})),
            ("delete app", "deploy", lambda: ("DELETE", f"/v1/projects/a/apps/{self.make_app()}", None)),
            ("releases", "read", lambda: ("GET", "/v1/projects/a/apps/s1/releases", None)),
            ("rollback", "deploy", lambda: ("POST", f"/v1/projects/a/apps/{self.make_app()}/rollback", None)),
            ("create token in a", "tokens", lambda: ("POST", "/v1/tokens",
                                                     {"name": fresh("t"), "role": "viewer", "project": "a"})),
            ("create admin token", "admin", lambda: ("POST", "/v1/tokens", {"name": fresh("t"), "role": "admin"})),
            ("list tokens", "token-list", lambda: ("GET", "/v1/tokens", None)),
            ("delete token in a", "tokens", lambda: ("DELETE", f"/v1/tokens/{self.make_token('a')}", None)),
            ("events", "any", lambda: ("GET", "/v1/events", None)),
            ("events of a", "read", lambda: ("GET", "/v1/events?project=a", None)),
            ("list nodes", "admin", lambda: ("GET", "/v1/nodes", None)),
        ]

    def make_token(self, project):
        r = self.admin.post("/v1/tokens", {"name": fresh("victim"), "role": "viewer", "project": project})
        return r.json["id"]

    RANK = {"viewer": 0, "deployer": 1, "owner": 2}
    NEEDS = {"read": 0, "deploy": 1, "tokens": 2}

    def expected(self, caller, access):
        """The status class a caller should get: 2xx, 401, 403 or 404."""
        if caller in ("none", "malformed", "revoked"):
            return 401
        if caller == "admin":
            return 200
        role, project = caller.split("_")
        if access == "any":
            return 200
        if access == "admin":
            return 403
        if access == "token-list":
            return 200 if role == "owner" else 403
        if access in ("admin-of-a", "admin-of-project"):
            # A project that is not the caller's is invisible; its own project they may not change.
            if access == "admin-of-project" or project != "a":
                return 404
            return 403
        if project != "a":
            return 404
        return 200 if self.RANK[role] >= self.NEEDS[access] else 403

    def client_for(self, caller):
        if caller == "none":
            return self.berthd.client(None)
        if caller == "malformed":
            return h.Client(self.berthd.address, None), {"Authorization": "Token abc"}
        return self.berthd.client(self.tokens[caller])

    def test_every_endpoint_for_every_caller(self):
        callers = ["admin", "owner_a", "deployer_a", "viewer_a", "owner_b", "none", "malformed", "revoked"]
        for (name, access, make), caller in itertools.product(self.endpoints(), callers):
            with self.subTest(endpoint=name, caller=caller):
                method, path, body = make()
                client = self.client_for(caller)
                headers = None
                if isinstance(client, tuple):
                    client, headers = client
                before = self.last_seq()
                r = client.request(method, path, body=body, headers=headers)
                want = self.expected(caller, access)
                if want == 200:
                    self.assertLess(r.status, 300, f"{caller} {method} {path}: {r}")
                else:
                    self.assertEqual(r.status, want, f"{caller} {method} {path}: {r}")
                    self.assertEqual(self.last_seq(), before, f"denied {caller} {method} {path} wrote an event")

    def test_other_projects_objects_look_missing_not_forbidden(self):
        b_owner = self.berthd.client(self.tokens["owner_b"])
        for method, path in (("GET", "/v1/projects/a/vms/v1"), ("DELETE", "/v1/projects/a/vms/v1"),
                             ("GET", "/v1/projects/a/vms/nope"), ("POST", "/v1/projects/a/vms/v1/stop")):
            r = b_owner.request(method, path)
            self.assertEqual(r.status, 404, f"{method} {path}")
        # The same message whether the object exists or not: nothing leaks.
        exists = b_owner.get("/v1/projects/a").json["error"]["message"]
        missing = b_owner.get("/v1/projects/zz").json["error"]["message"]
        self.assertEqual(exists.replace("'a'", "'zz'"), missing)

    def test_project_tokens_see_only_their_project(self):
        viewer = self.berthd.client(self.tokens["viewer_a"])
        names = [p["name"] for p in viewer.get("/v1/projects").json["items"]]
        self.assertEqual(names, ["a"])
        for e in viewer.get("/v1/events?limit=1000").json["items"]:
            self.assertEqual(e["project"], "a")


if __name__ == "__main__":
    h.main()
