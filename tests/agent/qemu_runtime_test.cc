// The qemu driver without spawning QEMU: its command line from a VmLaunch (the one agents have
// always run, so that nothing about a VM changes), its private file names (adoption depends on
// them) and its capabilities.

#include "agent/runtime/qemu_runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace berth::agent {
namespace {

VmLaunch webLaunch() {
  VmLaunch launch;
  launch.project = "shop";
  launch.name = "web";
  launch.vcpus = 2;
  launch.memory_mib = 1024;
  launch.disk_gib = 4;
  launch.kernel = "/k/vmlinuz";
  launch.initramfs = "/c/initramfs.cpio";
  Nic nic;
  nic.guest_cidr = "10.0.2.15/24";
  nic.gateway = "10.0.2.2";
  nic.dns = "10.0.2.3";
  launch.nics.push_back(nic);
  return launch;
}

const Paths::Vm kVm{"/d/vms/shop/web"};

std::string argAfter(const std::vector<std::string>& argv, const std::string& flag, int nth = 0) {
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag && nth-- == 0) return argv[i + 1];
  }
  return "<no " + flag + ">";
}

TEST(QemuArgv, UserModeMicrovmUnderTcgIsTheCommandLineAgentsAlwaysRan) {
  const QemuHost host{"qemu-system-x86_64", false, 2'500'000};
  const std::vector<std::string> expected = {
      "qemu-system-x86_64",
      "-name", "berth-shop-web",
      "-machine", "microvm,accel=tcg",
      "-cpu", "max",
      "-smp", "2",
      "-m", "1024",
      "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
      "-kernel", "/k/vmlinuz",
      "-initrd", "/c/initramfs.cpio",
      "-append",
      "console=ttyS0 quiet panic=-1 berth.hostname=web berth.ip=10.0.2.15/24 berth.gw=10.0.2.2 berth.dns=10.0.2.3 "
      "berth.scratch=/dev/vda tsc_early_khz=2500000",
      "-chardev",
      "socket,id=console,path=/d/vms/shop/web/console.sock,server=on,wait=off,"
      "logfile=/d/vms/shop/web/serial.log,logappend=on",
      "-serial", "chardev:console",
      "-chardev", "socket,id=agent,path=/d/vms/shop/web/channel.sock,server=on,wait=off",
      "-device", "virtio-serial-device",
      "-device", "virtserialport,chardev=agent,name=org.berth.agent.0",
      "-chardev", "socket,id=images,path=/d/vms/shop/web/images.sock,server=on,wait=off",
      "-device", "virtserialport,chardev=images,name=org.berth.images.0",
      "-netdev", "user,id=net0,restrict=on",
      "-device", "virtio-net-device,netdev=net0",
      "-drive", "id=scratch,file=/d/vms/shop/web/scratch.img,format=raw,if=none,cache=writeback",
      "-device", "virtio-blk-device,drive=scratch",
      "-qmp", "unix:/d/vms/shop/web/qmp.sock,server=on,wait=off",
      "-pidfile", "/d/vms/shop/web/qemu.pid",
      "-daemonize",
  };
  EXPECT_EQ(qemuArgv(host, webLaunch(), kVm), expected);
}

TEST(QemuArgv, Q35UnderKvmUsesPciDevicesTheHostCpuAndNoTscHint) {
  VmLaunch launch = webLaunch();
  launch.machine = "q35";
  const auto argv = qemuArgv(QemuHost{"/opt/qemu", true, 2'500'000}, launch, kVm);
  EXPECT_EQ(argv.front(), "/opt/qemu");
  EXPECT_EQ(argAfter(argv, "-machine"), "q35,accel=kvm");
  EXPECT_EQ(argAfter(argv, "-cpu"), "host");
  EXPECT_EQ(argAfter(argv, "-device", 0), "virtio-serial-pci");
  EXPECT_EQ(argAfter(argv, "-device", 3), "virtio-net-pci,netdev=net0");
  EXPECT_EQ(argAfter(argv, "-device", 4), "virtio-blk-pci,drive=scratch");
  EXPECT_EQ(argAfter(argv, "-append").find("tsc_early_khz"), std::string::npos);
}

TEST(QemuArgv, AVmWithoutNicsGetsNoNetworkAndNoGuestAddress) {
  VmLaunch launch = webLaunch();
  launch.nics.clear();
  const auto argv = qemuArgv(QemuHost{}, launch, kVm);
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "-netdev"), 0);
  EXPECT_EQ(argAfter(argv, "-append"), "console=ttyS0 quiet panic=-1 berth.hostname=web berth.scratch=/dev/vda");
}

TEST(QemuArgv, EachNicIsItsOwnNetdevAndOnlyTheFirstAddressesTheGuest) {
  VmLaunch launch = webLaunch();
  Nic second;
  second.guest_cidr = "192.168.7.2/24";
  launch.nics.push_back(second);
  const auto argv = qemuArgv(QemuHost{}, launch, kVm);
  EXPECT_EQ(argAfter(argv, "-netdev", 1), "user,id=net1,restrict=on");
  EXPECT_EQ(argAfter(argv, "-device", 4), "virtio-net-device,netdev=net1");
  EXPECT_EQ(argAfter(argv, "-append").find("192.168.7.2"), std::string::npos);
}

TEST(QemuArgv, ATapNicAttachesToTheNodesTapWithItsPinnedMac) {
  VmLaunch launch = webLaunch();
  Nic tap;
  tap.mode = Nic::Mode::kTap;
  tap.tap = "bt-0123456789";
  tap.mac = "02:aa:bb:cc:dd:ee";
  tap.guest_cidr = "10.64.3.2/24";
  tap.gateway = "10.64.3.1";
  tap.dns = "10.64.3.1";
  launch.nics = {tap};
  const auto argv = qemuArgv(QemuHost{}, launch, kVm);
  EXPECT_EQ(argAfter(argv, "-netdev"), "tap,id=net0,ifname=bt-0123456789,script=no,downscript=no");
  EXPECT_EQ(argAfter(argv, "-device", 3), "virtio-net-device,netdev=net0,mac=02:aa:bb:cc:dd:ee");
  EXPECT_NE(argAfter(argv, "-append").find("berth.ip=10.64.3.2/24 berth.gw=10.64.3.1 berth.dns=10.64.3.1"),
            std::string::npos);
}

TEST(QemuFiles, KeepTheNamesOlderAgentsLeftSoTheirVmsAreAdopted) {
  const QemuFiles files = QemuFiles::of(kVm);
  EXPECT_EQ(files.pidfile, "/d/vms/shop/web/qemu.pid");
  EXPECT_EQ(files.qmp_socket, "/d/vms/shop/web/qmp.sock");
  EXPECT_EQ(files.log, "/d/vms/shop/web/qemu.log");
}

TEST(QemuRuntime, OffersUserModeNicsAndNoOptionalOperation) {
  QemuRuntime qemu(QemuHost{});
  EXPECT_EQ(qemu.name(), "qemu");
  EXPECT_EQ(qemu.channelEndpoint(kVm), "/d/vms/shop/web/channel.sock");
  const RuntimeCapabilities capabilities = qemu.capabilities();
  EXPECT_TRUE(capabilities.user_mode_nic);
  EXPECT_FALSE(capabilities.attach_nic);
  EXPECT_FALSE(capabilities.attach_disk);
  EXPECT_FALSE(capabilities.pause);
  EXPECT_FALSE(capabilities.snapshot);
}

TEST(QemuRuntime, OptionalOperationsItLacksAreRefusedByName) {
  QemuRuntime qemu(QemuHost{});
  const Status attach_disk = qemu.attachDisk(kVm, DiskAttachment{"data", "/d/data.img", false});
  EXPECT_EQ(attach_disk.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(attach_disk.message(), "runtime 'qemu' cannot attach a disk to a running VM");
  EXPECT_EQ(qemu.attachNic(kVm, Nic{}).message(), "runtime 'qemu' cannot attach a NIC to a running VM");
  EXPECT_EQ(qemu.pause(kVm).message(), "runtime 'qemu' cannot pause a VM");
  EXPECT_EQ(qemu.resume(kVm).message(), "runtime 'qemu' cannot resume a VM");
  EXPECT_EQ(qemu.snapshot(kVm, "/d/snap").code(), StatusCode::kFailedPrecondition);
}

TEST(QemuRuntime, AVmWithoutAPidFileIsNotRunning) {
  QemuRuntime qemu(QemuHost{});
  EXPECT_FALSE(qemu.running(Paths::Vm{"/nonexistent/berth-vm"}).has_value());
  EXPECT_TRUE(qemu.kill(Paths::Vm{"/nonexistent/berth-vm"}).isOk());
}

}  // namespace
}  // namespace berth::agent
