"""cpio (newc) reading and writing for bench/boot, stdlib only.

The benchmark compares the agent's own initramfs with a floor built here. To make the comparison
about what /init does and nothing else, the floor is assembled from the agent's archive itself:
the same kernel module bytes, the same busybox, the same /dev/console, the same header layout
(zero owners and mtimes, one inode per entry, as src/agent/runtime/initramfs.cc writes them).
"""
import os
import re
import stat

TRAILER = "TRAILER!!!"


class Entry:
    def __init__(self, name, mode, data=b"", rdevmajor=0, rdevminor=0):
        self.name = name
        self.mode = mode
        self.data = data
        self.rdevmajor = rdevmajor
        self.rdevminor = rdevminor

    @property
    def is_dir(self):
        return stat.S_ISDIR(self.mode)


def _pad4(n):
    return (4 - n % 4) % 4


def read_cpio(path):
    """Entries of a newc archive, in archive order (the trailer left out)."""
    with open(path, "rb") as f:
        raw = f.read()
    entries, off = [], 0
    while True:
        if raw[off:off + 6] not in (b"070701", b"070702"):
            raise ValueError(f"{path}: not a newc cpio archive at offset {off}")
        fields = [int(raw[off + 6 + 8 * i: off + 14 + 8 * i], 16) for i in range(13)]
        mode, filesize, rmaj, rmin, namesize = fields[1], fields[6], fields[9], fields[10], fields[11]
        off += 110
        name = raw[off:off + namesize - 1].decode()
        off += namesize
        off += _pad4(off)
        data = raw[off:off + filesize]
        off += filesize
        off += _pad4(off)
        if name == TRAILER:
            return entries
        entries.append(Entry(name, mode, data, rmaj, rmin))


def write_cpio(path, entries):
    """Writes a newc archive; inode numbers count from 1 like libarchive's writer in the agent
    (distinct inodes, or the kernel would treat entries as hard links)."""
    out = bytearray()

    def header(ino, e, nlink):
        name = e.name.encode() + b"\0"
        fields = [ino, e.mode, 0, 0, nlink, 0, len(e.data), 0, 0, e.rdevmajor, e.rdevminor, len(name), 0]
        out.extend(b"070701" + b"".join(b"%08x" % v for v in fields))
        out.extend(name)
        out.extend(b"\0" * _pad4(len(out)))
        out.extend(e.data)
        out.extend(b"\0" * _pad4(len(out)))

    for ino, e in enumerate(entries, 1):
        header(ino, e, 2 if e.is_dir else 1)
    header(0, Entry(TRAILER, 0), 1)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(out)
    os.replace(tmp, path)


def module_depends(ko_bytes):
    """The `depends=` field of a module's .modinfo (the host may have no modinfo(8))."""
    m = re.search(rb"(?:^|\0)depends=([^\0]*)", ko_bytes)
    if not m or not m.group(1):
        return []
    return m.group(1).decode().split(",")


def module_closure(entries, wanted):
    """Names from load.order needed for `wanted` (with their dependencies), in load.order's order."""
    by_name = {e.name: e for e in entries}
    order_entry = by_name.get("lib/modules/load.order")
    if order_entry is None:
        raise ValueError("the agent's initramfs has no lib/modules/load.order")
    order = [line[:-3] for line in order_entry.data.decode().split() if line.endswith(".ko")]
    needed, todo = set(), list(wanted)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        ko = by_name.get(f"lib/modules/{name}.ko")
        if ko is None:
            raise ValueError(f"module {name} is not in the agent's initramfs")
        needed.add(name)
        todo += [d.replace("-", "_") for d in module_depends(ko.data)]
    return [n for n in order if n in needed]


def floor_entries(agent_entries, init_script, modules):
    """The floor's archive: the agent's directories, /dev/console, busybox (without its applet
    links: the script calls `busybox APPLET`), `modules` with a load.order listing them, and the
    script as /init."""
    keep = []
    for e in agent_entries:
        if e.is_dir or e.name in ("dev/console", "bin/busybox"):
            keep.append(e)
        elif e.name.startswith("lib/modules/") and e.name.endswith(".ko") and e.name[12:-3] in modules:
            keep.append(e)
    keep.append(Entry("lib/modules/load.order", stat.S_IFREG | 0o644,
                      "".join(f"{m}.ko\n" for m in modules).encode()))
    keep.append(Entry("init", stat.S_IFREG | 0o755, init_script))
    return keep


def replace_init(agent_entries, init_bytes):
    """The agent's archive with another /init binary (e.g. stripped), everything else equal."""
    return [Entry(e.name, e.mode, init_bytes, e.rdevmajor, e.rdevminor) if e.name == "init" else e
            for e in agent_entries]
