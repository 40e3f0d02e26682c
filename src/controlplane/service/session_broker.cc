#include "controlplane/service/session_broker.h"

#include "common/crypto.h"

namespace berth::controlplane {

class SessionBroker::Session {
 public:
  enum class State { kQueued, kClaimed, kStarted, kRefused, kClosed };

  std::string id, node;
  SessionSpec spec;
  State state = State::kQueued;
  std::string refusal;
  std::deque<nlohmann::json> frames;
  std::size_t unread_bytes = 0;
  bool done = false;
  std::condition_variable changed;
};

namespace {
std::size_t frameBytes(const nlohmann::json& frame) { return frame.dump().size(); }
}  // namespace

SessionBroker::SessionBroker(SessionBrokerOptions options) : options_(options) {}

SessionBroker::~SessionBroker() = default;

Result<std::shared_ptr<SessionBroker::Session>> SessionBroker::open(const std::string& node, SessionSpec spec) {
  BERTH_ASSIGN_OR_RETURN(std::string id, randomHex(16));
  auto session = std::make_shared<Session>();
  session->id = id;
  session->node = node;
  session->spec = std::move(spec);
  std::lock_guard lock(mu_);
  std::size_t queued = 0;
  for (const auto& [_, s] : sessions_) queued += s->node == node && s->state == Session::State::kQueued;
  if (queued >= options_.max_queued_per_node) {
    return resourceExhausted("node '" + node + "' has " + std::to_string(queued) +
                             " sessions waiting for its agent; try again shortly");
  }
  sessions_[id] = session;
  queued_.notify_all();
  return session;
}

Status SessionBroker::waitStarted(Session& session, std::chrono::milliseconds claim_timeout) {
  std::unique_lock lock(mu_);
  session.changed.wait_for(lock, claim_timeout, [&] {
    return session.state == Session::State::kStarted || session.state == Session::State::kRefused ||
           session.state == Session::State::kClosed;
  });
  if (session.state == Session::State::kStarted) return Status::ok();
  if (session.state == Session::State::kRefused) {
    sessions_.erase(session.id);
    return failedPrecondition(session.refusal);
  }
  const bool claimed = session.state == Session::State::kClaimed;
  session.state = Session::State::kClosed;
  sessions_.erase(session.id);
  if (!claimed) {
    return unavailable("the agent of node '" + session.node + "' did not pick up the " + session.spec.kind + " in " +
                       std::to_string(claim_timeout.count() / 1000) + " s; is it running? (berth status)");
  }
  return unavailable("the agent of node '" + session.node + "' took the " + session.spec.kind +
                     " but did not start it in time");
}

SessionOutput SessionBroker::read(Session& session, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  session.changed.wait_for(lock, wait, [&] { return !session.frames.empty() || session.done; });
  SessionOutput out;
  while (!session.frames.empty()) {
    out.frames.push_back(std::move(session.frames.front()));
    session.frames.pop_front();
  }
  session.unread_bytes = 0;
  out.done = session.done;
  if (out.done) sessions_.erase(session.id);
  session.changed.notify_all();  // room for a waiting delivery
  return out;
}

void SessionBroker::close(Session& session) {
  std::lock_guard lock(mu_);
  session.state = Session::State::kClosed;
  session.frames.clear();
  sessions_.erase(session.id);
  session.changed.notify_all();
}

std::vector<ClaimedSession> SessionBroker::claim(const std::string& node, std::chrono::milliseconds wait,
                                                 const std::function<bool()>& stopping) {
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::vector<ClaimedSession> out;
  for (;;) {
    for (auto& [id, s] : sessions_) {
      if (s->node != node || s->state != Session::State::kQueued) continue;
      s->state = Session::State::kClaimed;
      out.push_back({id, s->spec});
    }
    if (!out.empty() || stopping() || std::chrono::steady_clock::now() >= deadline) return out;
    // Wake at least once a second to look at `stopping`.
    queued_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(deadline - std::chrono::steady_clock::now(),
                                                                          std::chrono::seconds(1)));
  }
}

Status SessionBroker::deliver(const std::string& node, const std::string& id, std::vector<nlohmann::json> frames,
                              const std::optional<std::string>& error, bool done) {
  std::unique_lock lock(mu_);
  auto it = sessions_.find(id);
  const Status gone = notFound("session '" + id + "' is gone (its caller disconnected)");
  if (it == sessions_.end() || it->second->node != node) return gone;
  std::shared_ptr<Session> session = it->second;
  if (session->state == Session::State::kQueued || session->state == Session::State::kClosed) return gone;
  if (session->state == Session::State::kClaimed) {
    if (error) {
      session->state = Session::State::kRefused;
      session->refusal = *error;
      session->changed.notify_all();
      return Status::ok();
    }
    session->state = Session::State::kStarted;
    session->changed.notify_all();
  }
  if (session->done) return gone;
  std::size_t bytes = 0;
  for (const auto& f : frames) bytes += frameBytes(f);
  // Wait for the caller to read, so a slow reader slows the agent instead of growing memory.
  const bool room = session->changed.wait_for(lock, options_.delivery_wait, [&] {
    return session->state == Session::State::kClosed || session->unread_bytes == 0 ||
           session->unread_bytes + bytes <= options_.max_unread_bytes;
  });
  if (session->state == Session::State::kClosed) return gone;
  if (!room) return unavailable("the caller of session '" + id + "' is not reading; try again");
  for (auto& f : frames) session->frames.push_back(std::move(f));
  session->unread_bytes += bytes;
  if (error) {
    session->frames.push_back({{"error", {{"code", "failed_precondition"}, {"message", *error}}}});
    done = true;
  }
  session->done = done;
  session->changed.notify_all();
  return Status::ok();
}

std::size_t SessionBroker::openSessions() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace berth::controlplane
