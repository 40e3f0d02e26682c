// berth-init: the metrics request (the VM's CPU, memory and disk, and each app's share).
#include <sys/statvfs.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "guest/image_store.h"
#include "guest/init.h"

namespace berth::guest {
namespace {

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::uint64_t meminfoKib(const std::string& meminfo, const std::string& key) {
  std::size_t pos = meminfo.find(key + ":");
  if (pos == std::string::npos) return 0;
  return std::strtoull(meminfo.c_str() + pos + key.size() + 1, nullptr, 10);
}

// utime+stime of a process in clock ticks, and its resident set in KiB.
std::pair<std::uint64_t, std::uint64_t> processUsage(pid_t pid) {
  const std::string stat = readAll("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t paren = stat.rfind(')');
  std::uint64_t ticks = 0;
  if (paren != std::string::npos) {
    std::istringstream fields(stat.substr(paren + 2));
    std::string field;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14 || i == 15) ticks += std::strtoull(field.c_str(), nullptr, 10);
    }
  }
  const std::string status = readAll("/proc/" + std::to_string(pid) + "/status");
  return {ticks, meminfoKib(status, "VmRSS")};
}

}  // namespace

void Init::onMetrics(std::uint64_t id, const MetricsRequest&) {
  const std::string meminfo = readAll("/proc/meminfo");
  std::istringstream stat(readAll("/proc/stat"));
  std::string cpu;
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0;
  stat >> cpu >> user >> nice >> system >> idle;
  MetricsReply reply;
  reply.cpu_ticks_busy = user + nice + system;
  reply.cpu_ticks_idle = idle;
  reply.ticks_per_second = static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
  reply.memory_total_kib = meminfoKib(meminfo, "MemTotal");
  reply.memory_available_kib = meminfoKib(meminfo, "MemAvailable");
  struct statvfs disk{};
  if (::statvfs(kStoreDir, &disk) == 0) {
    reply.disk = MetricsReply::Disk{disk.f_blocks * disk.f_frsize / 1024, disk.f_bavail * disk.f_frsize / 1024};
  }
  reply.init_rss_kib = processUsage(::getpid()).second;
  for (const auto& [name, app] : apps_) {
    if (app.pid <= 0) continue;
    auto [ticks, rss] = processUsage(app.pid);
    reply.apps.push_back({name, ticks, rss});
  }
  channel_.send(makeReply(id, reply.encode()));
}

}  // namespace berth::guest
