// RegistrationMirror against a real etcd member, paired with the real identity side (a node's
// Registrations and Directory over RocksDB): a serial unique across tenants and nodes, every node
// mirroring the records, and the credentials hand-over between a poller node and the owner node.
#include "plugin/cluster/registration_mirror.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "plugin/cluster/node_agent.h"
#include "plugin/identity/password_hash.h"
#include "plugin/identity/registration_owner.h"
#include "tests/cluster/etcd_fixture.h"
#include "tests/unit/temp_dir.h"

namespace c8y::cluster {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;
int64_t fixed_now() {
  return kT0;
}

// Waits for a condition another thread brings about (a watch event); false after 10 s.
template <typename F>
bool eventually(F f) {
  for (int i = 0; i < 1000; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return f();
}

// One node's identity side: its store, directory, requests and their owner.
struct OwnerNode {
  OwnerNode() {
    store = dir.open_store();
    directory = std::make_unique<identity::Directory>(*store);
    EXPECT_TRUE(directory->load().ok());
    identity::TenantRecord t;
    t.id = "t3";
    EXPECT_TRUE(directory->put_tenant(t).ok());
    regs = std::make_unique<identity::Registrations>(*store);
    EXPECT_TRUE(regs->load().ok());
    owner = std::make_unique<identity::RegistrationOwner>(*directory, *regs, fixed_now);
  }
  c8y::testing::TempDir dir;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<identity::Directory> directory;
  std::unique_ptr<identity::Registrations> regs;
  std::unique_ptr<identity::RegistrationOwner> owner;
};

class RegistrationMirrorTest : public OneEtcdMemberTest {
 protected:
  std::unique_ptr<RegistrationMirror> mirror(const std::string& node, common::Outbox* outbox,
                                             common::BootstrapOwner* owner = nullptr) {
    auto m = std::make_unique<RegistrationMirror>(*client_, RegistrationMirrorOptions{keys_, node},
                                                  nullptr, owner, outbox);
    m->start();
    EXPECT_TRUE(eventually([&] { return m->ready(); }));
    return m;
  }
  std::optional<common::BootstrapRequest> record(const std::string& serial) {
    KeyValue kv;
    if (!client_->get(registration_key(keys_, serial), &kv).ok()) return std::nullopt;
    return decode_registration(serial, kv.value);
  }
  static std::vector<common::outbox::Publish> replies(common::Outbox& outbox) {
    std::vector<common::outbox::Publish> out;
    for (auto& item : outbox.take())
      if (auto* p = std::get_if<common::outbox::Publish>(&item)) out.push_back(*p);
    return out;
  }

  common::Outbox outbox_a_, outbox_b_;
};

TEST_F(RegistrationMirrorTest, ASerialBelongsToOneTenantAcrossNodes) {
  auto a = mirror("n1", &outbox_a_);
  auto b = mirror("n2", &outbox_b_);
  ASSERT_TRUE(a->claim("sn-1", "t3").ok());
  auto other = b->claim("sn-1", "t5");
  EXPECT_TRUE(other.conflict()) << other.message;
  EXPECT_EQ(other.message.find("t3"), std::string::npos);  // the other tenant is not named
  EXPECT_EQ(record("sn-1")->tenant, "t3");
  // The same tenant again (its node lost the request but etcd kept it): taken over.
  EXPECT_TRUE(b->claim("sn-1", "t3").ok());
  // Another tenant cannot change or remove it.
  EXPECT_TRUE(b->set_status("sn-1", "t5", "ACCEPTED").conflict());
  EXPECT_TRUE(b->release("sn-1", "t5").ok());
  EXPECT_TRUE(record("sn-1"));
  EXPECT_TRUE(a->release("sn-1", "t3").ok());
  EXPECT_FALSE(record("sn-1"));
  EXPECT_TRUE(b->claim("sn-1", "t5").ok());  // free again
}

TEST_F(RegistrationMirrorTest, ADeletedTenantsSerialsAreFreed) {
  auto a = mirror("n1", &outbox_a_);
  ASSERT_TRUE(a->claim("sn-1", "t3").ok());
  ASSERT_TRUE(a->claim("sn-2", "t3").ok());
  ASSERT_TRUE(a->claim("sn-3", "t4").ok());
  ASSERT_TRUE(a->release_tenant("t3").ok());
  EXPECT_FALSE(record("sn-1"));
  EXPECT_FALSE(record("sn-2"));
  EXPECT_TRUE(record("sn-3"));
  EXPECT_TRUE(a->claim("sn-1", "t5").ok());
}

TEST_F(RegistrationMirrorTest, AFinishedRequestIsRemovedAlsoWhenTheNodeStops) {
  auto a = mirror("n1", &outbox_a_);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(a->claim("sn-" + std::to_string(i), "t3").ok());
  for (int i = 0; i < 20; ++i) a->finished("sn-" + std::to_string(i), "t3");
  a->stop();  // right away: what the writer had not done yet is done before it ends
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(record("sn-" + std::to_string(i))) << i;
}

TEST_F(RegistrationMirrorTest, EveryNodeMirrorsTheRecords) {
  auto a = mirror("n1", &outbox_a_);
  ASSERT_TRUE(a->claim("sn-1", "t3").ok());
  ASSERT_TRUE(a->claim("sn-2", "t3").ok());
  // A node that starts later lists them; one that runs sees the changes.
  auto b = mirror("n2", &outbox_b_);
  EXPECT_TRUE(b->find("sn-1") && b->find("sn-2"));
  EXPECT_EQ(b->find("sn-1")->status, "WAITING_FOR_CONNECTION");
  EXPECT_EQ(b->find("sn-1")->node, "n1");
  ASSERT_TRUE(a->set_status("sn-1", "t3", "ACCEPTED").ok());
  EXPECT_TRUE(eventually([&] { return b->find("sn-1")->status == "ACCEPTED"; }));
  ASSERT_TRUE(a->release("sn-2", "t3").ok());
  EXPECT_TRUE(eventually([&] { return !b->find("sn-2"); }));
  // Written behind the mirrors' back: the watch brings it too.
  ASSERT_TRUE(client_
                  ->put(registration_key(keys_, "sn-3"),
                        R"({"tenant":"t6","status":"PENDING_ACCEPTANCE","node":"n3"})")
                  .ok());
  EXPECT_TRUE(eventually([&] { return a->find("sn-3") && b->find("sn-3"); }));
  EXPECT_FALSE(b->find("nobody"));
}

// The whole pairing across two nodes: n2 holds tenant t3 and its request, the device polls on n1.
TEST_F(RegistrationMirrorTest, CredentialsIssuedOnThePollerWorkOnTheOwner) {
  OwnerNode n2;
  auto owner = mirror("n2", &outbox_b_, n2.owner.get());
  auto poller = mirror("n1", &outbox_a_);
  ASSERT_TRUE(n2.regs->create("t3", "sn-1", "admin", kT0).value);
  ASSERT_TRUE(owner->claim("sn-1", "t3").ok());
  ASSERT_TRUE(eventually([&] { return poller->find("sn-1").has_value(); }));

  // First poll on n1: the contact reaches n2's request.
  poller->contacted("sn-1");
  ASSERT_TRUE(eventually([&] {
    auto r = n2.regs->get("t3", "sn-1");
    return r && r->status == identity::RegistrationStatus::kPendingAcceptance;
  }));
  EXPECT_EQ(record("sn-1")->status, "PENDING_ACCEPTANCE");

  // Not accepted yet: an issue writes nothing and no reply goes out.
  poller->issue("sn-1", "sn-1", *identity::hash_secret("early-password-0123456"), "70,early");
  ASSERT_TRUE(eventually([&] { return poller->idle(); }));
  EXPECT_EQ(record("sn-1")->hash, "");
  EXPECT_FALSE(poller->issuing("sn-1"));

  // The admin on n2 accepts.
  ASSERT_TRUE(owner->set_status("sn-1", "t3", "ACCEPTED").ok());
  ASSERT_TRUE(
      n2.regs->set_status("t3", "sn-1", identity::RegistrationStatus::kAccepted, kT0).value);
  ASSERT_TRUE(eventually([&] { return poller->find("sn-1")->status == "ACCEPTED"; }));

  // The next poll on n1: only the hash travels; n2 makes the device user with it, and then n1
  // answers its device.
  const std::string password = "the-password-0123456789";
  poller->issue("sn-1", "sn-1", *identity::hash_secret(password), "70,t3,device_sn-1," + password);
  EXPECT_TRUE(poller->issuing("sn-1"));
  std::vector<common::outbox::Publish> sent;
  ASSERT_TRUE(eventually([&] {
    auto more = replies(outbox_a_);
    sent.insert(sent.end(), more.begin(), more.end());
    return !sent.empty();
  }));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].client_id, "sn-1");
  EXPECT_EQ(sent[0].topic, "s/dcr");
  EXPECT_EQ(sent[0].payload, "70,t3,device_sn-1," + password);
  auto user = n2.directory->user("t3", "device_sn-1");
  ASSERT_TRUE(user);  // there before the reply went out
  EXPECT_TRUE(identity::verify_password(user->password_hash, password));
  EXPECT_EQ(user->device_serial, "sn-1");
  EXPECT_TRUE(record("sn-1")->installed);
  EXPECT_EQ(record("sn-1")->hash.find(password), std::string::npos);  // never the password
  EXPECT_FALSE(poller->issuing("sn-1"));
  EXPECT_TRUE(replies(outbox_b_).empty());  // the owner sends nothing itself

  // The device logs in on n2: the request is complete there and its record goes everywhere.
  ASSERT_TRUE(n2.regs->complete("t3", "sn-1"));
  owner->finished("sn-1", "t3");
  EXPECT_TRUE(eventually([&] { return !poller->find("sn-1") && !record("sn-1"); }));
}

TEST_F(RegistrationMirrorTest, OfTwoPollersOneWins) {
  OwnerNode n2;
  ASSERT_TRUE(n2.regs->create("t3", "sn-1", "admin", kT0).value);
  n2.owner->contacted("sn-1", "t3");
  ASSERT_TRUE(
      n2.regs->set_status("t3", "sn-1", identity::RegistrationStatus::kAccepted, kT0).value);
  // The owner is not running yet: the hashes stay uninstalled while the pollers race.
  auto p1 = mirror("n1", &outbox_a_);
  auto p3 = mirror("n3", &outbox_b_);
  ASSERT_TRUE(p1->claim("sn-1", "t3").ok());
  ASSERT_TRUE(p1->set_status("sn-1", "t3", "ACCEPTED").ok());
  ASSERT_TRUE(eventually([&] {
    return p1->find("sn-1")->status == "ACCEPTED" && p3->find("sn-1")->status == "ACCEPTED" &&
           p1->find("sn-1")->revision == p3->find("sn-1")->revision;
  }));
  // Both decided on the same version of the record.
  p1->issue("sn-1", "sn-1", *identity::hash_secret("password-of-poller-one"), "70,one");
  p3->issue("sn-1", "sn-1", *identity::hash_secret("password-of-poller-three"), "70,three");
  ASSERT_TRUE(eventually([&] { return p1->idle() && p3->idle(); }));
  EXPECT_NE(p1->issuing("sn-1"), p3->issuing("sn-1"));  // exactly one still waits
  auto rec = record("sn-1");
  ASSERT_TRUE(rec && !rec->hash.empty());
  const bool one_won = identity::verify_password(rec->hash, "password-of-poller-one");
  EXPECT_NE(one_won, identity::verify_password(rec->hash, "password-of-poller-three"));

  // The owner comes up, installs the winner's hash; only the winner answers its device.
  auto owner = mirror("n2", nullptr, n2.owner.get());
  auto& win = one_won ? outbox_a_ : outbox_b_;
  auto& lose = one_won ? outbox_b_ : outbox_a_;
  std::vector<common::outbox::Publish> sent;
  ASSERT_TRUE(eventually([&] {
    auto more = replies(win);
    sent.insert(sent.end(), more.begin(), more.end());
    return !sent.empty();
  }));
  EXPECT_EQ(sent[0].payload, one_won ? "70,one" : "70,three");
  EXPECT_TRUE(replies(lose).empty());
  EXPECT_TRUE(
      identity::verify_password(n2.directory->user("t3", "device_sn-1")->password_hash,
                                one_won ? "password-of-poller-one" : "password-of-poller-three"));
}

// The owner acts on a record only while the placements it read put the tenant here. A change seen
// while they were behind (a tenant that just moved here) is applied by a later sweep.
TEST_F(RegistrationMirrorTest, AChangeSeenBeforeTheTenantCameHereIsAppliedLater) {
  OwnerNode n2;
  ASSERT_TRUE(n2.regs->create("t3", "sn-1", "admin", kT0).value);
  ASSERT_TRUE(client_->put(keys_.tenant("t3"), encode(Placement{"n1", 1})).ok());
  NodeAgent agent(
      *client_,
      NodeAgentOptions{keys_, {"n2", "127.0.0.1:8111", 1, 0}, 5, std::chrono::milliseconds(100)},
      [] { return std::vector<std::string>{"t3"}; }, nullptr);
  ASSERT_TRUE(agent.round().ok());  // the real agent's view: t3 lives on n1
  ASSERT_FALSE(agent.home("t3").here);
  RegistrationMirrorOptions o{keys_, "n2"};
  o.sweep = std::chrono::milliseconds(50);
  RegistrationMirror owner(*client_, o, &agent, n2.owner.get(), &outbox_b_);
  owner.start();
  auto poller = mirror("n1", &outbox_a_);
  ASSERT_TRUE(poller->claim("sn-1", "t3").ok());
  poller->contacted("sn-1");
  ASSERT_TRUE(eventually([&] {
    auto r = owner.find("sn-1");
    return r && r->status == "PENDING_ACCEPTANCE";
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // sweeps that must not act
  EXPECT_EQ(n2.regs->get("t3", "sn-1")->status,
            identity::RegistrationStatus::kWaitingForConnection);
  // The tenant comes to n2; the agent reads it; a sweep applies the contact.
  ASSERT_TRUE(client_->put(keys_.tenant("t3"), encode(Placement{"n2", 2})).ok());
  ASSERT_TRUE(agent.round().ok());
  EXPECT_TRUE(eventually([&] {
    return n2.regs->get("t3", "sn-1")->status == identity::RegistrationStatus::kPendingAcceptance;
  }));
  owner.stop();
  agent.stop();
}

TEST_F(RegistrationMirrorTest, RequestsMadeBeforeTheClusterAreRecordedAtStart) {
  OwnerNode n2;
  ASSERT_TRUE(n2.regs->create("t3", "sn-old", "admin", kT0).value);
  // Another tenant's record already holds this one: it is left alone (and logged).
  ASSERT_TRUE(n2.regs->create("t3", "sn-taken", "admin", kT0).value);
  ASSERT_TRUE(client_
                  ->put(registration_key(keys_, "sn-taken"),
                        R"({"tenant":"t5","status":"WAITING_FOR_CONNECTION","node":"n3"})")
                  .ok());
  auto owner = mirror("n2", &outbox_b_, n2.owner.get());
  ASSERT_TRUE(eventually([&] { return record("sn-old").has_value(); }));
  EXPECT_EQ(record("sn-old")->tenant, "t3");
  EXPECT_EQ(record("sn-old")->node, "n2");
  EXPECT_EQ(record("sn-taken")->tenant, "t5");
  bool warned = false;
  for (auto& item : outbox_b_.take())
    if (auto* l = std::get_if<common::outbox::Log>(&item))
      warned = warned || l->message.find("sn-taken") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST_F(RegistrationMirrorTest, GoesOnAfterEtcdWasAway) {
  auto a = mirror("n1", &outbox_a_);
  auto b = mirror("n2", &outbox_b_);
  ASSERT_TRUE(a->claim("sn-1", "t3").ok());
  ASSERT_TRUE(eventually([&] { return b->find("sn-1").has_value(); }));
  etcd_->stop(0);
  EXPECT_TRUE(a->claim("sn-2", "t3").unavailable());
  EXPECT_TRUE(b->find("sn-1").has_value());  // what was read stays readable
  std::string error;
  ASSERT_TRUE(etcd_->restore(std::chrono::seconds(20), &error)) << error;
  ASSERT_TRUE(a->claim("sn-2", "t3").ok());
  EXPECT_TRUE(eventually([&] { return b->find("sn-2").has_value(); }));
}

}  // namespace
}  // namespace c8y::cluster
