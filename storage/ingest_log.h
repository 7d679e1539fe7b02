// The ingest log: a ring of write records in a memory-mapped file, between the broker thread and
// the storage writer thread.
//
// Why: a RocksDB write per message inside the MESSAGE callback costs the broker thread a write()
// system call (the WAL) and a memtable insert, about half of its time. Appending to a
// MAP_SHARED mapping is a memcpy: once the store instruction has executed, the bytes are in the
// page cache, so a SIGKILL right after the PUBACK loses nothing, exactly like RocksDB's own
// WAL without fsync. A writer thread moves the records into RocksDB in large batches, and a
// crash is repaired at the next start by replaying the records RocksDB had not received yet.
// Puts are idempotent, so replaying a record twice is harmless.
//
// Layout: a 4 KiB header page (magic, capacity, the released position), then `capacity` bytes of
// records at 8-byte aligned offsets. Positions are virtual (they only grow); the physical offset
// is position % capacity. A record is
//
//   u64 seq | u32 len | u32 family | u32 key_len | u32 flags | key | value | padding to 8
//
// flags: kDelete (the record deletes `key`; its value is empty).
//
// and never wraps around the end of the ring: when it does not fit, the producer writes a wrap
// marker (len = kWrap), or, if fewer than 24 bytes are left, skips them (an implicit wrap).
//
// Commit protocol (single producer, single consumer):
// - The producer writes a record's fields and payload, then zeroes the seq word of the NEXT slot,
//   then stores the record's seq (nonzero) last. So at any instant, following the chain of
//   records from the released position ends at a zero seq word: recovery is exact, whatever
//   stale bytes an earlier lap left behind.
// - The consumer reads records up to the published head, hands them to RocksDB, then stores the
//   new released position in the header and only then lets the producer reuse the space.
//
// Thread safety: try_append from one thread at a time (callers hold a mutex); consume/release from
// one other thread; appended_seq/released_seq from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace c8y::storage {

class IngestLog {
 public:
  static constexpr uint32_t kDelete = 1;
  struct Record {
    uint64_t seq;
    uint32_t family;
    std::string_view key;
    std::string_view value;
    uint32_t flags = 0;
  };
  using Visitor = std::function<void(const Record&)>;

  static constexpr size_t kHeaderBytes = 4096;
  static constexpr size_t kRecordHeader = 24;
  static constexpr size_t kMinCapacity = 64 * 1024;
  // The largest key + value one record may hold (the broker caps messages far below this).
  static constexpr size_t kMaxPayload = 1u << 24;

  // Opens the log at `path`, creating it if missing. An empty path means anonymous memory: no
  // crash recovery (the `batched` durability setting). A file made with another capacity is
  // recovered with its own capacity and rebuilt with `capacity` by restart(). Returns nullptr and
  // sets `error` on failure.
  static std::unique_ptr<IngestLog> open(const std::string& path, size_t capacity,
                                         std::string* error);
  ~IngestLog();
  IngestLog(const IngestLog&) = delete;
  IngestLog& operator=(const IngestLog&) = delete;

  // Visits the records a previous process appended but never released, in order. Call once,
  // before anything else. The caller must make them durable elsewhere, then call restart().
  size_t recover(const Visitor& visit);
  // Starts the ring afresh after recover(): everything before is released.
  bool restart(std::string* error);

  // Producer. Appends one record; false if there is no room for it now (the consumer is behind)
  // or it can never fit (payload over kMaxPayload or over a quarter of the ring).
  bool try_append(uint32_t family, std::string_view key, std::string_view value,
                  uint32_t flags = 0);
  static bool fits(size_t capacity, size_t key_bytes, size_t value_bytes);
  bool fits(size_t key_bytes, size_t value_bytes) const {
    return fits(capacity_, key_bytes, value_bytes);
  }

  // Consumer. Visits the committed records after the last consumed one, up to about `max_bytes`
  // of ring space. Returns how many records it visited.
  size_t consume(size_t max_bytes, const Visitor& visit);
  // Releases every consumed record: writes the position to the header, then frees the space.
  void release();

  uint64_t appended_seq() const { return appended_seq_.load(std::memory_order_acquire); }
  uint64_t released_seq() const { return released_seq_.load(std::memory_order_acquire); }
  bool empty() const { return head_.load(std::memory_order_seq_cst) == consumed_; }
  size_t capacity() const { return capacity_; }
  // Ring space taken by records not yet released (any thread; approximate while both move).
  uint64_t pending_bytes() const {
    const uint64_t h = head_.load(std::memory_order_acquire),
                   t = tail_.load(std::memory_order_acquire);
    return h > t ? h - t : 0;
  }
  bool file_backed() const { return fd_ >= 0; }

 private:
  IngestLog() = default;
  bool map(size_t capacity, bool create, std::string* error);
  void unmap();
  char* at(uint64_t pos) const { return data_ + pos % capacity_; }
  // The position where the record or marker after `pos` starts, skipping an implicit wrap.
  uint64_t slot(uint64_t pos) const;
  static size_t record_bytes(size_t payload);

  std::string path_;
  int fd_ = -1;
  char* base_ = nullptr;
  size_t mapped_ = 0;
  char* data_ = nullptr;
  size_t capacity_ = 0;
  size_t wanted_capacity_ = 0;

  // Producer state.
  uint64_t write_pos_ = 0;
  uint64_t next_seq_ = 1;
  // Published by the producer (release), read by the consumer (acquire).
  std::atomic<uint64_t> head_{0};
  std::atomic<uint64_t> appended_seq_{0};
  // Consumer state.
  uint64_t consumed_ = 0;
  uint64_t consumed_seq_ = 0;
  // Published by the consumer after release().
  std::atomic<uint64_t> tail_{0};
  std::atomic<uint64_t> released_seq_{0};
};

}  // namespace c8y::storage
