#pragma once
// Whole-file helpers. Writes that must survive a crash go through writeFileAtomic.

#include <sys/types.h>

#include <string>

#include "common/result.h"

namespace berth::os {

Result<std::string> readFile(const std::string& path);

// Writes `data` to a temporary file beside `path`, fsyncs it, renames it over `path` and fsyncs
// the directory: after a crash the file holds either the old or the new content, never a mix.
Status writeFileAtomic(const std::string& path, const std::string& data, mode_t mode = 0644);

// mkdir -p with `mode` for the directories it creates.
Status makeDirs(const std::string& path, mode_t mode = 0755);

// rm -rf; a missing path is not an error.
Status removeAll(const std::string& path);

bool pathExists(const std::string& path);

// strerror as a string, for messages.
std::string errnoMessage(int err);

}  // namespace berth::os
