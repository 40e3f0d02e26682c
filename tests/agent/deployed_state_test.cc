// apps.json: what one agent wrote, the next one reads back; a torn or foreign file is no crash.

#include "agent/deployed_state.h"

#include <gtest/gtest.h>

#include "os/file_util.h"
#include "os/temp_dir.h"

namespace berth::agent {
namespace {

TEST(DeployedState, RoundTripsServingInstancesAndForwards) {
  auto dir = os::TempDir::create("deployed-").value();
  const std::string path = dir.path() + "/apps.json";
  const DeployedState state{{{"web", Instance{"web-7", 7, R"({"name":"web"})", 1, "healthy", ""}},
                             {"api", Instance{"api-2", 2, "{}", 0, "", ""}}},
                            {{8080, "127.0.0.1:41000"}, {18080, "10.64.3.2:18080"}}};
  ASSERT_TRUE(saveDeployedState(path, state).isOk());
  EXPECT_EQ(loadDeployedState(path), state);
}

TEST(DeployedState, KeepsTheFormatEarlierAgentsWrote) {
  const DeployedState state = deployedStateFromJson(
      R"({"serving":{"web":{"id":"web-3","release":3,"spec":"s","slot":0,"health":""}},"forwards":{"8080":40000}})");
  EXPECT_EQ(state, (DeployedState{{{"web", Instance{"web-3", 3, "s", 0, "", ""}}}, {{8080, "127.0.0.1:40000"}}}));
  EXPECT_EQ(deployedStateToJson(state),
            R"({"forwards":{"8080":"127.0.0.1:40000"},"serving":{"web":{"health":"","id":"web-3","release":3,"slot":0,"spec":"s"}}})");
}

TEST(DeployedState, ReadsWhatItCanOfABadFile) {
  EXPECT_EQ(deployedStateFromJson("{\"serving\": {\"web\""), DeployedState{});
  EXPECT_EQ(deployedStateFromJson("[]"), DeployedState{});
  EXPECT_EQ(deployedStateFromJson(R"({"serving":{"web":3},"forwards":{"80":[1],"81":9}})"),
            (DeployedState{{}, {{81, "127.0.0.1:9"}}}));
  EXPECT_EQ(loadDeployedState("/nonexistent/apps.json"), DeployedState{});
}

}  // namespace
}  // namespace berth::agent
