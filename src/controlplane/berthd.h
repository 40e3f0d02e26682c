#pragma once
// A running control plane: store, API and HTTP server over one data directory.
//
// <data>/
//   berth.db, berth.db-wal   SQLite store
//   berthd.lock              flock held while running: one berthd per data directory
//   berthd.addr              "HOST:PORT" actually bound, written once listening
//   admin.token              the first admin token (0600), written on first start only

#include <memory>
#include <string>

#include "common/result.h"
#include "controlplane/berthd_options.h"

namespace berth::controlplane {

class Berthd {
 public:
  static Result<std::unique_ptr<Berthd>> start(const BerthdOptions& options);
  virtual ~Berthd() = default;
  virtual std::string address() const = 0;
  // Graceful: stop accepting, finish in-flight requests (up to the grace period), flush the store.
  virtual void stop() = 0;
};

}  // namespace berth::controlplane
