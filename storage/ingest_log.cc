#include "storage/ingest_log.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace c8y::storage {
namespace {

constexpr uint64_t kMagic = 0x54534e4759385943ull;  // "C8YINGST" little-endian
constexpr uint32_t kVersion = 1;
constexpr uint32_t kWrap = 0xffffffffu;

// Header page fields (byte offsets).
constexpr size_t kOffMagic = 0;
constexpr size_t kOffVersion = 8;
constexpr size_t kOffCapacity = 16;
constexpr size_t kOffReleasedPos = 24;
constexpr size_t kOffReleasedSeq = 32;

// Record fields (byte offsets within a record).
constexpr size_t kRecSeq = 0;
constexpr size_t kRecLen = 8;
constexpr size_t kRecFamily = 12;
constexpr size_t kRecKeyLen = 16;

uint64_t load64(const char* p) {
  return std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(const_cast<char*>(p)))
      .load(std::memory_order_acquire);
}
void store64(char* p, uint64_t v) {
  std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(p)).store(v, std::memory_order_release);
}
uint32_t get32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
void put32(char* p, uint32_t v) {
  std::memcpy(p, &v, 4);
}

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

size_t IngestLog::record_bytes(size_t payload) {
  return (kRecordHeader + payload + 7) & ~size_t{7};
}

bool IngestLog::fits(size_t capacity, size_t key_bytes, size_t value_bytes) {
  size_t payload = key_bytes + value_bytes;
  return key_bytes <= kMaxPayload && value_bytes <= kMaxPayload && payload <= kMaxPayload &&
         record_bytes(payload) <= capacity / 4;
}

uint64_t IngestLog::slot(uint64_t pos) const {
  size_t remaining = capacity_ - pos % capacity_;
  return remaining < kRecordHeader ? pos + remaining : pos;
}

std::unique_ptr<IngestLog> IngestLog::open(const std::string& path, size_t capacity,
                                           std::string* error) {
  capacity = (std::max(capacity, kMinCapacity) + 4095) & ~size_t{4095};
  std::unique_ptr<IngestLog> log(new IngestLog());
  log->path_ = path;
  log->wanted_capacity_ = capacity;
  if (path.empty()) {
    if (!log->map(capacity, true, error)) return nullptr;
    return log;
  }
  log->fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (log->fd_ < 0) {
    if (error) *error = errno_text("cannot open the ingest log", path);
    return nullptr;
  }
  struct stat st {};
  if (::fstat(log->fd_, &st) != 0) {
    if (error) *error = errno_text("cannot stat the ingest log", path);
    return nullptr;
  }
  // An existing, well-formed log is mapped with its own capacity so that it can be recovered.
  if (static_cast<size_t>(st.st_size) > kHeaderBytes) {
    char head[kHeaderBytes];
    if (::pread(log->fd_, head, sizeof head, 0) == static_cast<ssize_t>(sizeof head)) {
      uint64_t magic, cap;
      uint32_t version;
      std::memcpy(&magic, head + kOffMagic, 8);
      std::memcpy(&version, head + kOffVersion, 4);
      std::memcpy(&cap, head + kOffCapacity, 8);
      if (magic == kMagic && version == kVersion && cap >= kMinCapacity && cap % 8 == 0 &&
          cap + kHeaderBytes == static_cast<uint64_t>(st.st_size)) {
        if (!log->map(cap, false, error)) return nullptr;
        return log;
      }
    }
  }
  // New or unusable: start an empty one (ftruncate to zero first, so every byte reads 0).
  if (::ftruncate(log->fd_, 0) != 0) {
    if (error) *error = errno_text("cannot truncate the ingest log", path);
    return nullptr;
  }
  if (!log->map(capacity, true, error)) return nullptr;
  return log;
}

bool IngestLog::map(size_t capacity, bool create, std::string* error) {
  size_t bytes = kHeaderBytes + capacity;
  if (fd_ >= 0) {
    if (create && ::ftruncate(fd_, static_cast<off_t>(bytes)) != 0) {
      if (error) *error = errno_text("cannot size the ingest log", path_);
      return false;
    }
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, 0);
    if (p == MAP_FAILED) {
      if (error) *error = errno_text("cannot map the ingest log", path_);
      return false;
    }
    base_ = static_cast<char*>(p);
    // MAP_POPULATE maps the pages of a shared file read-only, so the first write to each page
    // would fault (ext4 page_mkwrite: about 1.5 faults per 100 messages during the first lap of
    // the ring, on the broker thread). Taking those faults here, at start, keeps them off the
    // message path until the kernel's writeback cleans the pages again (every 30 s or so).
    // Kernels before 5.14 have no MADV_POPULATE_WRITE: they take the faults as before.
#ifdef MADV_POPULATE_WRITE
    (void)::madvise(p, bytes, MADV_POPULATE_WRITE);
#endif
  } else {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) {
      if (error) *error = std::string("cannot allocate the ingest ring: ") + std::strerror(errno);
      return false;
    }
    base_ = static_cast<char*>(p);
  }
  mapped_ = bytes;
  data_ = base_ + kHeaderBytes;
  capacity_ = capacity;
  if (create) {
    uint64_t magic = kMagic, cap = capacity;
    std::memcpy(base_ + kOffMagic, &magic, 8);
    put32(base_ + kOffVersion, kVersion);
    std::memcpy(base_ + kOffCapacity, &cap, 8);
    store64(base_ + kOffReleasedPos, 0);
    store64(base_ + kOffReleasedSeq, 0);
  }
  uint64_t pos = load64(base_ + kOffReleasedPos);
  uint64_t seq = load64(base_ + kOffReleasedSeq);
  write_pos_ = consumed_ = pos;
  next_seq_ = seq + 1;
  consumed_seq_ = seq;
  head_.store(pos, std::memory_order_release);
  tail_.store(pos, std::memory_order_release);
  appended_seq_.store(seq, std::memory_order_release);
  released_seq_.store(seq, std::memory_order_release);
  return true;
}

void IngestLog::unmap() {
  if (base_) ::munmap(base_, mapped_);
  base_ = data_ = nullptr;
  mapped_ = 0;
}

IngestLog::~IngestLog() {
  unmap();
  if (fd_ >= 0) ::close(fd_);
}

size_t IngestLog::recover(const Visitor& visit) {
  if (fd_ < 0) return 0;
  uint64_t pos = consumed_;
  uint64_t seq = 0;  // the first record fixes the sequence; later ones must follow it
  size_t n = 0;
  for (;;) {
    pos = slot(pos);
    const char* r = at(pos);
    uint64_t s = load64(r + kRecSeq);
    if (s == 0 || (seq != 0 && s != seq + 1)) break;
    uint32_t len = get32(r + kRecLen);
    size_t room = capacity_ - pos % capacity_;
    if (len == kWrap) {
      seq = s;
      pos += room;
      continue;
    }
    uint32_t klen = get32(r + kRecKeyLen);
    if (klen > len || record_bytes(len) > room) break;  // not a record this log wrote
    visit(Record{s, get32(r + kRecFamily), std::string_view(r + kRecordHeader, klen),
                 std::string_view(r + kRecordHeader + klen, len - klen),
                 get32(r + kRecKeyLen + 4)});
    ++n;
    seq = s;
    pos += record_bytes(len);
  }
  // Everything up to `pos` is handed over; restart() releases it.
  consumed_ = write_pos_ = pos;
  if (seq != 0) consumed_seq_ = seq;
  next_seq_ = std::max(next_seq_, consumed_seq_ + 1);
  return n;
}

bool IngestLog::restart(std::string* error) {
  if (fd_ >= 0 && capacity_ != wanted_capacity_) {
    // Rebuild with the configured capacity: a fresh, zeroed file.
    uint64_t seq = consumed_seq_;
    unmap();
    if (::ftruncate(fd_, 0) != 0) {
      if (error) *error = errno_text("cannot truncate the ingest log", path_);
      return false;
    }
    if (!map(wanted_capacity_, true, error)) return false;
    store64(base_ + kOffReleasedSeq, seq);
    next_seq_ = seq + 1;
    consumed_seq_ = seq;
    appended_seq_.store(seq, std::memory_order_release);
    released_seq_.store(seq, std::memory_order_release);
    return true;
  }
  // The slot where recovery stopped may hold bytes that are not a record: clear it so that the
  // chain ends there, then release everything before it.
  uint64_t pos = slot(consumed_);
  store64(at(pos), 0);
  consumed_ = write_pos_ = pos;
  head_.store(pos, std::memory_order_release);
  appended_seq_.store(consumed_seq_, std::memory_order_release);
  release();
  return true;
}

bool IngestLog::try_append(uint32_t family, std::string_view key, std::string_view value,
                           uint32_t flags) {
  if (!fits(key.size(), value.size())) return false;
  const size_t payload = key.size() + value.size();
  const size_t need = record_bytes(payload);
  const uint64_t tail = tail_.load(std::memory_order_acquire);

  uint64_t pos = slot(write_pos_);
  size_t room = capacity_ - pos % capacity_;
  const bool wrap = need > room;
  uint64_t start = wrap ? pos + room : pos;
  uint64_t end = start + need;
  // The slot after the record is zeroed before the commit: it must be free space too.
  if (slot(end) + 8 - tail > capacity_) return false;

  if (wrap) {
    // Marker at the end of this lap: zero the first slot of the next lap, then commit the marker.
    char* m = at(pos);
    put32(m + kRecLen, kWrap);
    store64(at(start), 0);
    store64(m + kRecSeq, next_seq_++);
  }
  char* r = at(start);
  put32(r + kRecLen, static_cast<uint32_t>(payload));
  put32(r + kRecFamily, family);
  put32(r + kRecKeyLen, static_cast<uint32_t>(key.size()));
  put32(r + kRecKeyLen + 4, flags);
  std::memcpy(r + kRecordHeader, key.data(), key.size());
  if (!value.empty()) std::memcpy(r + kRecordHeader + key.size(), value.data(), value.size());
  store64(at(slot(end)), 0);
  const uint64_t seq = next_seq_++;
  store64(r + kRecSeq, seq);

  write_pos_ = end;
  // seq_cst: with the writer's seq_cst store of its idle flag before it checks empty(), the
  // producer either sees the writer idle (and wakes it) or the writer sees this record.
  head_.store(end, std::memory_order_seq_cst);
  appended_seq_.store(seq, std::memory_order_release);
  return true;
}

size_t IngestLog::consume(size_t max_bytes, const Visitor& visit) {
  const uint64_t head = head_.load(std::memory_order_acquire);
  const uint64_t start = consumed_;
  size_t n = 0;
  uint64_t pos = consumed_;
  while (pos != head && pos - start < max_bytes) {
    pos = slot(pos);
    if (pos == head) break;
    const char* r = at(pos);
    uint64_t s = load64(r + kRecSeq);
    uint32_t len = get32(r + kRecLen);
    consumed_seq_ = s;
    if (len == kWrap) {
      pos += capacity_ - pos % capacity_;
      continue;
    }
    uint32_t klen = get32(r + kRecKeyLen);
    visit(Record{s, get32(r + kRecFamily), std::string_view(r + kRecordHeader, klen),
                 std::string_view(r + kRecordHeader + klen, len - klen),
                 get32(r + kRecKeyLen + 4)});
    ++n;
    pos += record_bytes(len);
  }
  consumed_ = pos;
  return n;
}

void IngestLog::release() {
  // Header first (a crash after this replays from here), then the space goes back.
  store64(base_ + kOffReleasedSeq, consumed_seq_);
  store64(base_ + kOffReleasedPos, consumed_);
  tail_.store(consumed_, std::memory_order_release);
  released_seq_.store(consumed_seq_, std::memory_order_release);
}

}  // namespace c8y::storage
