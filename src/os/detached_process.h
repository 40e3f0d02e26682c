#pragma once
// Starts a long-lived helper (a published port's proxy, the ingress's Caddy) that must outlive
// the process starting it, as QEMU does: a restarted agent finds it again by its socket, and an
// agent killed mid-pass leaves its traffic flowing.

#include <string>
#include <vector>

#include "common/status.h"

namespace berth::os {

// Runs `argv` (argv[0] a path) in a session of its own, reparented to init by a double fork,
// with stdin and stdout on /dev/null, stderr appended to `log_path` (created 0600), a clean
// signal mask and no descriptor of the caller's. `env` ("KEY=value") replaces the environment
// when given. Returns once the child is detached; whether it then starts is for the caller
// to check (its socket answers, or its log says why not).
Status spawnDetached(const std::vector<std::string>& argv, const std::string& log_path,
                     const std::vector<std::string>* env = nullptr);

}  // namespace berth::os
