# mosquitto-c8y: Debian 12's stock Mosquitto 2.0.11 + the mosquitto_c8y.so plugin.
#
#   docker compose up --build          (see docker-compose.yml)
#   docker build -t mosquitto-c8y .
#
# Packages come from scripts/install-deps.sh (the single list used by README, CI and here).
# The build and runtime stages use the same Debian release, so the plugin runs against
# exactly the broker headers and libraries it was compiled with.

# ---------------------------------------------------------------------------------------------
FROM debian:bookworm AS build

# Keep package maintainer scripts from trying to start services (mosquitto) in the build.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d

WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh build

COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DC8Y_TESTS=OFF \
 && cmake --build build -j"$(nproc)" --target mosquitto_c8y \
 && strip --strip-debug build/mosquitto_c8y.so

# ---------------------------------------------------------------------------------------------
FROM debian:bookworm-slim

RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
COPY scripts/install-deps.sh /usr/local/lib/mosquitto-c8y/install-deps.sh
RUN bash /usr/local/lib/mosquitto-c8y/install-deps.sh runtime \
 && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d

COPY --from=build /src/build/mosquitto_c8y.so /usr/lib/mosquitto-c8y/mosquitto_c8y.so
COPY conf/mosquitto.conf /etc/mosquitto-c8y/mosquitto.conf
# The example holds DEMO passwords; mount your own file over it (or drop the
# plugin_opt_provisioning_file line from the configuration).
COPY conf/provisioning.example.json /etc/mosquitto-c8y/provisioning.json
COPY scripts/gen-dev-certs.sh scripts/docker-entrypoint.sh /usr/local/bin/

# Mosquitto drops to the user `mosquitto` (created by the package) before it loads the plugin
# and opens its listeners: the plugin, the configuration it reads and the data directory must
# be reachable by that user. The entrypoint re-checks this at start (volumes, bind mounts).
RUN chmod 0755 /usr/local/bin/gen-dev-certs.sh /usr/local/bin/docker-entrypoint.sh \
 && chmod 0644 /usr/lib/mosquitto-c8y/mosquitto_c8y.so /etc/mosquitto-c8y/mosquitto.conf \
      /etc/mosquitto-c8y/provisioning.json \
 && install -d -m 0755 /etc/mosquitto-c8y/certs \
 && install -d -m 0700 -o mosquitto -g mosquitto /etc/mosquitto-c8y/secrets \
 && install -d -m 0750 -o mosquitto -g mosquitto /var/lib/mosquitto-c8y \
 && install -d -m 0755 -o mosquitto -g mosquitto /var/lib/mosquitto-c8y/trust \
 && if ldd /usr/lib/mosquitto-c8y/mosquitto_c8y.so | grep 'not found'; then \
      echo 'mosquitto_c8y.so: shared library missing in the runtime image' >&2; exit 1; \
    fi

VOLUME /var/lib/mosquitto-c8y

# 1883 MQTT, 8883 MQTT/TLS, 8884 MQTT/TLS with client certificate, 8080 MQTT/WebSockets,
# 8443 MQTT/WebSockets+TLS, 8111 REST API over HTTPS (plugin_opt_rest_port).
EXPOSE 1883 8883 8884 8080 8443 8111

# Healthy once port 1883 is listening. Mosquitto opens its listeners only after the plugin
# initialised successfully, so this covers the plugin too, without opening a connection
# (which would log a connect/disconnect pair every interval). 0x075B = 1883.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD grep -qsE ':075B [0-9A-F]+:0000 0A' /proc/net/tcp /proc/net/tcp6 || exit 1

ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["/usr/sbin/mosquitto", "-c", "/etc/mosquitto-c8y/mosquitto.conf"]
