#pragma once
// A directory that is removed, with its contents, when the object goes away.

#include <string>

#include "common/result.h"

namespace berth::os {

class TempDir {
 public:
  // Creates a fresh directory under $TMPDIR (or /tmp) named <prefix>XXXXXX.
  static Result<TempDir> create(const std::string& prefix = "berth-");
  // The same under `parent` (which must exist), e.g. on the file system the result moves to.
  static Result<TempDir> createIn(const std::string& parent, const std::string& prefix);
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace berth::os
