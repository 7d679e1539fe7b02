// Managed objects (devices, child devices) and external ids of one tenant.
//
// Objects are stored as Cumulocity-shaped JSON without the "self" links (added when rendered).
// Contract: thread-safe; changes of one tenant are serialised by TenantSpace::objects_mutex, and
// every logical change is one WriteBatch, written at once (never deferred: the next message may
// need to read it).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/domain/inventory_query.h"
#include "plugin/domain/tenant_space.h"
#include "storage/store.h"

namespace c8y::domain {

inline constexpr std::string_view kSerialType = "c8y_Serial";

std::string now_iso8601();
std::string format_id(uint64_t id);
std::optional<uint64_t> parse_id(std::string_view s);

struct DeviceSpec {
  std::string serial;         // c8y_Serial external id
  std::string name;           // default "MQTT Device <serial>"
  std::string type;           // default "c8y_MQTTDevice"
  uint64_t parent = 0;        // child device of this object when non-zero
  bool addition = false;      // with parent: a child addition (a 102 service), not a child device
  bool device_marker = true;  // c8y_IsDevice
  bool agent_marker = true;   // com_cumulocity_model_Agent
  std::string owner;          // user that created it
};

struct EnsureResult {
  storage::StoreStatus status;
  uint64_t id = 0;
  bool created = false;
};

class Inventory {
 public:
  Inventory(storage::Store& store, TenantSpace& space) : store_(store), space_(space) {}

  std::optional<nlohmann::json> get(uint64_t id) const;
  std::optional<uint64_t> find_external(std::string_view type, std::string_view value) const;
  // Creates the device with its external id (and the parent's child reference) unless an object
  // with that external id exists already.
  EnsureResult ensure_device(const DeviceSpec& spec);
  // Merges top-level fragments into the object (null removes a fragment); updates lastUpdated.
  storage::StoreStatus merge(uint64_t id, const nlohmann::json& fragments);
  // Read-modify-write of one object under the tenant's object lock. `change` returns false to
  // leave the object as it was (nothing written).
  storage::StoreStatus update(uint64_t id, const std::function<bool(nlohmann::json& mo)>& change);
  // REST: a new object from `body` (fragments; id, owner and times are the store's).
  storage::StoreStatus create(const nlohmann::json& body, const std::string& owner,
                              nlohmann::json* out);
  // Deletes the object, its external ids and the references its parents and children hold.
  storage::StoreStatus remove(uint64_t id);
  // The three parent/child relations Cumulocity keeps in both objects: each object lists its
  // children in children_list(r) and its parents in parents_list(r), as
  // {"references": [{"managedObject": {"id", "name"}}]}. Assets are what groups
  // (c8y_IsDeviceGroup) hold; bygroupid() in a query reads assetParents.
  enum class Relation { kDevice, kAddition, kAsset };
  static constexpr Relation kRelations[] = {Relation::kDevice, Relation::kAddition,
                                            Relation::kAsset};
  static const char* children_list(Relation r) {
    return r == Relation::kDevice     ? "childDevices"
           : r == Relation::kAddition ? "childAdditions"
                                      : "childAssets";
  }
  static const char* parents_list(Relation r) {
    return r == Relation::kDevice     ? "deviceParents"
           : r == Relation::kAddition ? "additionParents"
                                      : "assetParents";
  }
  // True for the six reference lists above (kept by add_child/remove_child, not by merges).
  static bool is_relation_list(std::string_view fragment);
  // Makes `child` a child device (addition, asset) of `parent` (idempotent). kNotFound when
  // either is missing, with *missing (optional) set to the id that is missing.
  storage::StoreStatus add_child(uint64_t parent, uint64_t child,
                                 Relation relation = Relation::kDevice,
                                 uint64_t* missing = nullptr);
  // Removes the reference in both objects. kNotFound (with *missing) when either object is
  // missing or `child` is not a child of `parent` in that relation (*missing = child).
  storage::StoreStatus remove_child(uint64_t parent, uint64_t child, Relation relation,
                                    uint64_t* missing = nullptr);
  // The first parent of `id`: its device parent, or else its addition parent.
  std::optional<uint64_t> parent_of(const nlohmann::json& mo) const;
  // Adds an external id; kError "conflict" if the pair belongs to another object.
  storage::StoreStatus add_external_id(uint64_t id, std::string_view type, std::string_view value);
  // All external ids of an object: [{type, externalId}].
  // The object's external ids (type, value). A read failure gives a shorter list and sets `st`
  // (when given): callers that only render the ids pass none.
  std::vector<std::pair<std::string, std::string>> external_ids_of(
      uint64_t id, storage::StoreStatus* st = nullptr) const;

  struct Page {
    std::vector<nlohmann::json> objects;
    bool more = false;
    bool count_total = false;  // in: count every match; out: `total`
    size_t total = 0;
  };
  // Objects in id order; optional filters: type, fragmentType, owner, and a query (its filter
  // and, when it has one, its $orderby); paging 1-based.
  // Cost: a scan of the tenant's objects, stopped after the page unless the total is counted
  // or the query orders (then every object is read, and page * page_size + 1 kept in memory).
  storage::StoreStatus list(const std::string& type, const std::string& fragment,
                            const std::string& owner, size_t page_size, size_t page, Page* out,
                            const InventoryQuery* query = nullptr) const;

  // Presence: c8y_Connection.status of a device (CONNECTED / DISCONNECTED) and a marker key for
  // every device shown CONNECTED, so a restart can find them (connected_devices) and show them
  // disconnected (Mosquitto reports no disconnects at shutdown).
  storage::StoreStatus set_connection(uint64_t id, bool connected);
  storage::StoreStatus connected_devices(std::vector<uint64_t>* out) const;
  // Every object whose stored JSON contains `text` (a cheap pre-filter before parsing), parsed;
  // `fn` returns false to stop.
  storage::StoreStatus for_each_containing(
      std::string_view text,
      const std::function<bool(uint64_t id, const nlohmann::json& mo)>& fn) const;

 private:
  storage::Store& store_;
  TenantSpace& space_;
};

}  // namespace c8y::domain
