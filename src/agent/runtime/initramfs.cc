#include "agent/runtime/initramfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "common/crypto.h"
#include "os/file_util.h"

namespace berth::agent {
namespace {

namespace fs = std::filesystem;

// Bumped when the archive's layout changes, so old cached archives are not reused.
constexpr const char* kLayoutVersion = "berth-initramfs-1";

Result<std::string> findModule(const std::string& modules_dir, const std::string& name) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(modules_dir + "/kernel", ec), end; it != end; it.increment(ec)) {
    if (ec) break;
    if (it->path().filename() == name + ".ko") return it->path().string();
  }
  return notFound("kernel module " + name + ".ko is not under " + modules_dir +
                  " (run scripts/fetch-guest-kernel, or pass --kernel-modules)");
}

Result<std::vector<std::string>> busyboxApplets(const std::string& busybox) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen((busybox + " --list").c_str(), "r"), ::pclose);
  if (!pipe) return internalError("cannot run " + busybox + " --list");
  std::vector<std::string> applets;
  char line[256];
  while (std::fgets(line, sizeof line, pipe.get())) {
    std::string name(line);
    while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
    if (!name.empty() && name != "busybox" && name.find('/') == std::string::npos) applets.push_back(name);
  }
  if (applets.empty()) return internalError(busybox + " --list printed no applets");
  return applets;
}

class ArchiveWriter {
 public:
  explicit ArchiveWriter(const std::string& path) : a_(archive_write_new()) {
    archive_write_set_format_cpio_newc(a_);
    archive_write_add_filter_none(a_);
    ok_ = archive_write_open_filename(a_, path.c_str()) == ARCHIVE_OK;
  }
  ~ArchiveWriter() { archive_write_free(a_); }

  Status add(const std::string& name, mode_t type, mode_t perm, const std::string& data = {},
             const std::string& symlink = {}, dev_t rdev = 0) {
    if (!ok_) return internalError(std::string("initramfs: ") + archive_error_string(a_));
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), type);
    archive_entry_set_perm(entry.get(), perm);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    archive_entry_set_mtime(entry.get(), 0, 0);
    archive_entry_set_nlink(entry.get(), type == AE_IFDIR ? 2 : 1);
    // newc needs distinct inode numbers or the kernel treats entries as hard links.
    archive_entry_set_ino(entry.get(), ++inode_);
    archive_entry_set_size(entry.get(), type == AE_IFREG ? static_cast<la_int64_t>(data.size()) : 0);
    if (type == AE_IFLNK) archive_entry_set_symlink(entry.get(), symlink.c_str());
    if (type == AE_IFCHR) archive_entry_set_rdev(entry.get(), rdev);
    if (archive_write_header(a_, entry.get()) != ARCHIVE_OK ||
        (!data.empty() && archive_write_data(a_, data.data(), data.size()) < 0)) {
      return internalError("initramfs entry " + name + ": " + archive_error_string(a_));
    }
    return Status::ok();
  }

  Status close() {
    if (archive_write_close(a_) != ARCHIVE_OK) return internalError(std::string("initramfs: ") + archive_error_string(a_));
    return Status::ok();
  }

 private:
  archive* a_;
  bool ok_ = false;
  la_int64_t inode_ = 0;
};

}  // namespace

const std::vector<std::string>& defaultGuestModules() {
  static const std::vector<std::string> kModules = {
      "virtio_ring", "virtio",         "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci",
      "virtio_mmio", "virtio_console", "virtio_blk",            "failover",              "net_failover",
      "virtio_net",  "loop",           "evdev",                 "button",                "overlay"};
  return kModules;
}

Result<std::string> buildInitramfs(const InitramfsInputs& inputs, const std::string& cache_dir) {
  auto init = os::readFile(inputs.init_binary);
  if (!init.isOk()) return notFound("berth-init binary not found at " + inputs.init_binary);
  std::vector<std::pair<std::string, std::string>> modules;  // file name, bytes
  std::ostringstream digest_input;
  digest_input << kLayoutVersion << '\0' << sha256Hex(*init);
  for (const std::string& name : inputs.modules) {
    BERTH_ASSIGN_OR_RETURN(std::string path, findModule(inputs.modules_dir, name));
    BERTH_ASSIGN_OR_RETURN(std::string bytes, os::readFile(path));
    digest_input << '\0' << name << '\0' << sha256Hex(bytes);
    modules.emplace_back(name + ".ko", std::move(bytes));
  }
  std::string busybox;
  std::vector<std::string> applets;
  if (!inputs.busybox.empty()) {
    auto bytes = os::readFile(inputs.busybox);
    if (!bytes.isOk()) return notFound("busybox not found at " + inputs.busybox + " (apt-get install busybox-static)");
    busybox = std::move(bytes).value();
    BERTH_ASSIGN_OR_RETURN(applets, busyboxApplets(inputs.busybox));
    digest_input << '\0' << sha256Hex(busybox);
    for (const auto& applet : applets) digest_input << '\0' << applet;
  }

  const std::string path = cache_dir + "/initramfs-" + sha256Hex(digest_input.str()) + ".cpio";
  if (::access(path.c_str(), R_OK) == 0) return path;
  BERTH_RETURN_IF_ERROR(os::makeDirs(cache_dir));

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    ArchiveWriter w(tmp);
    for (const char* dir : {"bin", "dev", "etc", "lib", "lib/modules", "proc", "root", "run", "sbin", "sys", "tmp",
                            "usr", "usr/bin", "usr/sbin", "var"}) {
      BERTH_RETURN_IF_ERROR(w.add(dir, AE_IFDIR, 0755));
    }
    // The kernel opens /dev/console for init's stdio before devtmpfs is mounted.
    BERTH_RETURN_IF_ERROR(w.add("dev/console", AE_IFCHR, 0600, {}, {}, makedev(5, 1)));
    BERTH_RETURN_IF_ERROR(w.add("init", AE_IFREG, 0755, *init));
    std::string order;
    for (const auto& [file, bytes] : modules) {
      BERTH_RETURN_IF_ERROR(w.add("lib/modules/" + file, AE_IFREG, 0644, bytes));
      order += file + "\n";
    }
    BERTH_RETURN_IF_ERROR(w.add("lib/modules/load.order", AE_IFREG, 0644, order));
    if (!busybox.empty()) {
      BERTH_RETURN_IF_ERROR(w.add("bin/busybox", AE_IFREG, 0755, busybox));
      for (const auto& applet : applets) {
        BERTH_RETURN_IF_ERROR(w.add("bin/" + applet, AE_IFLNK, 0777, {}, "busybox"));
      }
    }
    BERTH_RETURN_IF_ERROR(w.close());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return internalError("cannot store initramfs in " + cache_dir);
  }
  return path;
}

}  // namespace berth::agent
