#include "guest/virtio_port.h"

#include <dirent.h>

#include <fstream>

namespace berth::guest {

Result<std::string> virtioPortDevice(std::string_view name) {
  DIR* dir = ::opendir("/sys/class/virtio-ports");
  if (dir == nullptr) return notFound("no /sys/class/virtio-ports (virtio_console not loaded?)");
  std::string device;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream name_file(std::string("/sys/class/virtio-ports/") + entry->d_name + "/name");
    std::string port_name;
    std::getline(name_file, port_name);
    if (port_name == name) device = std::string("/dev/") + entry->d_name;
  }
  ::closedir(dir);
  if (device.empty()) return notFound("no virtio-serial port named " + std::string(name));
  return device;
}

}  // namespace berth::guest
