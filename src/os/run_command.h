#pragma once
// Runs a helper program (skopeo, mkfs.ext4, ip, nft, dnsmasq) from an argv, never through a
// shell, so that a source path or registry reference is one argument whatever characters it has.

#include <string>
#include <vector>

#include "common/result.h"

namespace berth::os {

// Runs argv[0] (looked up in PATH) with `argv`, stdin and stdout on /dev/null, and waits for it.
// Its stderr is captured: a failure to start, a nonzero exit or a death by signal is an Internal
// error "<argv[0]> failed (exit N): <the end of its stderr>". The child gets no descriptor of the
// caller's but 0-2 and a clean signal mask; posix_spawn makes this safe in a threaded daemon.
Status runCommand(const std::vector<std::string>& argv);

// The same, returning what the program wrote to its stdout (up to 4 MiB; more is an Internal
// error), for tools whose answer is their output (`bridge fdb show`, `ip -j link show`).
Result<std::string> runCommandOutput(const std::vector<std::string>& argv);

}  // namespace berth::os
