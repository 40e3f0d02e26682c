#pragma once
// Reading what a child of init (an app instance, an exec) writes to its output pipes.

#include <optional>
#include <string>

#include "os/unique_fd.h"

namespace berth::guest {

// One read (up to 16 KiB) from a child's non-blocking output pipe: the bytes, or nothing when
// there are none yet; at EOF or on an error the pipe is closed (and nothing returned).
std::optional<std::string> readChunk(os::UniqueFd& fd);

}  // namespace berth::guest
