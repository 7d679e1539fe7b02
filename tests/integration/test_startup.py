"""Start-up: options are validated, a wrong value stops the broker naming the option."""
import json
import time

import pytest


@pytest.mark.parametrize("key,value", [
    ("durability", "sometimes"),
    ("node_id", "1000"),
    ("message_size_limit", "abc"),
    ("rest_port", "70000"),
    ("data_dir", "relative/path"),
    ("no_such_option", "1"),
])
def test_bad_option_stops_the_broker(broker_factory, key, value):
    b = broker_factory(options={key: value})
    assert not b.start(expect_ok=False)
    deadline = time.time() + 5
    while b.proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert b.proc.poll() is not None
    assert f"plugin_opt_{key}" in b.read_log()


def test_bad_provisioning_file_stops_the_broker(broker_factory):
    b = broker_factory(provisioning={"tenants": [{"id": "Bad Tenant"}]})
    assert not b.start(expect_ok=False)
    assert "tenants[0].id" in b.read_log()


def test_per_listener_settings_is_refused(broker_factory):
    b = broker_factory()
    b.extra_conf = f"listener {b.rest_port + 0} 127.0.0.1\n"
    conf = b.conf().replace("per_listener_settings false", "per_listener_settings true")
    b.conf = lambda: conf
    assert not b.start(expect_ok=False)


def test_provisioning_is_idempotent_and_restart_keeps_data(broker_factory, clients):
    b = broker_factory()
    b.start()
    c = clients(b, "idem-1", "t1/device_a", "t1-device-pass")
    assert c.connect() == 0
    c.publish("s/us", "211,1", qos=1)
    c.close()
    b.stop()
    b.start()
    log = b.read_log()
    assert "0 tenants created, 0 users written, 5 unchanged" in log
    assert len(b.all_measurements()) == 1
    c = clients(b, "idem-1", "t1/device_a", "t1-device-pass")
    assert c.connect() == 0


def test_password_change_in_provisioning_takes_effect(broker_factory, clients):
    b = broker_factory()
    b.start()
    assert clients(b, "pw-1", "t1/device_a", "t1-device-pass").connect() == 0
    b.stop()
    with open(b.prov_path) as f:
        prov = json.load(f)
    prov["tenants"][0]["users"][1]["password"] = "new-pass-123"
    with open(b.prov_path, "w") as f:
        json.dump(prov, f)
    b.start()
    assert clients(b, "pw-2", "t1/device_a", "t1-device-pass").connect() == 5
    assert clients(b, "pw-3", "t1/device_a", "new-pass-123").connect() == 0
