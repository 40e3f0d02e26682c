#pragma once
// Packs a local directory into the tar bundle `berth deploy --dir` uploads. Entries are
// relative to the directory, sorted, without owners or timestamps from this machine, so the
// same tree always gives the same bytes (and digest): an unchanged redeploy uploads nothing new.

#include <string>

#include "common/result.h"

namespace berth::cli {

Result<std::string> packDirectory(const std::string& dir);

}  // namespace berth::cli
