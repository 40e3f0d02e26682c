"""Every mutation is one event (who, what, when); the SSE stream resumes without gaps or duplicates."""
import http.client
import json
import threading

import berth_harness as h
import openapi_conformance


def read_sse(address, token, path, count, last_event_id=None, timeout=20):
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    headers = {"Authorization": f"Bearer {token}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    assert r.status == 200, r.read()
    assert r.getheader("Content-Type").startswith("text/event-stream")
    events, frame = [], {}
    while len(events) < count:
        line = r.readline().decode().rstrip("\n")
        if line == "":
            if "data" in frame:
                events.append(frame)
            frame = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            frame[key] = value
    conn.close()
    return events


class EventsTest(h.BerthdTestCase):
    def test_each_mutation_is_one_event_with_actor_action_object(self):
        before = self.last_seq()
        who = self.admin.get("/v1/whoami").json["token_id"]
        self.assertEqual(self.admin.post("/v1/projects", {"name": "ev"}).status, 201)
        self.assertEqual(self.admin.post("/v1/projects/ev/vms", {"name": "web"}).status, 201)
        self.assertEqual(self.admin.post("/v1/projects/ev/vms/web/stop").status, 202)
        self.assertEqual(self.admin.delete("/v1/projects/ev/vms/web").status, 204)
        events = self.admin.get(f"/v1/events?after={before}").json["items"]
        got = [(e["actor"], e["action"], e["object"]) for e in events]
        self.assertEqual(got, [(who, "project.create", "projects/ev"), (who, "vm.create", "projects/ev/vms/web"),
                               (who, "vm.stop", "projects/ev/vms/web"), (who, "vm.delete", "projects/ev/vms/web")])
        for e in events:
            self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    def assertFramesMatchLog(self, frames, token=None, project=None):
        """Each SSE frame is the event the list API returns for that seq, and valid against Event."""
        reader = self.client(token) if token else self.admin
        query = f"&project={project}" if project else ""
        first = int(frames[0]["id"])
        logged = {e["seq"]: e for e in reader.list_all(f"/v1/events?after={first - 1}{query}")}
        for frame in frames:
            body = json.loads(frame["data"])
            openapi_conformance.validate("components/schemas/Event", body)
            self.assertEqual(int(frame["id"]), body["seq"])
            self.assertEqual(frame["event"], body["action"])
            self.assertEqual(body, logged.get(body["seq"]), f"frame {frame['id']} differs from the event log")

    def test_stream_delivers_live_events_and_resumes_from_last_event_id(self):
        start = self.last_seq()
        received = []
        reader = threading.Thread(target=lambda: received.extend(
            read_sse(self.berthd.address, self.berthd.admin_token, f"/v1/events?follow=1&after={start}", 12)))
        reader.start()
        for i in range(30):
            self.assertEqual(self.admin.post("/v1/projects", {"name": f"sse{i}"}).status, 201)
        reader.join(30)
        self.assertFalse(reader.is_alive())
        self.assertEqual([int(e["id"]) for e in received], list(range(start + 1, start + 13)))
        self.assertFramesMatchLog(received)
        # Resume after the twelfth: the other eighteen follow, nothing repeated or skipped.
        rest = read_sse(self.berthd.address, self.berthd.admin_token, "/v1/events?follow=1", 18,
                        last_event_id=received[-1]["id"])
        self.assertEqual([int(e["id"]) for e in rest], list(range(start + 13, start + 31)))
        self.assertFramesMatchLog(rest)

    def test_project_token_stream_is_scoped(self):
        for p in ("mine", "other"):
            self.assertEqual(self.admin.post("/v1/projects", {"name": p}).status, 201)
        token = self.admin.post("/v1/tokens", {"name": "v", "role": "viewer", "project": "mine"}).json["token"]
        start = self.last_seq()
        for i in range(4):  # interleaved, so the project's events are not consecutive seqs
            for p in ("other", "mine"):
                self.assertEqual(self.admin.post(f"/v1/projects/{p}/vms", {"name": f"w{i}"}).status, 201)
        frames = read_sse(self.berthd.address, token, f"/v1/events?follow=1&after={start}", 4)
        objects = [json.loads(f["data"])["object"] for f in frames]
        self.assertEqual(objects, [f"projects/mine/vms/w{i}" for i in range(4)])
        self.assertFramesMatchLog(frames, token=token)
        viewer = self.client(token)
        self.assertEqual(viewer.get("/v1/events?project=other").status, 404)
        self.assertEqual(viewer.get("/v1/events?project=other&follow=1").status, 404)

    def test_stream_needs_a_valid_token(self):
        self.assertEqual(self.client(None).get("/v1/events?follow=1").status, 401)
        self.assertEqual(self.client("berth_" + "1" * 64).get("/v1/events?follow=1").status, 401)


if __name__ == "__main__":
    h.main()
