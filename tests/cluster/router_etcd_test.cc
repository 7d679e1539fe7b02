// Router::sync against a real etcd member (no HAProxy: the map file alone): the file follows the
// placements, and is not rewritten when nothing changed (a restarted HAProxy reads it; a rewrite
// for nothing would only churn the disk on every watch batch).
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "plugin/cluster/router.h"
#include "tests/cluster/etcd_fixture.h"

namespace c8y::cluster {
namespace {

class RouterEtcdTest : public OneEtcdMemberTest {};

ino_t inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_F(RouterEtcdTest, TheMapFileFollowsThePlacementsAndIsLeftAloneWhenUnchanged) {
  const std::string file = ::testing::TempDir() + "/router-etcd-test.map";
  std::filesystem::remove(file);
  Router r(*client_, RouterOptions{keys_, file, {}}, [](const std::string&) {});
  ASSERT_TRUE(client_->put(keys_.tenant("t1"), encode(Placement{"n1", 1})).ok());
  ASSERT_TRUE(r.sync().ok());
  EXPECT_EQ(read(file), render_map({{"t1", "n1"}}));
  const ino_t first = inode(file);
  ASSERT_NE(first, 0u);
  ASSERT_TRUE(r.sync().ok());
  EXPECT_EQ(inode(file), first);  // the same file: not replaced
  ASSERT_TRUE(client_->put(keys_.tenant("t1"), encode(Placement{"n2", 2})).ok());
  ASSERT_TRUE(r.sync().ok());
  EXPECT_EQ(read(file), render_map({{"t1", "n2"}}));
  EXPECT_NE(inode(file), first);  // replaced atomically (rename)
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace c8y::cluster
