// What the plugin core needs from the broker, and the hand-over queues from other threads.
//
// BrokerPort is implemented by plugin/broker (the only code that knows Mosquitto) and by test
// fakes. Its methods are called on the broker thread only.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace c8y::app {

enum class LogLevel { kDebug, kInfo, kNotice, kWarning, kError };

class BrokerPort {
 public:
  virtual ~BrokerPort() = default;
  // Sends a message to one connected client only (no subscription or ACL involved).
  virtual void publish(const std::string& client_id, const std::string& topic,
                       std::string_view payload, int qos) = 0;
  virtual void kick(const std::string& client_id) = 0;
  virtual void log(LogLevel level, const std::string& message) = 0;
};

// Work that other threads (REST) hand to the broker thread; drained on TICK.
struct OutboxItem {
  // kDeliver: a new operation to send to its device if connected (topic = tenant id,
  // payload = operation id).
  // kObjectChanged: a managed object changed (qos 0) or was deleted (qos 1) through REST
  // (topic = tenant id, payload = object id).
  // kKickUsers: disconnect every session of a user (topic = tenant, payload = user name, or ""
  // for every user of the tenant).
  // kCaChanged: a trusted CA was disabled, deleted or got a new CRL (payload = its
  // fingerprint): sessions it authenticated that it no longer accepts are disconnected.
  enum Kind { kPublish, kKick, kLog, kDeliver, kObjectChanged, kKickUsers, kCaChanged } kind = kLog;
  std::string client_id;
  std::string topic;
  std::string payload;
  int qos = 0;
  LogLevel level = LogLevel::kInfo;
};

class Outbox {
 public:
  void push(OutboxItem item) {
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(item));
    if (waker_ && item_needs_wake(items_.back())) waker_();
  }
  // Called after a push that the broker thread should handle soon (an operation, a kick, a
  // stream message): the broker adapter wakes the event loop, which otherwise may sleep up to
  // 100 ms before the next TICK drains the outbox.
  void set_waker(std::function<void()> waker) {
    std::lock_guard lock(mutex_);
    waker_ = std::move(waker);
  }
  void log(LogLevel level, std::string message) {
    OutboxItem item;
    item.kind = OutboxItem::kLog;
    item.level = level;
    item.payload = std::move(message);
    push(std::move(item));
  }
  std::deque<OutboxItem> take() {
    std::lock_guard lock(mutex_);
    std::deque<OutboxItem> out;
    out.swap(items_);
    return out;
  }

 private:
  static bool item_needs_wake(const OutboxItem& item) { return item.kind != OutboxItem::kLog; }
  std::mutex mutex_;
  std::deque<OutboxItem> items_;
  std::function<void()> waker_;
};

}  // namespace c8y::app
