"""The role matrix: every endpoint of docs/api.md, every kind of caller.

admin: everything. owner of A: everything in A including A's tokens, but not projects
themselves, admin tokens or nodes. deployer of A: read, VMs, apps, power, rollback. viewer of A:
read. Any token of B asking about A's objects: 404, never 403. A node token: only its own node.
No token, a malformed header, a revoked token: 401.

An allowed mutation writes exactly one event naming the caller's token; a denied request
writes no event and leaves the object as it was.
"""
import collections
import itertools

import berth_harness as h

_ids = itertools.count()


def fresh(prefix):
    return f"{prefix}{next(_ids)}"


# One request of the matrix. probe: an admin GET whose answer a denied request must not change.
# action/obj: the event an allowed mutation writes (obj gets the response, for ids made by the server).
Case = collections.namedtuple("Case", "method path body probe action obj", defaults=(None, None, None, None))

CALLERS = ["admin", "owner_a", "deployer_a", "viewer_a", "owner_b", "node", "none", "malformed", "revoked"]
UNAUTHENTICATED = ("none", "malformed", "revoked")
PROJECT_RANK = {"viewer_a": 0, "deployer_a": 1, "owner_a": 2}
NEEDS_RANK = {"read": 0, "deploy": 1, "tokens": 2}
NODE_NAME = "n1"
# Nodes too small for any VM of the matrix (VM_SIZE), so the scheduler never moves a VM or writes
# events of its own while the matrix runs.
TINY_NODE = {"vcpus": 1, "memory_mib": 64, "disk_gib": 1}
VM_SIZE = {"memory_mib": 128, "disk_gib": 1}
# Observed by the scheduler and agents, not by API requests; they change without a version bump.
OBSERVED_FIELDS = ("state", "state_detail")


def expected_status(access, caller):
    """The answer docs/api.md promises: 'ok' (any 2xx), or 401, 403, 404."""
    if access == "public":
        return "ok"
    if caller in UNAUTHENTICATED:
        return 401
    if caller == "admin" or access == "any":
        return "ok"
    if access in ("events", "events-of-a"):
        if caller == "node":  # the event log is for admins and project tokens, whatever the project
            return 403
        if access == "events":  # project tokens read their own project's events
            return "ok"
        access = "read"
    if access == "admin":  # global objects: projects, admin tokens, the fleet
        return 403
    if access == "node":  # a node token acts only for the node it is named after
        return "ok" if caller == "node" else 403
    if access == "token-list":  # an owner lists its own project's tokens
        return "ok" if caller in ("owner_a", "owner_b") else 403
    if caller not in PROJECT_RANK:  # B's owner and node tokens cannot see A
        return 404
    if access == "project-admin":  # A's own tokens see A but may not change or delete it
        return 403
    return "ok" if PROJECT_RANK[caller] >= NEEDS_RANK[access] else 403


class RoleMatrixTest(h.BerthdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a = cls.admin
        big = {"vcpus": 1000, "memory_mib": 1 << 22, "vms": 1000, "disk_gib": 100000}
        for p in ("a", "b"):
            assert a.post("/v1/projects", {"name": p, "quotas": big}).status == 201
            assert a.post(f"/v1/projects/{p}/vms", {"name": "v1", **VM_SIZE}).status == 201
            assert a.post(f"/v1/projects/{p}/apps", {"name": "s1", "command": ["true"]}).status == 201
        assert a.post("/v1/nodes", {"name": NODE_NAME, "capacity": TINY_NODE}).status == 200
        cls.tokens = {"admin": cls.berthd.admin_token}
        for caller, body in (("owner_a", {"role": "owner", "project": "a"}),
                             ("deployer_a", {"role": "deployer", "project": "a"}),
                             ("viewer_a", {"role": "viewer", "project": "a"}),
                             ("owner_b", {"role": "owner", "project": "b"}),
                             ("node", {"role": "node", "name": NODE_NAME})):
            r = a.post("/v1/tokens", {"name": caller.replace("_", "-"), **body})
            assert r.status == 201, r
            cls.tokens[caller] = r.json["token"]
        cls.token_ids = {c: cls.berthd.client(t).get("/v1/whoami").json["token_id"] for c, t in cls.tokens.items()}
        # Used once before revocation so berthd has it cached: revocation must reach the cache at once.
        revoked = a.post("/v1/tokens", {"name": "gone", "role": "owner", "project": "a"}).json
        assert cls.berthd.client(revoked["token"]).get("/v1/whoami").status == 200
        assert a.delete(f"/v1/tokens/{revoked['id']}").status == 204
        cls.tokens["revoked"] = revoked["token"]

    def caller_client(self, caller):
        if caller == "none":
            return self.client(None), None
        if caller == "malformed":
            return self.client(None), {"Authorization": "Token " + self.tokens["owner_a"]}
        return self.client(self.tokens[caller]), None

    # --- objects made fresh for a request that consumes them (delete, power, ...) ---

    def make_vm(self):
        name = fresh("vm")
        assert self.admin.post("/v1/projects/a/vms", {"name": name, **VM_SIZE}).status == 201
        return name

    def make_app(self):
        """An app with two releases, so it can be rolled back."""
        name = fresh("app")
        assert self.admin.post("/v1/projects/a/apps", {"name": name, "command": ["true"]}).status == 201
        assert self.admin.patch(f"/v1/projects/a/apps/{name}", {"replicas": 2}).status == 200
        return name

    def make_project(self):
        name = fresh("p")
        assert self.admin.post("/v1/projects", {"name": name}).status == 201
        return name

    def make_token(self, **body):
        r = self.admin.post("/v1/tokens", {"name": fresh("victim"), **body})
        assert r.status == 201, r
        return r.json["id"]

    def make_node(self):
        name = fresh("node")
        assert self.admin.post("/v1/nodes", {"name": name, "capacity": TINY_NODE}).status == 200
        return name

    def endpoints(self):
        """(name, access, factory of a Case). Every endpoint of docs/api.md appears at least once."""
        vm_path = "/v1/projects/a/vms/"
        app_path = "/v1/projects/a/apps/"

        def vm_case(method, suffix, body, action):
            vm = self.make_vm()
            return Case(method, vm_path + vm + suffix, body, vm_path + vm, action,
                        lambda r: f"projects/a/vms/{vm}")

        def app_case(method, suffix, body, action):
            app = self.make_app()
            return Case(method, app_path + app + suffix, body, app_path + app, action,
                        lambda r: f"projects/a/apps/{app}")

        def created(path, body, action):
            obj = f"{path.removeprefix('/v1/')}/{body['name']}"
            return Case("POST", path, body, f"{path}/{body['name']}", action, lambda r: obj)

        def project_delete(name):
            return Case("DELETE", f"/v1/projects/{name}", None, f"/v1/projects/{name}", "project.delete",
                        lambda r: f"projects/{name}")

        def token_delete(token_id):
            return Case("DELETE", f"/v1/tokens/{token_id}", None, "/v1/tokens?limit=1000", "token.delete",
                        lambda r: f"tokens/{token_id}")

        def token_create(body):
            return Case("POST", "/v1/tokens", {"name": fresh("t"), **body}, "/v1/tokens?limit=1000",
                        "token.create", lambda r: f"tokens/{r.json['id']}")

        def node_case(method, path, body, action, node):
            return Case(method, path, body, "/v1/nodes", action, lambda r: f"nodes/{node}")

        return [
            ("healthz", "public", lambda: Case("GET", "/v1/healthz")),
            ("openapi", "public", lambda: Case("GET", "/v1/openapi.json")),
            ("metrics", "public", lambda: Case("GET", "/metrics")),
            ("whoami", "any", lambda: Case("GET", "/v1/whoami")),
            ("list projects", "any", lambda: Case("GET", "/v1/projects")),
            ("create project", "admin",
             lambda: created("/v1/projects", {"name": fresh("np")}, "project.create")),
            ("get project", "read", lambda: Case("GET", "/v1/projects/a")),
            ("patch project", "project-admin",
             lambda: Case("PATCH", "/v1/projects/a", {"quotas": {"vms": 999}}, "/v1/projects/a", "project.update",
                          lambda r: "projects/a")),
            # A still has VMs: the admin is refused with 409, its own tokens with 403, others 404.
            ("delete project a", "project-admin", lambda: project_delete("a")),
            ("delete empty project", "admin-invisible", lambda: project_delete(self.make_project())),
            ("list vms", "read", lambda: Case("GET", "/v1/projects/a/vms")),
            ("get vm", "read", lambda: Case("GET", "/v1/projects/a/vms/v1")),
            ("create vm", "deploy",
             lambda: created("/v1/projects/a/vms", {"name": fresh("cv"), **VM_SIZE},
                             "vm.create")),
            ("patch vm", "deploy", lambda: vm_case("PATCH", "", {"vcpus": 2}, "vm.update")),
            ("delete vm", "deploy", lambda: vm_case("DELETE", "", None, "vm.delete")),
            ("start vm", "deploy", lambda: vm_case("POST", "/start", None, "vm.start")),
            ("stop vm", "deploy", lambda: vm_case("POST", "/stop", None, "vm.stop")),
            ("restart vm", "deploy", lambda: vm_case("POST", "/restart", None, "vm.restart")),
            ("list apps", "read", lambda: Case("GET", "/v1/projects/a/apps")),
            ("get app", "read", lambda: Case("GET", "/v1/projects/a/apps/s1")),
            ("create app", "deploy",
             lambda: created("/v1/projects/a/apps", {"name": fresh("ca"), "command": ["x"]}, "app.create")),
            ("patch app", "deploy", lambda: app_case("PATCH", "", {"replicas": 3}, "app.update")),
            ("delete app", "deploy", lambda: app_case("DELETE", "", None, "app.delete")),
            ("releases", "read", lambda: Case("GET", "/v1/projects/a/apps/s1/releases")),
            ("rollback", "deploy", lambda: app_case("POST", "/rollback", None, "app.rollback")),
            ("create token in a", "tokens", lambda: token_create({"role": "viewer", "project": "a"})),
            ("create admin token", "admin", lambda: token_create({"role": "admin"})),
            ("create node token", "admin", lambda: token_create({"role": "node"})),
            ("list tokens", "token-list", lambda: Case("GET", "/v1/tokens")),
            ("delete token in a", "tokens", lambda: token_delete(self.make_token(role="viewer", project="a"))),
            ("delete admin token", "admin", lambda: token_delete(self.make_token(role="admin"))),
            ("events", "events", lambda: Case("GET", "/v1/events")),
            ("events of a", "events-of-a", lambda: Case("GET", "/v1/events?project=a")),
            ("register node", "node",
             lambda: node_case("POST", "/v1/nodes", {"name": NODE_NAME, "capacity": TINY_NODE}, "node.reregister",
                               NODE_NAME)),
            ("list nodes", "admin", lambda: Case("GET", "/v1/nodes")),
            ("drain node", "admin",
             lambda: (lambda n: node_case("POST", f"/v1/nodes/{n}/drain", None, "node.drain", n))(self.make_node())),
            ("node assignment", "node", lambda: Case("GET", f"/v1/nodes/{NODE_NAME}/assignment")),
            ("claim sessions", "node", lambda: Case("GET", f"/v1/nodes/{NODE_NAME}/sessions")),
            # exec, logs and console need an agent to answer them: their roles are in test_sessions.py.
            # A heartbeat with nothing to report changes no stored object's version and writes no event.
            ("node status", "node",
             lambda: node_case("POST", f"/v1/nodes/{NODE_NAME}/status", {"vms": []}, None, NODE_NAME)),
        ]

    def expected(self, name, access, caller):
        if access == "admin-invisible":  # a fresh project no project or node token can see
            return "ok" if caller == "admin" else (401 if caller in UNAUTHENTICATED else 404)
        if name == "delete project a" and caller == "admin":
            return 409
        return expected_status(access, caller)

    def test_every_endpoint_for_every_caller(self):
        for (name, access, make), caller in itertools.product(self.endpoints(), CALLERS):
            with self.subTest(endpoint=name, caller=caller):
                self.check_one(name, caller, make(), self.expected(name, access, caller))

    def check_one(self, name, caller, case, want):
        label = f"{caller} on '{name}' ({case.method} {case.path})"
        client, headers = self.caller_client(caller)
        probe_before = self.probe(case)
        seq = self.last_seq()
        r = client.request(case.method, case.path, body=case.body, headers=headers)
        # Background work (the reconcile loop) writes events as "system"; only the caller's count here.
        events = [e for e in self.events_after(seq) if e["actor"] != "system"]
        if want == "ok":
            self.assertLess(r.status, 300, f"{label}: expected success, got {r}")
            if case.action is None:
                self.assertEqual(events, [], f"{label}: a read wrote events")
                return
            self.assertEqual(len(events), 1, f"{label}: expected exactly one event, got {events}")
            e = events[0]
            self.assertEqual((e["actor"], e["action"], e["object"]),
                             (self.token_ids[caller], case.action, case.obj(r)), f"{label}: wrong event")
            return
        self.assertEqual(r.status, want, f"{label}: {r}")
        self.assertEqual(events, [], f"{label}: denied, yet wrote events")
        if case.probe:
            self.assertEqual(self.probe(case), probe_before, f"{label}: denied, yet changed {case.probe}")

    def probe(self, case):
        if not case.probe:
            return None
        r = self.admin.get(case.probe)
        body = r.json
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k not in OBSERVED_FIELDS}
        return r.status, body

    def test_other_projects_objects_look_missing_not_forbidden(self):
        b_owner = self.client(self.tokens["owner_b"])
        # The same answer whether the object exists or not: nothing leaks.
        for existing, missing in (("/v1/projects/a", "/v1/projects/zz"),
                                  ("/v1/projects/a/vms/v1", "/v1/projects/zz/vms/v1"),
                                  ("/v1/projects/a/apps/s1/releases", "/v1/projects/zz/apps/s1/releases")):
            with self.subTest(path=existing):
                there, gone = b_owner.get(existing), b_owner.get(missing)
                self.assertEqual((there.status, gone.status), (404, 404))
                self.assertEqual(there.error_message().replace("'a'", "'zz'"), gone.error_message())

    def test_project_tokens_see_only_their_project(self):
        viewer = self.client(self.tokens["viewer_a"])
        self.assertEqual([p["name"] for p in viewer.list_all("/v1/projects")], ["a"])
        events = viewer.list_all("/v1/events")
        self.assertTrue(events, "A's viewer sees none of A's events")
        self.assertEqual({e["project"] for e in events}, {"a"})
        owner_a_tokens = self.client(self.tokens["owner_a"]).list_all("/v1/tokens")
        self.assertTrue(owner_a_tokens)
        self.assertEqual({t["project"] for t in owner_a_tokens}, {"a"})

    def test_node_token_sees_no_project_events(self):
        # docs/api.md: a node token may register its node, read its assignment and report status;
        # "agents use nothing else". Reading every project's audit log is not among those.
        r = self.client(self.tokens["node"]).get("/v1/events?limit=1000")
        leaked = [e for e in (r.json or {}).get("items", []) if e["project"] is not None]
        self.assertTrue(r.status == 403 or not leaked,
                        f"node token read {len(leaked)} project events, e.g. {leaked[:1]}")


if __name__ == "__main__":
    h.main()
