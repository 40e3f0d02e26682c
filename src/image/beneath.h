#pragma once
// File operations confined to a directory tree whose contents are hostile (an image's layers
// decide what symlinks it holds). Lookups go through openat2(RESOLVE_BENEATH |
// RESOLVE_NO_MAGICLINKS): the kernel refuses any path — by `..`, an absolute symlink, a symlink
// climbing out, a /proc magic link — that would leave the root, so no check of ours can be raced
// or fooled. Final components are then touched with *at() calls that do not follow symlinks.
// Paths here are relative and already split into components with no "", "." or ".." (see
// splitEntryPath).

#include <string>
#include <vector>

#include "common/result.h"
#include "os/unique_fd.h"

namespace berth::image {

// Splits an archive entry name into components: "./a//b/" → {"a", "b"}; "." or "./" → {} (the
// root itself). An absolute name, a ".." component or a name longer than PATH_MAX is an
// InvalidArgument error; its message does not repeat the name, which the caller adds.
Result<std::vector<std::string>> splitEntryPath(const std::string& name);

// "a/b" from {"a", "b"}; "." for {}.
std::string joinPath(const std::vector<std::string>& components);

// Opens `components` beneath `root_fd` with `flags` (O_CLOEXEC is added). Errors: InvalidArgument
// when the path would leave the root, NotFound when a component is missing, Internal otherwise.
Result<os::UniqueFd> openBeneath(int root_fd, const std::vector<std::string>& components,
                                 int flags);

// Opens directory `components` beneath `root_fd` as an O_PATH descriptor, creating missing
// directories (mode 0755, owned by the caller) on the way; each is created by mkdirat in a parent
// that was itself resolved beneath the root.
Result<os::UniqueFd> makeDirsBeneath(int root_fd, const std::vector<std::string>& components);

// rm -rf of `name` in `dir_fd`: a symlink is removed, never followed; a missing name is fine.
Status removeAt(int dir_fd, const std::string& name);

// The names in the directory `dir_fd` (not "." and ".."); `dir_fd` itself is left open.
Result<std::vector<std::string>> listDir(int dir_fd);

}  // namespace berth::image
