// LD_PRELOAD probe for bench/conn_memory.py --details: glibc's malloc_info of a running broker on
// request. With C8Y_MALLOC_PROBE=<dir> in its environment, a thread of the process looks for
// <dir>/malloc_probe.trigger every 100 ms; when it is there, it is removed and malloc_info is
// written to <dir>/malloc_info.xml (renamed into place when complete). A trigger that contains
// "trim" runs malloc_trim(0) first (what returning freed memory to the system would give).
// The thread allocates only while it writes, so it adds no arena of its own until asked.
#include <malloc.h>
#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// Plain storage: set by the constructor below, which may run before any C++ initialiser would.
char g_dir[4096];

void* probe_loop(void*) {
  const std::string trigger = std::string(g_dir) + "/malloc_probe.trigger";
  const std::string out = std::string(g_dir) + "/malloc_info.xml";
  for (;;) {
    usleep(100 * 1000);
    FILE* t = std::fopen(trigger.c_str(), "r");
    if (!t) continue;
    char buf[16] = {};
    size_t n = std::fread(buf, 1, sizeof(buf) - 1, t);
    std::fclose(t);
    unlink(trigger.c_str());
    if (n >= 4 && std::strncmp(buf, "trim", 4) == 0) malloc_trim(0);
    const std::string tmp = out + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) continue;
    malloc_info(0, f);
    std::fclose(f);
    std::rename(tmp.c_str(), out.c_str());
  }
  return nullptr;
}

__attribute__((constructor)) void start_probe() {
  const char* dir = std::getenv("C8Y_MALLOC_PROBE");
  if (!dir || !*dir) return;
  std::snprintf(g_dir, sizeof(g_dir), "%s", dir);
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  if (pthread_create(&t, &attr, probe_loop, nullptr) == 0) pthread_detach(t);
  pthread_attr_destroy(&attr);
}

}  // namespace
