// Work that other threads (the REST server) hand to the broker thread, drained on TICK.
//
// Mosquitto's API may be called on the broker thread only, so everything another thread wants
// done in the broker (a message to a device, a disconnect, a log line) is queued here as a typed
// item; the broker thread takes the queue on its next TICK (plugin/app) and acts on each item.
// Neutral ground: the REST layer pushes, the app layer drains, neither includes the other.
#pragma once

#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <variant>

namespace c8y::common {

enum class LogLevel { kDebug, kInfo, kNotice, kWarning, kError };

namespace outbox {
// A message for one client (`client_id`), or, with an empty client id, a real-time stream
// message sent only if the tenant's streams have listeners.
struct Publish {
  std::string client_id;
  std::string topic;
  std::string payload;
  int qos = 0;
};
// Disconnect one client.
struct Kick {
  std::string client_id;
};
// A line for the broker's log.
struct Log {
  LogLevel level = LogLevel::kInfo;
  std::string message;
};
// A new operation: send it to its device if that device is connected.
struct DeliverOperation {
  std::string tenant;
  std::string operation_id;
};
// A managed object changed or was deleted through REST (availability interval, session caches).
struct ObjectChanged {
  std::string tenant;
  std::string object_id;
  bool deleted = false;
};
// Disconnect every session of a user (`user` empty: of every user of the tenant).
struct KickUsers {
  std::string tenant;
  std::string user;
};
// A trusted CA was disabled, deleted or got a new CRL: the sessions it authenticated that it no
// longer accepts are disconnected.
struct CaChanged {
  std::string fingerprint;
};
// Reached once the broker thread has handled every item queued before it (a tenant handed over
// waits for its clients' disconnects).
struct Barrier {
  std::shared_ptr<std::promise<void>> reached;
};
}  // namespace outbox

using OutboxItem =
    std::variant<outbox::Publish, outbox::Kick, outbox::Log, outbox::DeliverOperation,
                 outbox::ObjectChanged, outbox::KickUsers, outbox::CaChanged, outbox::Barrier>;

class Outbox {
 public:
  // Queues an item. Everything but a log line wakes the broker's event loop (see set_waker).
  void push(OutboxItem item) {
    const bool wake = !std::holds_alternative<outbox::Log>(item);
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(item));
    if (waker_ && wake) waker_();
  }
  // Called after a push that the broker thread should handle soon (an operation, a kick, a
  // stream message): the broker adapter wakes the event loop, which otherwise may sleep up to
  // 100 ms before the next TICK drains the outbox.
  void set_waker(std::function<void()> waker) {
    std::lock_guard lock(mutex_);
    waker_ = std::move(waker);
  }
  void log(LogLevel level, std::string message) { push(outbox::Log{level, std::move(message)}); }
  std::deque<OutboxItem> take() {
    std::lock_guard lock(mutex_);
    std::deque<OutboxItem> out;
    out.swap(items_);
    return out;
  }

 private:
  std::mutex mutex_;
  std::deque<OutboxItem> items_;
  std::function<void()> waker_;
};

}  // namespace c8y::common
