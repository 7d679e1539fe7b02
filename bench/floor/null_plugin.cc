// The floor under any plugin: a Mosquitto plugin that does no work of its own but costs what
// every plugin of this shape costs the broker thread. It registers the same callbacks as
// mosquitto-c8y (BASIC_AUTH and ACL_CHECK, which accept everything, MESSAGE, TICK) and runs one
// background thread that is busy about as often as the storage writer (it wakes every 0.5 ms),
// so the process is multi-threaded like the real one.
//
// bench/run.sh measures it like the plugin: BENCH_PLUGIN=build/bench/c8y_null_plugin.so. Its
// ratio is the best any plugin with a background thread can reach on this host; the distance
// from there to mosquitto-c8y's ratio is the plugin's own work.
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace {

mosquitto_plugin_id_t* g_id = nullptr;
std::atomic<bool> g_stop{false};
std::thread g_thread;

int accept_all(int, void*, void*) {
  return MOSQ_ERR_SUCCESS;
}

}  // namespace

extern "C" {

int mosquitto_plugin_version(int, const int*) {
  return 5;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t* id, void**, struct mosquitto_opt*, int) {
  g_id = id;
  for (int event : {MOSQ_EVT_BASIC_AUTH, MOSQ_EVT_ACL_CHECK, MOSQ_EVT_MESSAGE, MOSQ_EVT_TICK})
    if (mosquitto_callback_register(id, event, accept_all, nullptr, nullptr) != MOSQ_ERR_SUCCESS)
      return MOSQ_ERR_UNKNOWN;
  try {
    g_thread = std::thread([] {
      while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::microseconds(500));
    });
  } catch (...) {
    return MOSQ_ERR_UNKNOWN;
  }
  return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void*, struct mosquitto_opt*, int) {
  g_stop = true;
  if (g_thread.joinable()) g_thread.join();
  for (int event : {MOSQ_EVT_BASIC_AUTH, MOSQ_EVT_ACL_CHECK, MOSQ_EVT_MESSAGE, MOSQ_EVT_TICK})
    mosquitto_callback_unregister(g_id, event, accept_all, nullptr);
  return MOSQ_ERR_SUCCESS;
}

}  // extern "C"
