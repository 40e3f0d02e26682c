#pragma once
// A running control plane: store, services, API, scheduler and HTTP server over one data
// directory (its layout: berthd_paths.h). It knows no agent: `berthd --dev` (src/dev/) starts
// one beside it.

#include <memory>
#include <string>

#include "common/result.h"
#include "controlplane/berthd_options.h"
#include "controlplane/berthd_paths.h"

namespace berth::controlplane {

class Berthd {
 public:
  static Result<std::unique_ptr<Berthd>> start(const BerthdOptions& options);
  virtual ~Berthd() = default;
  virtual std::string address() const = 0;
  virtual const BerthdPaths& paths() const = 0;
  // A node token for an agent on this host (`--dev`): made on first use and kept in
  // paths().nodeToken(), so a restarted berthd gives its agent the same node.
  virtual Result<std::string> localNodeToken(const std::string& node_name) = 0;
  // Graceful: stop accepting, finish in-flight requests (up to the grace period), flush the store.
  virtual void stop() = 0;
};

}  // namespace berth::controlplane
