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

    def test_stream_delivers_live_events_and_resumes_from_last_event_id(self):
        start = self.last_seq()
        received = []
        reader = threading.Thread(target=lambda: received.extend(
            read_sse(self.berthd.address, self.berthd.admin_token, f"/v1/events?follow=1&after={start}", 3)))
        reader.start()
        for i in range(5):
            self.assertEqual(self.admin.post("/v1/projects", {"name": f"sse{i}"}).status, 201)
        reader.join(30)
        self.assertFalse(reader.is_alive())
        self.assertEqual([int(e["id"]) for e in received], [start + 1, start + 2, start + 3])
        for e in received:
            body = json.loads(e["data"])
            openapi_conformance.validate("components/schemas/Event", body)
            self.assertEqual(e["event"], body["action"])
        # Resume after the third: the fourth and fifth follow, nothing repeated or skipped.
        rest = read_sse(self.berthd.address, self.berthd.admin_token, "/v1/events?follow=1", 2,
                        last_event_id=received[-1]["id"])
        self.assertEqual([int(e["id"]) for e in rest], [start + 4, start + 5])

    def test_project_token_stream_is_scoped(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "mine"}).status, 201)
        token = self.admin.post("/v1/tokens", {"name": "v", "role": "viewer", "project": "mine"}).json["token"]
        start = self.last_seq()
        self.assertEqual(self.admin.post("/v1/projects", {"name": "other"}).status, 201)
        self.assertEqual(self.admin.post("/v1/projects/mine/vms", {"name": "w"}).status, 201)
        events = read_sse(self.berthd.address, token, f"/v1/events?follow=1&after={start}", 1)
        self.assertEqual(json.loads(events[0]["data"])["object"], "projects/mine/vms/w")
        self.assertEqual(self.berthd.client(token).get("/v1/events?project=other").status, 404)


if __name__ == "__main__":
    h.main()
