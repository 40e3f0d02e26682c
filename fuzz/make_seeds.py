#!/usr/bin/env python3
"""Writes seed inputs for guest_protocol_fuzz into corpus/guest_protocol/.

Each seed is one chunk-size byte (see guest_protocol_fuzz.cc) followed by framed messages:
a big-endian u32 length and a CBOR map, encoded here by hand (no cbor2 needed).
"""
import os
import struct


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | info]) + struct.pack(fmt, n)


def cbor(v):
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        return head(3, len(v.encode())) + v.encode()
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(v)


def frame(type_, id_=0, **body):
    payload = cbor({"type": type_, "id": id_, **body})
    return struct.pack(">I", len(payload)) + payload


SEEDS = {
    "ping": (0, [frame("ping", 1)]),
    "hellos": (3, [frame("hello", 1, version=1),
                   frame("hello", 0, version=1, boot_id="b1", hostname="vm",
                         capabilities=["exec", "logs", "image"])]),
    "run_app": (0, [frame("run_app", 2, app="web", argv=["/bin/web", "-p", "80"],
                          env={"PORT": "80"}, cwd="/", uid=1000, gid=1000,
                          files=[{"path": "/etc/x", "mode": 0o644, "data": b"x\n"}],
                          image_digest="sha256:" + "0" * 64, image_size=4096,
                          image_source="10.0.2.100:80")]),
    "exec": (7, [frame("exec", 3, argv=["sh", "-c", "echo hi"], stdin=b"\x00\xff",
                       timeout_ms=1000),
                 frame("exec_output", 0, exec=3, stream="stdout", data=b"hi\n"),
                 frame("reply", 3, ok=True,
                       result={"exit_code": 0, "signal": 0, "timed_out": False})]),
    "logs": (1, [frame("logs", 4, app="web", since=10),
                 frame("log", 0, app="web", stream="stderr", seq=10, ts_ms=1700000000000,
                       data=b"oops\n"),
                 frame("reply", 4, ok=True, result={"next": 11})]),
    "apps": (0, [frame("stop_app", 5, app="web", signal=15, grace_ms=5000),
                 frame("app_exited", 0, app="web", pid=42, code=-1, signal=9),
                 frame("app_status", 6), frame("metrics", 7), frame("shutdown", 8, grace_ms=0),
                 frame("reply", 8, ok=False, error="busy")]),
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "guest_protocol")
os.makedirs(out, exist_ok=True)
for name, (chunk, frames) in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([chunk]) + b"".join(frames))
