// Container spawning on this host (needs root: mounts and namespaces), with busybox-static as
// the image: the same code berth-init runs in a guest, checked without booting one.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "guest/process.h"
#include "os/file_util.h"
#include "os/temp_dir.h"

namespace berth::guest {
namespace {

std::string readAllFrom(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

class ContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.emplace(std::move(os::TempDir::create("berth-ctr-").value()));
    lower_ = dir_->path() + "/image";
    ASSERT_TRUE(os::makeDirs(lower_ + "/bin").isOk());
    ASSERT_TRUE(os::makeDirs(lower_ + "/www").isOk());
    std::ifstream in("/bin/busybox", std::ios::binary);
    std::string busybox((std::istreambuf_iterator<char>(in)), {});
    ASSERT_FALSE(busybox.empty()) << "needs busybox-static";
    ASSERT_TRUE(os::writeFileAtomic(lower_ + "/bin/busybox", busybox, 0755).isOk());
    ASSERT_EQ(::symlink("busybox", (lower_ + "/bin/sh").c_str()), 0);
    ASSERT_TRUE(os::writeFileAtomic(lower_ + "/www/page", "from the image", 0644).isOk());
  }

  std::pair<int, std::string> run(const std::string& script, const std::string& state) {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.env = {"PATH=/bin"};
    spec.cwd = "/www";
    spec.container = ContainerSpec{lower_, dir_->path() + "/" + state, "ctr-app", "", ""};
    auto process = spawnProcess(spec);
    EXPECT_TRUE(process.isOk()) << process.status().toString();
    if (!process.isOk()) return {-1, ""};
    std::string out = readAllFrom(process->stdout_fd.get());
    int status = 0;
    ::waitpid(process->pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }

  std::optional<os::TempDir> dir_;
  std::string lower_;
};

TEST_F(ContainerTest, RunsInItsOwnRootHostnameAndPidNamespace_Root) {
  auto [code, out] = run("cat page; echo; hostname; pwd; ls /; ps -o pid,args | wc -l; exit 3", "s1");
  EXPECT_EQ(code, 3) << out;
  EXPECT_EQ(out.substr(0, out.find('\n')), "from the image");
  EXPECT_NE(out.find("\nctr-app\n/www\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("tmp\n") != std::string::npos, true) << out;
  EXPECT_EQ(out.find("home"), std::string::npos) << "the host's / must be out of sight: " << out;
  // ps header, the reaper, sh, ps and wc: nothing of the host.
  EXPECT_NE(out.find("\n5\n"), std::string::npos) << out;
}

TEST_F(ContainerTest, WritesLandInTheUpperLayerNotTheImage_Root) {
  auto [code, out] = run("echo changed > /www/page && cat /www/page", "s2");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "changed\n");
  EXPECT_EQ(os::readFile(lower_ + "/www/page").value(), "from the image");
  EXPECT_EQ(os::readFile(dir_->path() + "/s2/upper/www/page").value(), "changed\n");
}

TEST_F(ContainerTest, AMissingProgramIsAnErrorNotAHang_Root) {
  ProcessSpec spec;
  spec.argv = {"/bin/nope"};
  spec.container = ContainerSpec{lower_, dir_->path() + "/s3", "ctr-app", "", ""};
  auto process = spawnProcess(spec);
  ASSERT_FALSE(process.isOk());
  EXPECT_NE(process.status().message().find("No such file"), std::string::npos) << process.status().toString();
}

}  // namespace
}  // namespace berth::guest
