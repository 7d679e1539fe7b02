"""What real devices send and Cumulocity accepts: long texts and results, measurements with custom
fragments, thin-edge.io software lists, persistent sessions, MQTT 3.1 client ids; bounded echoes
of device input in s/e lines; a custom-template POST whose external id is taken."""
import json

from conftest import Client, device, device_id, poll


def create_op(broker, mid, **fragments):
    st, body = broker.rest("/devicecontrol/operations", method="POST",
                           body={"deviceId": mid, **fragments})
    assert st == 201, body
    return body


def op(broker, oid):
    st, body = broker.rest(f"/devicecontrol/operations/{oid}")
    assert st == 200, body
    return body


def test_texts_and_results_up_to_the_message_cap(broker, clients):
    d = device(clients, broker, "long-1")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "long-1")
    text = "x" * 15000
    d.publish("s/us", f"400,c8y_LongEvent,{text}", qos=1)
    d.publish("s/us", f"301,c8y_LongAlarm,{text}", qos=1)
    assert d.nothing() is None  # no s/e line
    st, body = broker.rest(f"/event/events?source={mid}&type=c8y_LongEvent")
    assert st == 200 and body["events"][0]["text"] == text
    st, body = broker.rest(f"/alarm/alarms?source={mid}&type=c8y_LongAlarm")
    assert st == 200 and body["alarms"][0]["text"] == text

    # A command result of 16,000 bytes of quotes (doubled in the CSV) fits the 16,184-byte cap
    # as long as the whole line does; it completes the operation.
    assert d.subscribe("s/ds", 1) == [1]
    o = create_op(broker, mid, c8y_Command={"text": "cat big"})
    d.expect()
    result = 'a"b' * 2600  # 7,800 bytes, 10,400 once quoted
    d.publish("s/us", "501,c8y_Command", qos=1)
    d.publish("s/us", '503,c8y_Command,"' + result.replace('"', '""') + '"', qos=1)
    assert d.nothing() is None
    got = op(broker, o["id"])
    assert got["status"] == "SUCCESSFUL"
    assert got["c8y_Command"]["result"] == result

    o = create_op(broker, mid, c8y_Restart={})
    d.expect()
    reason = "r" * 15000
    d.publish("s/us", "501,c8y_Restart", qos=1)
    d.publish("s/us", f"502,c8y_Restart,{reason}", qos=1)
    assert d.nothing() is None
    got = op(broker, o["id"])
    assert got["status"] == "FAILED" and got["failureReason"] == reason


def test_measurement_with_custom_fragments(broker, clients):
    # Cumulocity's own JSON-via-MQTT example.
    d = device(clients, broker, "meta-1")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "meta-1")
    assert d.subscribe("error", 0) == [0]
    body = {"time": "2023-03-20T08:03:56.940907Z",
            "environment": {"temperature": {"value": 29.9, "unit": "°C"}},
            "type": "10min_average", "meta": {"sensorLocation": "Brisbane, Australia"}}
    d.publish("measurement/measurements/create", json.dumps(body), qos=1)
    assert d.nothing() is None  # no error
    got = poll(lambda: broker.measurements(source=mid)[1]["measurements"])
    assert len(got) == 1
    m = got[0]
    assert m["environment"] == {"temperature": {"value": 29.9, "unit": "°C"}}
    assert m["meta"] == {"sensorLocation": "Brisbane, Australia"}
    assert m["type"] == "10min_average"

    # The same over REST, with a fragment that holds a series and other data.
    st, created = broker.rest("/measurement/measurements", method="POST", body={
        "source": {"id": mid}, "time": "2023-03-20T09:00:00Z", "type": "mixed",
        "c8y_X": {"T": {"value": 1, "unit": "C"}, "note": "calibrated"}, "count": 3,
        "tags": ["a", "b"]})
    assert st == 201, created
    assert created["c8y_X"] == {"T": {"value": 1, "unit": "C"}, "note": "calibrated"}
    st, again = broker.rest(f"/measurement/measurements/{created['id']}")
    if st == 200:  # single-measurement GET, where the API has it
        assert again["count"] == 3 and again["tags"] == ["a", "b"]
    listed = [x for x in broker.measurements(source=mid)[1]["measurements"]
              if x["type"] == "mixed"]
    assert listed[0]["c8y_X"]["note"] == "calibrated"
    assert listed[0]["count"] == 3 and listed[0]["tags"] == ["a", "b"]


def test_thin_edge_software_list(broker, clients):
    d = device(clients, broker, "sw-1")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "sw-1")
    d.publish("s/us", "140,a,,debian,,b,1.0,debian,", qos=1)
    d.publish("s/us", "141,c,,debian,,d,2.0,debian,", qos=1)
    assert d.nothing() is None
    st, mo = broker.rest(f"/inventory/managedObjects/{mid}")
    assert st == 200
    assert mo["c8y_SoftwareList"] == [
        {"name": "a", "version": "", "softwareType": "debian", "url": ""},
        {"name": "b", "version": "1.0", "softwareType": "debian", "url": ""},
        {"name": "c", "version": "", "softwareType": "debian", "url": ""},
        {"name": "d", "version": "2.0", "softwareType": "debian", "url": ""},
    ]
    # Only the name is required.
    d.publish("s/us", "141,,1.0", qos=1)
    topic, line = d.expect()
    assert topic == "s/e" and line.startswith(b"45,141,missing name")


def resumed(clients, broker, serial, **kw):
    c = clients(broker, serial, "t1/device_a", "t1-device-pass", clean=False, **kw)
    assert c.connect() == 0
    return c


def test_persistent_session_gets_operations_at_reconnect_and_on_500(broker, clients):
    for v5 in (False, True):
        serial = f"persist-{int(v5)}"
        d = resumed(clients, broker, serial, v5=v5)
        assert d.subscribe("s/ds", 1) == [1]
        d.publish("s/us", "100", qos=1)
        mid = device_id(broker, serial)
        d.close()
        o = create_op(broker, mid, c8y_Restart={})
        # The device resumes its session: no SUBSCRIBE, yet the operation arrives.
        d = resumed(clients, broker, serial, v5=v5)
        assert d.expect() == ("s/ds", f"510,{serial}".encode()), v5
        # ... and again on 500 while it is PENDING.
        d.publish("s/us", "500", qos=1)
        assert d.expect() == ("s/ds", f"510,{serial}".encode()), v5
        d.publish("s/us", "501,c8y_Restart", qos=1)
        d.publish("s/us", "503,c8y_Restart", qos=1)
        assert poll(lambda: op(broker, o["id"])["status"] == "SUCCESSFUL")
        d.close()


def test_persistent_session_taken_over_while_online(broker, clients):
    d1 = resumed(clients, broker, "persist-takeover")
    assert d1.subscribe("s/ds", 1) == [1]
    d1.publish("s/us", "100", qos=1)
    mid = device_id(broker, "persist-takeover")
    # A second connection resumes the session while the first is still connected.
    d2 = resumed(clients, broker, "persist-takeover")
    d1.disconnected.get(timeout=5)  # Mosquitto closed the old connection
    create_op(broker, mid, c8y_Restart={})
    assert d2.expect() == ("s/ds", b"510,persist-takeover")
    assert d1.nothing() is None


def test_persistent_session_json_operations(broker, clients):
    d = resumed(clients, broker, "persist-json")
    assert d.subscribe("devicecontrol/notifications", 1) == [1]
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "persist-json")
    d.close()
    o = create_op(broker, mid, c8y_Restart={})
    d = resumed(clients, broker, "persist-json")
    topic, payload = d.expect()
    assert topic == "devicecontrol/notifications"
    assert json.loads(payload)["id"] == o["id"]


def test_clean_session_forgets_subscriptions(broker, clients):
    d = resumed(clients, broker, "persist-clean")
    assert d.subscribe("s/ds", 1) == [1]
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "persist-clean")
    d.close()
    # A clean session drops the old one (and its subscriptions) in Mosquitto and in the plugin.
    c = clients(broker, "persist-clean", "t1/device_a", "t1-device-pass", clean=True)
    assert c.connect() == 0
    c.close()
    create_op(broker, mid, c8y_Restart={})
    d = resumed(clients, broker, "persist-clean")
    assert d.nothing(1.0) is None


def test_mqtt31_client_ids_longer_than_23_are_refused(broker, clients):
    ok = clients(broker, "a" * 23, "t1/device_a", "t1-device-pass", mqtt31=True)
    assert ok.connect() == 0
    long = clients(broker, "b" * 24, "t1/device_a", "t1-device-pass", mqtt31=True)
    assert long.connect() == 5
    # MQTT 3.1.1 has no such limit.
    v311 = clients(broker, "c" * 30, "t1/device_a", "t1-device-pass")
    assert v311.connect() == 0


def test_echoed_device_input_is_bounded(broker, clients):
    d = device(clients, broker, "echo-1")
    d.publish("s/us", "100", qos=1)
    d.publish("s/us", "211," + "9x" * 4000, qos=1)
    topic, line = d.expect()
    assert topic == "s/e" and line.startswith(b"45,211,")
    assert len(line) < 200, line
    d.publish("s/us", "112,1,2,3,\"acc\x01" + "z" * 5000 + "\"", qos=1)
    topic, line = d.expect()
    assert topic == "s/e" and len(line) < 200 and b"\x01" not in line, line


def test_custom_template_post_with_a_taken_external_id_creates_nothing(broker, clients):
    d = device(clients, broker, "xid-1")
    d.publish("s/us", "100", qos=1)
    assert d.subscribe("s/dt", 0) == [0]
    # The external id comes from the usage line: 999,<external id>,<name>.
    d.publish("s/ut/xidTpl", "10,999,POST,INVENTORY,,c8y_Serial,name,STRING,", qos=1)
    assert d.expect()[0] == "s/dt"
    st, before = broker.rest("/inventory/managedObjects?pageSize=2000")
    assert st == 200
    count = len(before["managedObjects"])
    # xid-1 is the device's own serial: taken.
    d.publish("s/uc/xidTpl", "999,xid-1,another", qos=1)
    topic, line = d.expect()
    assert topic == "s/e" and b"belongs to another object" in line, line
    st, after = broker.rest("/inventory/managedObjects?pageSize=2000")
    assert len(after["managedObjects"]) == count
    assert not [m for m in after["managedObjects"] if m.get("name") == "another"]
