// runCli without a server: usage errors exit 2, missing login exits 1 with one line.
#include <gtest/gtest.h>

#include <sstream>

#include "cli/context.h"

namespace berth::cli {
namespace {

struct CliRun {
  int code;
  std::string out, err;
};

CliRun run(std::vector<const char*> args) {
  args.insert(args.begin(), "berth");
  std::ostringstream out, err;
  int code = runCli(static_cast<int>(args.size()), args.data(), {{"HOME", "/nonexistent"}}, out, err);
  return {code, out.str(), err.str()};
}

TEST(RunCliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(run({}).code, 2);
  EXPECT_EQ(run({"project"}).code, 2);
  EXPECT_EQ(run({"vm", "create", "web"}).code, 2);  // --project missing
  CliRun r = run({"token", "create", "x", "--role", "root"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("berth: ", 0), 0u);
}

TEST(RunCliTest, HelpExitsZeroWithExamples) {
  CliRun r = run({"vm", "create", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("EXAMPLES:\n  berth vm create web --project demo"), std::string::npos);
}

TEST(RunCliTest, NotLoggedInIsOneLineAndExitOne) {
  CliRun r = run({"project", "ls"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "berth: not logged in; run 'berth login URL --token-file FILE'\n");
}

TEST(RunCliTest, BadFlagValueIsOneLineAndExitOne) {
  CliRun r = run({"--url", "http://127.0.0.1:1", "app", "create", "x", "-p", "demo", "--port", "99999", "--cmd", "x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "berth: --port must be PORT or PORT/tcp or PORT/udp with PORT in 1..65535, not '99999'\n");
}

}  // namespace
}  // namespace berth::cli
