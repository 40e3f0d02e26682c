#pragma once
// The agent's on-disk layout, drawn once (as Mesos' slave/paths.hpp does) so that a restarted
// agent finds everything its predecessor left, and deleting a VM removes exactly its files.
//
//   <data>/
//     cache/initramfs-<sha256>.cpio     berth-init + modules, by content hash
//     images/<sha256>.tar               app bundles fetched from berthd
//     images/<sha256>.ext4              converted, read-only; <sha256>.ext4.digest names its own hash
//     images/rootfs-<sha256>.ext4       an OCI image's root file system fetched from berthd, by its own hash
//     net/berth.nft                     the node's nftables ruleset, as last applied (network/nft_ruleset.h)
//     net/<bridge>.hosts .pid .log      a project network's resolver (network/project_resolver.h)
//     proxies/<port>.sock  <port>.log   the control socket and stderr of the process that publishes
//                                       127.0.0.1:<port> (proxy/port_publisher.h); it outlives the agent
//     vms/<project>/<vm>/
//       channel.sock  console.sock      the guest channel's stream and the serial console
//       images.sock                     the image port the guest fetches its images through (image_port.h)
//       qemu.pid  qmp.sock  qemu.log    the runtime driver's own files, named by it
//                                       (runtime/qemu_runtime.h: QemuFiles)
//       serial.log  serial.log.1        the guest console, rotated at kSerialLogBytes
//       scratch.img                     the VM's scratch disk (ext4, formatted here)
//       images/<hex>                    hard links of the images this VM may fetch
//       apps.json                       what the agent last deployed into the VM
//       logs/<app>.log  logs/<app>.log.1  app output relayed from the guest (sessions/app_log.h), rotated

#include <cstdint>
#include <string>

namespace berth::agent {

inline constexpr std::uint64_t kSerialLogBytes = 1u << 20;
inline constexpr std::uint64_t kAppLogBytes = 1u << 20;

class Paths {
 public:
  explicit Paths(std::string data_dir) : data_(std::move(data_dir)) {}

  const std::string& data() const { return data_; }
  std::string cacheDir() const { return data_ + "/cache"; }
  std::string imagesDir() const { return data_ + "/images"; }
  std::string imageTar(const std::string& hex) const { return imagesDir() + "/" + hex + ".tar"; }
  std::string imageExt4(const std::string& hex) const { return imagesDir() + "/" + hex + ".ext4"; }
  std::string rootfs(const std::string& hex) const { return imagesDir() + "/rootfs-" + hex + ".ext4"; }
  std::string proxiesDir() const { return data_ + "/proxies"; }
  std::string netDir() const { return data_ + "/net"; }
  std::string ingressDir() const { return data_ + "/ingress"; }  // Caddy: admin socket, certificates, log
  std::string vmsDir() const { return data_ + "/vms"; }
  std::string vmDir(const std::string& project, const std::string& vm) const {
    return vmsDir() + "/" + project + "/" + vm;
  }

  struct Vm {
    std::string dir;
    std::string channelSocket() const { return dir + "/channel.sock"; }
    std::string consoleSocket() const { return dir + "/console.sock"; }
    std::string imagesSocket() const { return dir + "/images.sock"; }
    std::string serialLog() const { return dir + "/serial.log"; }
    std::string scratchDisk() const { return dir + "/scratch.img"; }
    std::string imagesDir() const { return dir + "/images"; }
    std::string appsState() const { return dir + "/apps.json"; }
    std::string logsDir() const { return dir + "/logs"; }
    std::string appLog(const std::string& app) const { return logsDir() + "/" + app + ".log"; }
  };
  Vm vm(const std::string& project, const std::string& vm) const { return Vm{vmDir(project, vm)}; }

 private:
  std::string data_;
};

}  // namespace berth::agent
