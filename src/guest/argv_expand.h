#pragma once
// `$(NAME)` in an app's command, replaced by the variable from the app's environment as
// Kubernetes does for command and args: an unknown name stays as written, and `$$` is a
// literal `$`. This is how a command learns the port its instance listens on, `$(PORT)`,
// without a shell in the image.

#include <string>
#include <vector>

namespace berth::guest {

// `env` holds "KEY=value" entries; a later entry for a key wins.
std::vector<std::string> expandArgv(const std::vector<std::string>& argv, const std::vector<std::string>& env);

}  // namespace berth::guest
