#pragma once
// berthd's on-disk layout, drawn once so that every file it keeps is named in one place:
//
//   <data>/
//     berth.db  berth.db-wal   the SQLite store
//     berthd.lock              flock held while running: one berthd per data directory
//     berthd.addr              "HOST:PORT" actually bound, written once listening
//     admin.token              the first admin token (0600), written on first start only
//     master.key               the key that seals secrets (0600), unless the operator gives one
//     node.token               `--dev`: the embedded agent's node token (0600)
//     blobs/<sha256>           uploaded app bundles and imported root file systems, by digest
//     images/oci/              the image import cache (image/image_cache.h)
//     agent/                   `--dev`: the embedded agent's data directory (agent/paths.h)

#include <string>

namespace berth::controlplane {

class BerthdPaths {
 public:
  explicit BerthdPaths(std::string data_dir) : data_(std::move(data_dir)) {}

  const std::string& data() const { return data_; }
  std::string database() const { return data_ + "/berth.db"; }
  std::string lock() const { return data_ + "/berthd.lock"; }
  std::string address() const { return data_ + "/berthd.addr"; }
  std::string adminToken() const { return data_ + "/admin.token"; }
  std::string masterKey() const { return data_ + "/master.key"; }
  std::string nodeToken() const { return data_ + "/node.token"; }
  std::string blobs() const { return data_ + "/blobs"; }
  std::string imageCache() const { return data_ + "/images/oci"; }
  std::string agentData() const { return data_ + "/agent"; }

 private:
  std::string data_;
};

}  // namespace berth::controlplane
