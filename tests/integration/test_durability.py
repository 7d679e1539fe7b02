"""Durability: acknowledged QoS 1 messages survive SIGKILL (wal); batched mode stores too."""
import os
import signal
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from conftest import HOST


def burst_then_kill(broker, n):
    """Publishes n QoS 1 messages; SIGKILLs the broker from the PUBACK callback of the last."""
    acked = 0
    done = threading.Event()
    pid = broker.proc.pid

    def on_publish(client, userdata, mid):
        nonlocal acked
        acked += 1
        if acked == n:
            os.kill(pid, signal.SIGKILL)  # within a millisecond of the last PUBACK
            done.set()

    c = mqtt.Client(client_id="dura-1", protocol=mqtt.MQTTv311)
    c.username_pw_set("t1/device_a", "t1-device-pass")
    c.max_inflight_messages_set(500)
    c.max_queued_messages_set(0)
    c.on_publish = on_publish
    c.connect(HOST, broker.port)
    c.loop_start()
    for i in range(n):
        c.publish("s/us", f"211,{i}", qos=1)
    assert done.wait(120), f"only {acked} of {n} acknowledged"
    c.loop_stop()
    broker.proc.wait()
    broker.proc = None
    return acked


def test_wal_loses_no_acknowledged_message_on_sigkill(broker_factory):
    b = broker_factory(options={"durability": "wal"})
    b.start()
    n = 10000
    assert burst_then_kill(b, n) == n
    b.start()
    ms = b.all_measurements()
    assert len(ms) == n
    assert sorted(int(m["c8y_TemperatureMeasurement"]["T"]["value"]) for m in ms) == list(range(n))


def test_batched_mode_stores_everything_on_clean_stop(broker_factory, clients):
    b = broker_factory(options={"durability": "batched"})
    b.start()
    c = clients(b, "dura-2", "t1/device_a", "t1-device-pass")
    assert c.connect() == 0
    for i in range(500):
        c.publish("s/us", f"211,{i}", qos=1)
    c.close()
    b.stop()
    b.start()
    assert len(b.all_measurements()) == 500
