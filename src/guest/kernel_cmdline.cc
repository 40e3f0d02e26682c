#include "guest/kernel_cmdline.h"

namespace berth::guest {

BootConfig parseKernelCmdline(std::string_view cmdline) {
  BootConfig config;
  std::size_t pos = 0;
  while (pos < cmdline.size()) {
    std::size_t end = cmdline.find_first_of(" \t\n", pos);
    if (end == std::string_view::npos) end = cmdline.size();
    std::string_view word = cmdline.substr(pos, end - pos);
    pos = end + 1;
    std::size_t eq = word.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = word.substr(0, eq);
    std::string value(word.substr(eq + 1));
    if (key == "berth.hostname") config.hostname = value;
    else if (key == "berth.ip") config.address = value;
    else if (key == "berth.gw") config.gateway = value;
    else if (key == "berth.dns") config.nameserver = value;
    else if (key == "berth.scratch") config.scratch_device = value;
  }
  return config;
}

}  // namespace berth::guest
