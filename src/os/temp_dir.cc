#include "os/temp_dir.h"

#include <cerrno>
#include <cstdlib>
#include <utility>
#include <vector>

#include "os/file_util.h"

namespace berth::os {

Result<TempDir> TempDir::create(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  return createIn(base && *base ? base : "/tmp", prefix);
}

Result<TempDir> TempDir::createIn(const std::string& parent, const std::string& prefix) {
  std::string tmpl = parent + "/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return internalError("cannot create a temporary directory '" + tmpl + "': " + errnoMessage(errno));
  }
  return TempDir(std::string(buf.data()));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) (void)removeAll(path_);
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

TempDir::~TempDir() {
  if (!path_.empty()) (void)removeAll(path_);
}

}  // namespace berth::os
