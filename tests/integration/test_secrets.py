"""Secrets through a real berthd: sealed at rest, never returned, versioned into releases.

The agent's side is played over the node API with a node token: the assignment is the one place
a value leaves berthd. The e2e tier checks that a real app in a real VM sees it.
"""
import json
import os
import unittest

import berth_harness as h

NODE = "n1"
VALUE = "s3cr3t-Value-" + os.urandom(8).hex()


class SecretsTest(h.BerthdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a = cls.admin
        cls.node = cls.register_node(NODE)
        for p in ("a", "b"):
            assert a.post("/v1/projects", {"name": p}).status == 201
        assert a.post("/v1/projects/a/vms", {"name": "v"}).status == 201
        cls.tokens = {}
        for name, body in (("viewer", {"role": "viewer", "project": "a"}),
                           ("deployer", {"role": "deployer", "project": "a"}),
                           ("owner-b", {"role": "owner", "project": "b"})):
            cls.tokens[name] = cls.berthd.client(a.post("/v1/tokens", {"name": name, **body}).json["token"])
        cls.wait_placed("a", "v", NODE)

    def test_lifecycle_versions_and_releases(self):
        d = self.tokens["deployer"]
        r = d.post("/v1/projects/a/secrets", {"name": "DB_PASSWORD", "value": VALUE})
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json["name"], r.json["version"], r.json["apps_released"]), ("DB_PASSWORD", 1, []))
        self.assertNotIn(VALUE, r.raw.decode())

        r = d.post("/v1/projects/a/apps", {"name": "web", "command": ["httpd"],
                                          "secrets": ["DB_PASSWORD", {"name": "DB_PASSWORD_FILE", "as": "file"}]})
        self.assertError(r, 400, "invalid_argument", "secret 'DB_PASSWORD_FILE' does not exist in project 'a'")
        self.assertEqual(d.post("/v1/projects/a/secrets", {"name": "TLS_KEY", "value": "key-" + VALUE}).status, 201)
        r = d.post("/v1/projects/a/apps", {"name": "web", "command": ["httpd"],
                                          "secrets": ["DB_PASSWORD", {"name": "TLS_KEY", "as": "file"}]})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["spec"]["secrets"], [{"name": "DB_PASSWORD", "as": "env", "version": 1},
                                                     {"name": "TLS_KEY", "as": "file", "version": 1}])

        # A new value is a new version, and every app using it gets a release carrying it.
        r = d.post("/v1/projects/a/secrets", {"name": "DB_PASSWORD", "value": VALUE + "-v2"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["version"], r.json["apps_released"]), (2, ["web"]))
        app = d.get("/v1/projects/a/apps/web").json
        self.assertEqual(app["release"], 2)
        self.assertEqual(app["spec"]["secrets"][0]["version"], 2)

        # The node that runs the app is handed the values of its current release.
        assignment = self.node.get(f"/v1/nodes/{NODE}/assignment").json
        self.assertEqual(self.assigned_secrets(assignment, "a", "web"),
                         [{"name": "DB_PASSWORD", "as": "env", "value": VALUE + "-v2"},
                          {"name": "TLS_KEY", "as": "file", "value": "key-" + VALUE}])

        # Rollback restores the release's secret version, not just its command.
        r = d.post("/v1/projects/a/apps/web/rollback", {"to": 1})
        self.assertEqual(r.status, 200, r)
        assignment = self.node.get(f"/v1/nodes/{NODE}/assignment").json
        self.assertEqual(self.assigned_secrets(assignment, "a", "web")[0]["value"], VALUE)

        listed = self.tokens["viewer"].get("/v1/projects/a/secrets")
        self.assertEqual(listed.status, 200, listed)
        self.assertEqual([(s["name"], s["version"]) for s in listed.json["items"]],
                         [("DB_PASSWORD", 2), ("TLS_KEY", 1)])

        # In use: refused, nothing removed. Unused: deleted, and an old release using it cannot return.
        r = d.delete("/v1/projects/a/secrets/TLS_KEY")
        self.assertError(r, 409, "failed_precondition", "used by app(s) web")
        self.assertEqual(d.patch("/v1/projects/a/apps/web", {"secrets": ["DB_PASSWORD"]}).status, 200)
        self.assertEqual(d.delete("/v1/projects/a/secrets/TLS_KEY").status, 204)
        self.assertError(d.delete("/v1/projects/a/secrets/TLS_KEY"), 404, "not_found")
        r = d.post("/v1/projects/a/apps/web/rollback", {"to": 2})
        self.assertError(r, 409, "failed_precondition", "uses secret 'TLS_KEY' version 1, which was deleted")

    @staticmethod
    def assigned_secrets(assignment, project, app):
        """The secrets the node is handed with each instance of the app (one entry per VM)."""
        instances = [a for a in assignment["apps"] if (a["project"], a["name"]) == (project, app)]
        assert instances, f"{project}/{app} is not in the assignment"
        return instances[0]["secrets"]

    def test_values_never_leave_except_to_the_node(self):
        d = self.tokens["deployer"]
        marker = "leak-check-" + os.urandom(8).hex()
        self.assertEqual(d.post("/v1/projects/a/secrets", {"name": "LEAK_CHECK", "value": marker}).status, 201)
        self.assertEqual(d.post("/v1/projects/a/apps", {"name": "leaky", "command": ["true"],
                                                       "secrets": ["LEAK_CHECK"]}).status, 201)
        a = self.admin
        for path in ("/v1/projects/a/secrets", "/v1/projects/a/apps/leaky", "/v1/projects/a/apps/leaky/releases",
                     "/v1/events?limit=1000", "/v1/projects/a/apps"):
            self.assertNotIn(marker, a.get(path).raw.decode(), path)
        # Sealed at rest: neither the database nor its WAL holds the value's bytes.
        for name in os.listdir(self.berthd.data_dir):
            path = os.path.join(self.berthd.data_dir, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    self.assertNotIn(marker.encode(), f.read(), name)
        key = os.path.join(self.berthd.data_dir, "master.key")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        self.assertIn(marker, json.dumps(self.node.get(f"/v1/nodes/{NODE}/assignment").json))

    def test_roles_and_isolation(self):
        viewer, owner_b = self.tokens["viewer"], self.tokens["owner-b"]
        self.assertError(viewer.post("/v1/projects/a/secrets", {"name": "X", "value": "v"}), 403, "permission_denied")
        self.assertError(viewer.delete("/v1/projects/a/secrets/X"), 403, "permission_denied")
        self.assertError(owner_b.get("/v1/projects/a/secrets"), 404, "not_found")
        self.assertError(owner_b.post("/v1/projects/a/secrets", {"name": "X", "value": "v"}), 404, "not_found")
        self.assertError(self.client().get("/v1/projects/a/secrets"), 401, "unauthenticated")
        self.assertError(self.admin.get("/v1/projects/zz/secrets"), 404, "not_found")

    def test_bad_input_changes_nothing(self):
        d = self.tokens["deployer"]
        before = self.last_seq()
        for body, mentions in (({"name": "1BAD", "value": "v"}, "not a valid secret name"),
                               ({"name": "has-dash", "value": "v"}, "not a valid secret name"),
                               ({"name": "OK"}, "value"),
                               ({"name": "OK", "value": 7}, "value"),
                               ({"name": "OK", "value": "v", "extra": 1}, "extra"),
                               ({"name": "OK", "value": "x" * 70000}, "64 KiB")):
            self.assertError(d.post("/v1/projects/a/secrets", body), 400, "invalid_argument", mentions)
        r = d.post("/v1/projects/a/apps", {"name": "bad", "command": ["x"], "secrets": [{"name": "A", "as": "disk"}]})
        self.assertError(r, 400, "invalid_argument", "secrets[0].as")
        r = d.post("/v1/projects/a/apps", {"name": "bad", "command": ["x"], "secrets": [3]})
        self.assertError(r, 400, "invalid_argument", "secrets[0]")
        self.assertEqual(self.last_seq(), before, "a refused request wrote an event")


class MasterKeyCommandTest(unittest.TestCase):
    """--master-key-command: the key comes from an operator's command (a KMS client), never a file."""

    def run_berthd(self, *args):
        b = h.Berthd(list(h.NO_LIMITS) + list(args))
        self.addCleanup(b.close)
        return b

    def test_the_key_comes_from_the_command_and_its_failures_stop_berthd(self):
        key = "ab" * 32
        b = self.run_berthd("--master-key-command", f"printf '{key}\\n'").start()
        admin = b.admin()
        self.assertEqual(admin.post("/v1/projects", {"name": "k"}).status, 201)
        self.assertEqual(admin.post("/v1/projects/k/secrets", {"name": "S", "value": "v"}).status, 201)
        self.assertFalse(os.path.exists(os.path.join(b.data_dir, "master.key")))
        self.assertNotIn(key, b.read_log())
        b.stop()
        for command, message in (("echo nope >&2; exit 3", "the master key command failed (exit 3)"),
                                 ("printf xyz", "the output of the master key command")):
            bad = self.run_berthd("--master-key-command", command)
            with self.assertRaises(RuntimeError) as failed:
                bad.start()
            self.assertIn(message, str(failed.exception))


if __name__ == "__main__":
    h.main()
