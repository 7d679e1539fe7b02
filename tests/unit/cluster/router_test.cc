#include "plugin/cluster/router.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

namespace c8y::cluster {
namespace {

TEST(RouterMap, CommandsTurnTheCurrentMapIntoTheDesiredOne) {
  TenantMap current{{"t1", "n1"}, {"t2", "n2"}, {"t3", "n3"}};
  TenantMap desired{{"t1", "n1"}, {"t2", "n3"}, {"t4", "n1"}};
  auto cmds = map_commands("/m/tenants.map", current, desired);
  EXPECT_EQ(cmds, (std::vector<std::string>{"set map /m/tenants.map t2 n3",
                                            "add map /m/tenants.map t4 n1",
                                            "del map /m/tenants.map t3"}));
  EXPECT_TRUE(map_commands("/m", desired, desired).empty());
  EXPECT_EQ(map_commands("/m", {}, {{"a", "n"}}).size(), 1u);
}

TEST(RouterMap, ShowMapIsParsedAndOtherLinesIgnored) {
  auto m = parse_show_map("0x55c15cfc8cd0 t1 n1\n0x55c15cfc8d60 t2 n2\n\nUnknown map identifier\n");
  EXPECT_EQ(m, (TenantMap{{"t1", "n1"}, {"t2", "n2"}}));
  EXPECT_TRUE(parse_show_map("").empty());
}

TEST(RouterMap, FileHasOneSortedLinePerTenant) {
  EXPECT_EQ(render_map({{"t2", "n2"}, {"t1", "n1"}}),
            "# tenant node (written by c8y-router from etcd; do not edit)\nt1 n1\nt2 n2\n");
}

// A stand-in for HAProxy's stats socket: answers one command per connection, like HAProxy's
// non-interactive mode, and records what it got.
class FakeStatsSocket {
 public:
  explicit FakeStatsSocket(std::string answer) : answer_(std::move(answer)) {
    path_ = std::filesystem::temp_directory_path() /
            ("c8y-router-test-" + std::to_string(::getpid()) + ".sock");
    std::filesystem::remove(path_);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path_.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    thread_ = std::thread([this] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[256];
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n > 0) got_.assign(buf, static_cast<size_t>(n));
      (void)!::send(c, answer_.data(), answer_.size(), MSG_NOSIGNAL);
      ::close(c);
    });
  }
  ~FakeStatsSocket() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
    std::filesystem::remove(path_);
  }
  std::string path() const { return path_; }
  std::string got() {
    thread_.join();
    thread_ = std::thread([] {});
    return got_;
  }

 private:
  std::string answer_, got_;
  std::filesystem::path path_;
  int fd_ = -1;
  std::thread thread_;
};

TEST(RouterHaproxy, OneCommandOneAnswer) {
  FakeStatsSocket fake("0x1 t1 n1\n\n");
  std::string reply;
  ASSERT_TRUE(haproxy_command(fake.path(), "show map /m", &reply).ok());
  EXPECT_EQ(reply, "0x1 t1 n1\n\n");
  EXPECT_EQ(fake.got(), "show map /m\n");
}

TEST(RouterHaproxy, NoSocketIsUnavailable) {
  std::string reply;
  auto s = haproxy_command("/nonexistent/c8y.sock", "show map /m", &reply);
  EXPECT_TRUE(s.unavailable()) << s.message;
  EXPECT_TRUE(haproxy_command(std::string(200, 'x'), "x", &reply).invalid());
}

}  // namespace
}  // namespace c8y::cluster
