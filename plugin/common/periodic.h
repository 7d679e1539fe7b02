// Periodic: a thread that runs one task again and again, pausing between runs, until stopped.
// The node agent's rounds, the client-id claims' rounds and the retention passes are such
// threads; they differ only in the task and in how long each pause is (the task returns it).
//
// stop() wakes the pause and waits for the run under way (a long run may watch stopping() and
// end early). wake() ends the current pause, or the next one if a run is under way. start() and
// stop() belong to the owner's thread; wake() and stopping() to any. The task must not throw.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace c8y::common {

class Periodic {
 public:
  // One run; returns the pause before the next.
  using Task = std::function<std::chrono::milliseconds()>;

  Periodic() = default;
  ~Periodic() { stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  // The first run comes after `first_pause`. Nothing when already running.
  void start(Task task, std::chrono::milliseconds first_pause = std::chrono::milliseconds(0)) {
    if (thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = false;
      woken_ = false;
    }
    thread_ = std::thread([this, task = std::move(task), first_pause] { loop(task, first_pause); });
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void wake() {
    {
      std::lock_guard lock(mutex_);
      woken_ = true;
    }
    cv_.notify_all();
  }
  const std::atomic<bool>& stopping() const { return stopping_; }

 private:
  void loop(const Task& task, std::chrono::milliseconds pause) {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait_for(lock, pause, [this] { return stopping_.load() || woken_; });
      if (stopping_) return;
      woken_ = false;
      lock.unlock();
      pause = task();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<bool> stopping_{false};
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace c8y::common
