#include "cli/bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <vector>

#include "os/file_util.h"

namespace berth::cli {
namespace {

namespace fs = std::filesystem;

la_ssize_t appendToString(archive*, void* target, const void* data, size_t size) {
  static_cast<std::string*>(target)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

}  // namespace

Result<std::string> packDirectory(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return invalidArgument("--dir " + dir + " is not a directory");
  std::vector<fs::path> entries;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end; it != end; it.increment(ec)) {
    if (ec) return invalidArgument("cannot read " + dir + ": " + ec.message());
    entries.push_back(fs::relative(it->path(), dir));
  }
  std::sort(entries.begin(), entries.end());

  std::string out;
  std::unique_ptr<archive, int (*)(archive*)> a(archive_write_new(), archive_write_free);
  archive_write_set_format_pax_restricted(a.get());
  archive_write_open(a.get(), &out, nullptr, appendToString, nullptr);
  for (const fs::path& rel : entries) {
    const fs::path full = fs::path(dir) / rel;
    struct stat st{};
    if (::lstat(full.c_str(), &st) != 0) return invalidArgument("cannot stat " + full.string());
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(entry.get(), rel.c_str());
    archive_entry_set_perm(entry.get(), st.st_mode & 0777);
    std::string data;
    if (S_ISDIR(st.st_mode)) {
      archive_entry_set_filetype(entry.get(), AE_IFDIR);
    } else if (S_ISLNK(st.st_mode)) {
      archive_entry_set_filetype(entry.get(), AE_IFLNK);
      archive_entry_set_symlink(entry.get(), fs::read_symlink(full, ec).c_str());
    } else if (S_ISREG(st.st_mode)) {
      archive_entry_set_filetype(entry.get(), AE_IFREG);
      BERTH_ASSIGN_OR_RETURN(data, os::readFile(full.string()));
      archive_entry_set_size(entry.get(), static_cast<la_int64_t>(data.size()));
    } else {
      return invalidArgument(full.string() + " is not a file, directory or symlink; a bundle cannot carry it");
    }
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK ||
        (!data.empty() && archive_write_data(a.get(), data.data(), data.size()) < 0)) {
      return internalError("packing " + rel.string() + ": " + archive_error_string(a.get()));
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return internalError(std::string("packing: ") + archive_error_string(a.get()));
  return out;
}

}  // namespace berth::cli
