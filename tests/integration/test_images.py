"""Image import through a real berthd: an OCI layout built here, uploaded as an archive, imported
(skopeo, libarchive, mkfs.ext4 for real), streamed progress, the cache, and hostile layers.
No network: every image is made by this file.
"""
import hashlib
import io
import json
import os
import tarfile

import berth_harness as h
from test_sessions import open_stream, read_frames


def tar_bytes(entries):
    """entries: (name, kind, payload) with kind file|exec|dir|symlink|char."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if kind in ("file", "exec"):
                info.size, info.mode = len(payload), 0o755 if kind == "exec" else 0o644
                t.addfile(info, io.BytesIO(payload))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "char": tarfile.CHRTYPE}[kind]
            info.mode = 0o755
            if kind == "symlink":
                info.linkname = payload
            t.addfile(info)
    return buf.getvalue()


def oci_archive(layers, entrypoint=("/bin/app",), workdir="/srv"):
    """An OCI image layout (index.json, oci-layout, blobs) as a tar: what skopeo calls oci-archive."""
    blobs = {}

    def blob(data, media_type):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    layer_descs = [blob(tar_bytes(entries), "application/vnd.oci.image.layer.v1.tar") for entries in layers]
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Entrypoint": list(entrypoint), "Env": ["PATH=/bin"], "WorkingDir": workdir,
                         "ExposedPorts": {"8080/tcp": {}}},
              "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in layer_descs]}}
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": blob(json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json"),
                "layers": layer_descs}
    manifest_desc = blob(json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
    index = {"schemaVersion": 2, "manifests": [manifest_desc]}
    files = [("oci-layout", "file", b'{"imageLayoutVersion":"1.0.0"}'),
             ("index.json", "file", json.dumps(index).encode()),
             ("blobs", "dir", None), ("blobs/sha256", "dir", None)]
    files += [("blobs/sha256/" + d[7:], "file", data) for d, data in sorted(blobs.items())]
    return tar_bytes(files), manifest_desc["digest"]


GOOD = [[("srv", "dir", None), ("srv/index.html", "file", b"<p>image</p>"), ("bin", "dir", None),
         ("bin/app", "file", b"#!/bin/sh\necho hi\n"), ("bin/sh", "symlink", "app")]]


class ImagesTest(h.BerthdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        assert cls.admin.post("/v1/projects", {"name": "img"}).status == 201
        cls.viewer = cls.berthd.client(cls.admin.post("/v1/tokens", {"name": "v", "role": "viewer",
                                                                     "project": "img"}).json["token"])

    def upload(self, archive):
        r = self.admin.request("POST", "/v1/projects/img/blobs", raw_body=archive, content_type="application/x-tar")
        self.assertEqual(r.status, 201, r)
        return r.json["digest"]

    def import_image(self, source):
        conn, response = open_stream(self.berthd.address, self.berthd.admin_token, "POST",
                                     "/v1/projects/img/images", {"source": source})
        try:
            if response.status != 200:
                self.fail(f"import answered {response.status}: {response.read()!r}")
            return read_frames(response)
        finally:
            conn.close()

    def test_import_streams_progress_and_a_second_import_does_no_work(self):
        archive, manifest = oci_archive(GOOD)
        frames = self.import_image(self.upload(archive))
        events = [e for e, _ in frames]
        self.assertEqual(events[-1], "done", frames)
        phases = [d["phase"] for e, d in frames if e == "progress"]
        for phase in ("fetch", "verify", "unpack", "convert"):
            self.assertIn(phase, phases)
        image = frames[-1][1]
        self.assertEqual(image["digest"], manifest)
        self.assertFalse(image["cached"])
        self.assertEqual(image["config"]["entrypoint"], ["/bin/app"])
        self.assertEqual(image["config"]["exposed_ports"], ["8080/tcp"])
        self.assertGreater(image["rootfs_size"], 0)
        # The root file system is a blob nodes can fetch by its digest, and it is an ext4.
        rootfs = self.admin.request("GET", f"/v1/blobs/{image['rootfs_digest']}")
        self.assertEqual(rootfs.status, 200)
        self.assertEqual(rootfs.raw[1080:1082], b"\x53\xef", "ext4 superblock magic")
        self.assertEqual("sha256:" + hashlib.sha256(rootfs.raw).hexdigest(), image["rootfs_digest"])

        again = self.import_image(self.upload(archive))
        self.assertEqual(again[-1][0], "done")
        self.assertTrue(again[-1][1]["cached"], again)
        self.assertNotIn("unpack", [d["phase"] for e, d in again if e == "progress"])
        listed = self.viewer.get("/v1/projects/img/images").json["items"]
        self.assertEqual([i["digest"] for i in listed].count(manifest), 1)

    def test_hostile_layers_fail_naming_the_entry_and_import_nothing(self):
        before = self.admin.get("/v1/projects/img/images").json["items"]
        for layers, mentions in (
                ([[("../evil", "file", b"x")]], "../evil"),
                ([[("link", "symlink", "/tmp"), ("link/pwned", "file", b"x")]], "link/pwned"),
                ([[("dev", "dir", None), ("dev/mem", "char", None)]], "device node")):
            archive, _ = oci_archive(layers)
            frames = self.import_image(self.upload(archive))
            self.assertEqual(frames[-1][0], "error", frames)
            self.assertIn(mentions, frames[-1][1]["error"]["message"])
        self.assertEqual(self.admin.get("/v1/projects/img/images").json["items"], before)
        self.assertFalse(os.path.exists("/tmp/pwned"))

    def test_refusals_before_any_work(self):
        archive, _ = oci_archive(GOOD)
        digest = self.upload(archive)
        r = self.viewer.post("/v1/projects/img/images", {"source": digest})
        self.assertError(r, 403, "permission_denied")
        self.assertError(self.admin.post("/v1/projects/img/images", {"source": "sha256:" + "0" * 64}),
                         404, "not_found", "upload it first")
        self.assertError(self.admin.post("/v1/projects/img/images", {"source": "/etc/passwd"}),
                         400, "invalid_argument", "docker://REF")
        self.assertError(self.admin.post("/v1/projects/img/images", {"source": "docker://a b"}),
                         400, "invalid_argument")
        self.assertError(self.admin.post("/v1/projects/nope/images", {"source": digest}), 404, "not_found")

    def test_resources_are_validated_and_kept_in_the_spec(self):
        r = self.admin.post("/v1/projects/img/apps", {"name": "limited", "command": ["x"],
                                                      "resources": {"memory_mib": 64, "pids": 100}})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["spec"]["resources"], {"memory_mib": 64, "cpu_millis": 0, "pids": 100})
        for resources, mentions in (({"memory_mib": 1}, "resources.memory_mib"), ({"cpu_millis": "1"}, "cpu_millis"),
                                    ({"disk": 1}, "disk")):
            r = self.admin.post("/v1/projects/img/apps", {"name": "bad", "command": ["x"], "resources": resources})
            self.assertError(r, 400, "invalid_argument", mentions)


if __name__ == "__main__":
    h.main()
