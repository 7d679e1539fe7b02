#include "plugin/app/measurement_writer.h"

namespace c8y::app {

storage::StoreStatus MeasurementWriter::write(const Session& s, policy::Mode mode, uint64_t target,
                                              domain::Measurement& m, nlohmann::json* out) {
  m.source = target;
  m.id = 0;
  if (mode == policy::Mode::kPersistent || mode == policy::Mode::kQuiescent) {
    domain::Measurements ms(store_, *s.space);
    if (auto st = ms.store(m); !st.ok()) return st;
  }
  if (!out && !streams_.wanted(s.tenant)) return {};
  auto j = domain::measurement_json(m);
  if (!m.id) j.erase("id");  // not stored (t/, c/): no id on the streams
  streams_.publish(s.tenant, mode, "measurements", target, "CREATE", j);
  if (out) *out = std::move(j);
  return {};
}

}  // namespace c8y::app
