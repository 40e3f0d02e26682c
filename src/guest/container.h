#pragma once
// Container apps: init's own namespace code (docs/containers.md says why not crun). Each
// instance gets new mount, PID, UTS and IPC namespaces; its root is an overlay of the image's
// read-only mount (lower) and a writable layer on the scratch disk (upper), with its own /proc,
// a /dev of a few safe nodes, tmpfs /tmp and /run, and its secrets at /run/secrets. The VM's
// other files and the other apps' processes are out of sight.
//
// The first process in the PID namespace is a small reaper that init starts (not the app): the
// kernel drops signals without a handler for a namespace's PID 1, so an app run as PID 1 would
// ignore init's SIGTERM. The reaper forwards signals to the app and exits with its status.
//
// createCgroup and containerPaths run in init; the rest in a freshly forked child of init, where
// only system calls are allowed (no allocation).

#include <cstdint>
#include <string>

#include "common/result.h"

namespace berth::guest {

// cgroup v2 limits of one container; 0 = none.
struct ContainerLimits {
  std::uint64_t memory_max = 0;  // bytes
  std::uint64_t cpu_max_millis = 0;
  std::uint64_t pids_max = 0;
};

// Makes /sys/fs/cgroup/berth/<name> with the limits (enabling the memory, cpu and pids
// controllers on the way) and returns its path.
Result<std::string> createCgroup(const std::string& name, const ContainerLimits& limits);
// Removes a cgroup made by createCgroup; it must be empty. Best effort.
void removeCgroup(const std::string& path);

struct ContainerSpec {
  std::string lower;        // the image's read-only mount, e.g. /images/<hex>
  std::string state_dir;    // on the scratch disk: upper/, work/ and root/ live here
  std::string hostname;     // the app's name
  std::string secrets_dir;  // bound read-only at /run/secrets when it exists; may be empty
  std::string cgroup;       // joined first, so the reaper and the app are inside; may be empty
};

// Paths the child will need, prepared before the fork (it may not allocate).
struct ContainerPaths {
  std::string upper, work, root, options, cgroup_procs;
  std::string proc, dev, tmp, run, run_secrets;
};
ContainerPaths containerPaths(const ContainerSpec& spec);

// clone(2) flags for a new container's first process.
int containerCloneFlags();

// In the cloned child (PID 1 of the new namespace): builds the root and pivots into it. Returns
// 0 or an errno.
int enterContainerRoot(const ContainerSpec& spec, const ContainerPaths& paths);

// In a child that entered the namespaces of running container `pid` with setns(2) (an exec):
// returns 0 or an errno. Opens /proc/<pid>/ns/* given as fds opened before the fork.
int joinContainer(const int ns_fds[4]);

// The reaper: forks the app (which returns 0 from here and goes on to exec); the parent never
// returns: it forwards signals to the app and exits with its status.
int forkAppUnderReaper();

}  // namespace berth::guest
