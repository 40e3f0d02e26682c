"""Exec, logs and console are relayed through berthd to the VM's node agent (docs/api.md, Sessions).

A real berthd; the agent's side is played here over the node API with a node token, so every
step of the relay is visible: what the agent is handed, what the caller receives, refusals,
a caller that leaves, and who may do what. tests/e2e covers the same commands with a real agent
and real VMs.
"""
import base64
import http.client
import json
import threading
import time

import berth_harness as h

NODE = "n1"


def open_stream(address, token, method, path, body=None):
    """Starts a session request; returns (connection, response) once berthd has answered."""
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    return conn, conn.getresponse()


def read_frames(response):
    """Every (event, data) of an SSE response until the server ends it."""
    frames, frame = [], {}
    for raw in response:
        line = raw.decode().rstrip("\n")
        if line == "":
            if "data" in frame:
                frames.append((frame.get("event", ""), json.loads(frame["data"])))
            frame = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            frame[key] = value
    return frames


class SessionsTest(h.BerthdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a = cls.admin
        cls.node = cls.register_node(NODE)
        cls.other_node = cls.berthd.client(a.post("/v1/tokens", {"name": "n2", "role": "node"}).json["token"])
        for p in ("a", "b"):
            assert a.post("/v1/projects", {"name": p}).status == 201
        assert a.post("/v1/projects/a/vms", {"name": "v"}).status == 201
        assert a.post("/v1/projects/a/apps", {"name": "web", "command": ["httpd"], "env": {"A": "1"}}).status == 201
        cls.tokens = {}
        for name, body in (("viewer", {"role": "viewer", "project": "a"}),
                           ("deployer", {"role": "deployer", "project": "a"}),
                           ("owner-b", {"role": "owner", "project": "b"})):
            cls.tokens[name] = a.post("/v1/tokens", {"name": name, **body}).json["token"]
        cls.wait_placed("a", "v", NODE)
        cls.report("running")

    @classmethod
    def report(cls, state):
        r = cls.node.post(f"/v1/nodes/{NODE}/status", {"vms": [{"project": "a", "name": "v", "state": state}]})
        assert r.status == 204, r

    def claim_one(self, wait=10):
        r = self.node.get(f"/v1/nodes/{NODE}/sessions?wait={wait}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json["items"]), 1, r.json)
        return r.json["items"][0]

    def deliver(self, session_id, frames=(), error=None, done=False, client=None):
        body = {"frames": list(frames), "done": done}
        if error is not None:
            body["error"] = error
        return (client or self.node).post(f"/v1/nodes/{NODE}/sessions/{session_id}", body)

    def start_caller(self, method, path, body=None, token=None):
        """Runs the caller's request in a thread; the result holds its status and frames or error."""
        result = {}

        def call():
            conn, r = open_stream(self.berthd.address, token or self.berthd.admin_token, method, path, body)
            result["status"] = r.status
            if r.status == 200:
                result["content_type"] = r.getheader("Content-Type")
                result["frames"] = read_frames(r)
            else:
                result["error"] = json.loads(r.read())["error"]
            conn.close()

        thread = threading.Thread(target=call)
        thread.start()
        return thread, result

    def test_exec_reaches_the_agent_and_its_output_and_exit_status_reach_the_caller(self):
        seq = self.last_seq()
        stdin = base64.b64encode(b"input").decode()
        caller, result = self.start_caller("POST", "/v1/projects/a/apps/web/exec",
                                           {"command": ["sh", "-c", "cat; exit 3"], "stdin": stdin,
                                            "env": {"B": "2"}, "timeout_seconds": 30},
                                           token=self.tokens["deployer"])
        session = self.claim_one()
        self.assertEqual((session["kind"], session["project"], session["vm"], session["app"]),
                         ("exec", "a", "v", "web"))
        self.assertEqual(session["params"], {"command": ["sh", "-c", "cat; exit 3"], "stdin": stdin,
                                             "env": {"B": "2"}, "timeout_ms": 30000})
        self.assertEqual(self.deliver(session["id"]).status, 204)  # started
        self.assertIn("berth_sessions_open 1\n", self.admin.get("/metrics").raw.decode())
        out = {"stream": "stdout", "data": base64.b64encode(b"input").decode()}
        err = {"stream": "stderr", "data": base64.b64encode(b"warn\n").decode()}
        self.assertEqual(self.deliver(session["id"], [out, err]).status, 204)
        exit_frame = {"exit_code": 3, "signal": 0, "timed_out": False}
        self.assertEqual(self.deliver(session["id"], [exit_frame], done=True).status, 204)
        caller.join(30)
        self.assertEqual(result["status"], 200, result)
        self.assertTrue(result["content_type"].startswith("text/event-stream"))
        self.assertEqual(result["frames"], [("output", out), ("output", err), ("exit", exit_frame)])
        # The session is over: late output is refused, so the agent stops.
        self.assertEqual(self.deliver(session["id"], [out]).status, 404)
        self.assertIn("berth_sessions_open 0\n", self.admin.get("/metrics").raw.decode())
        execs = [e for e in self.events_after(seq) if e["action"] == "app.exec"]
        self.assertEqual(len(execs), 1, execs)
        self.assertEqual(execs[0]["object"], "projects/a/apps/web")
        self.assertEqual(execs[0]["details"]["command"], ["sh", "-c", "cat; exit 3"])
        self.assertNotIn(stdin, json.dumps(execs[0]), "stdin is the caller's data, not audit material")

    def test_an_agent_refusal_is_a_409_with_its_reason(self):
        caller, result = self.start_caller("GET", "/v1/projects/a/apps/web/logs?tail=5")
        session = self.claim_one()
        self.assertEqual(session["params"], {"tail": 5, "follow": False})
        self.assertEqual(self.deliver(session["id"], error="VM 'v' has no guest channel up", done=True).status, 204)
        caller.join(30)
        self.assertEqual(result["status"], 409, result)
        self.assertEqual(result["error"], {"code": "failed_precondition", "message": "VM 'v' has no guest channel up"})

    def test_a_failure_after_the_start_ends_the_stream_with_an_error_frame(self):
        caller, result = self.start_caller("GET", "/v1/projects/a/vms/v/console?follow=1&tail=0")
        session = self.claim_one()
        self.assertEqual((session["kind"], session["params"]), ("console", {"tail": 0, "follow": True}))
        self.assertNotIn("app", session)
        self.assertEqual(self.deliver(session["id"], [{"data": "boot\n"}]).status, 204)
        self.assertEqual(self.deliver(session["id"], error="the node's agent is stopping", done=True).status, 204)
        caller.join(30)
        self.assertEqual(result["frames"], [("output", {"data": "boot\n"}),
                                            ("error", {"error": {"code": "failed_precondition",
                                                                 "message": "the node's agent is stopping"}})])

    def test_a_caller_that_leaves_ends_the_session_for_the_agent(self):
        conn_result = {}

        def caller():
            conn, r = open_stream(self.berthd.address, self.berthd.admin_token, "GET",
                                  "/v1/projects/a/apps/web/logs?follow=1")
            conn_result["status"] = r.status
            r.readline()  # the stream's opening comment: it has started
            r.close()  # the response owns the socket now; this closes it
            conn.close()

        thread = threading.Thread(target=caller)
        thread.start()
        session = self.claim_one()
        self.assertEqual(self.deliver(session["id"]).status, 204)
        thread.join(30)
        self.assertEqual(conn_result["status"], 200)
        # berthd notices when it next writes; from then on deliveries are refused.
        statuses = []
        for _ in range(50):
            statuses.append(self.deliver(session["id"], [{"ts": "x", "stream": "stdout", "data": "y"}]).status)
            if statuses[-1] == 404:
                break
            time.sleep(0.1)
        self.assertEqual(statuses[-1], 404, statuses)

    def test_only_the_vms_node_claims_and_delivers(self):
        self.assertEqual(self.other_node.get(f"/v1/nodes/{NODE}/sessions").status, 403)
        caller, result = self.start_caller("GET", "/v1/projects/a/apps/web/logs")
        self.assertEqual(self.other_node.get("/v1/nodes/n2/sessions?wait=1").json["items"], [])
        session = self.claim_one()
        r = self.deliver(session["id"], error="nope", done=True, client=self.other_node)
        self.assertEqual(r.status, 403, r)  # n2's token may not speak for n1
        self.assertEqual(self.deliver(session["id"], done=True).status, 204)
        caller.join(30)
        self.assertEqual(result["frames"], [])

    def test_roles_exec_needs_a_deployer_logs_a_viewer_and_other_projects_see_nothing(self):
        viewer = self.client(self.tokens["viewer"])
        self.assertError(viewer.post("/v1/projects/a/apps/web/exec", {"command": ["ls"]}), 403, "permission_denied")
        self.assertError(viewer.get("/v1/projects/a/vms/v/console"), 403, "permission_denied")
        owner_b = self.client(self.tokens["owner-b"])
        self.assertError(owner_b.post("/v1/projects/a/apps/web/exec", {"command": ["ls"]}), 404, "not_found")
        self.assertError(owner_b.get("/v1/projects/a/apps/web/logs"), 404, "not_found")
        self.assertError(owner_b.get("/v1/projects/a/vms/v/console"), 404, "not_found")
        self.assertError(self.client(None).get("/v1/projects/a/apps/web/logs"), 401, "unauthenticated")
        # A viewer may read logs: the session is queued for the agent.
        caller, result = self.start_caller("GET", "/v1/projects/a/apps/web/logs", token=self.tokens["viewer"])
        session = self.claim_one()
        self.assertEqual(self.deliver(session["id"], done=True).status, 204)
        caller.join(30)
        self.assertEqual(result["status"], 200, result)

    def test_bad_input_is_refused_and_nothing_reaches_the_agent(self):
        seq = self.last_seq()
        exec_path = "/v1/projects/a/apps/web/exec"
        cases = [
            (exec_path, {"command": []}, "command must name a program"),
            (exec_path, {}, "command is required"),
            (exec_path, {"command": ["ls"], "stdin": "not base64!"}, "stdin must be base64"),
            (exec_path, {"command": ["ls"], "stdin": base64.b64encode(b"x" * (64 * 1024 + 1)).decode()},
             "larger than 64 KiB"),
            (exec_path, {"command": ["ls"], "timeout_seconds": 0}, "timeout_seconds"),
            (exec_path, {"command": ["ls"], "env": {"1BAD": "x"}}, "env key '1BAD'"),
            (exec_path, {"command": ["ls"], "tty": True}, "tty"),
        ]
        for path, body, mentions in cases:
            self.assertError(self.admin.post(path, body), 400, "invalid_argument", mentions)
        for path in ("/v1/projects/a/apps/web/logs?tail=-1", "/v1/projects/a/apps/web/logs?tail=100001",
                     "/v1/projects/a/vms/v/console?tail=x"):
            self.assertError(self.admin.get(path), 400, "invalid_argument", "tail")
        self.assertError(self.admin.post("/v1/projects/a/apps/nope/exec", {"command": ["ls"]}), 404, "not_found")
        self.assertError(self.admin.get("/v1/projects/a/vms/nope/console"), 404, "not_found")
        self.assertEqual(self.node.get(f"/v1/nodes/{NODE}/sessions?wait=0").json["items"], [])
        self.assertEqual([e for e in self.events_after(seq) if e["action"] == "app.exec"], [])
        for body in ({"frames": "x"}, {"frames": [1]}, {"done": "yes"}, {"extra": 1}):
            self.assertError(self.node.post(f"/v1/nodes/{NODE}/sessions/abc", body), 400, "invalid_argument")
        self.assertError(self.node.post(f"/v1/nodes/{NODE}/sessions/abc", {"done": True}), 404, "not_found")

    def test_exec_in_a_vm_that_is_not_running_is_refused_with_the_reason(self):
        self.report("stopped")
        try:
            r = self.admin.post("/v1/projects/a/apps/web/exec", {"command": ["ls"]})
            self.assertError(r, 409, "failed_precondition", "VM 'v' of app 'web' is stopped")
        finally:
            self.report("running")
        self.assertEqual(self.node.get(f"/v1/nodes/{NODE}/sessions?wait=0").json["items"], [])


if __name__ == "__main__":
    h.main()
