"""JSON via MQTT: create/createBulk/update/delete checked over REST, externalSource for
children, the error topic with messageId, processing modes, and operations as JSON on
devicecontrol/notifications."""
import json

from conftest import alarms, device, device_id, events, poll


def jdevice(clients, broker, serial, **kw):
    d = device(clients, broker, serial, **kw)
    assert d.subscribe("error", 0) == [0]
    return d


def pub(d, topic, body):
    d.publish(topic, json.dumps(body) if not isinstance(body, str) else body, qos=1)


T = "2026-03-01T10:00:00.000Z"


def test_create_and_bulk_land_on_the_device(broker, clients):
    d = jdevice(clients, broker, "json-1")
    pub(d, "event/events/create", {"type": "j_Event", "text": "hello", "time": T, "x": {"y": 1}})
    mid = device_id(broker, "json-1")
    ev = events(broker, source=mid)
    assert [(e["type"], e["text"], e["x"]) for e in ev] == [("j_Event", "hello", {"y": 1})]
    assert "externalSource" not in ev[0]
    # The source in the payload is always overwritten with the device.
    pub(d, "/alarm/alarms/create", {"type": "j_Alarm", "text": "hot", "severity": "MAJOR",
                                    "time": T, "source": {"id": "1"}})
    al = alarms(broker, source=mid)
    assert [(a["type"], a["severity"], a["status"]) for a in al] == [("j_Alarm", "MAJOR", "ACTIVE")]
    pub(d, "measurement/measurements/createBulk", {"measurements": [
        {"type": "j_M", "time": T, "j_T": {"T": {"value": 1.5, "unit": "C"}}},
        {"type": "j_M", "time": "2026-03-01T10:00:01.000Z", "j_T": {"T": {"value": 2.5}}}]})
    st, body = broker.measurements(source=mid)
    assert [m["j_T"]["T"]["value"] for m in body["measurements"]] == [1.5, 2.5]
    pub(d, "event/events/createBulk", {"events": [
        {"type": "b1", "text": "1", "time": T}, {"type": "b2", "text": "2", "time": T}]})
    assert sorted(e["type"] for e in events(broker, source=mid)) == ["b1", "b2", "j_Event"]
    assert d.nothing(0.3) is None  # no errors


def test_update_delete_and_inventory(broker, clients):
    d = jdevice(clients, broker, "json-2")
    pub(d, "event/events/create", {"type": "u", "text": "before", "time": T})
    mid = device_id(broker, "json-2")
    eid = events(broker, source=mid)[0]["id"]
    pub(d, f"event/events/update/{eid}", {"text": "after", "extra": {"k": "v"}})
    e = events(broker, source=mid)[0]
    assert (e["text"], e["extra"]) == ("after", {"k": "v"})
    pub(d, f"event/events/delete/{eid}", "")
    assert events(broker, source=mid) == []
    pub(d, "measurement/measurements/create",
        {"type": "d", "time": T, "c8y_T": {"T": {"value": 9}}})
    pub(d, "measurement/measurements/create",
        {"type": "d", "time": T, "c8y_T": {"T": {"value": 10}}})
    ms = broker.measurements(source=mid)[1]["measurements"]
    gone = [m for m in ms if m["c8y_T"]["T"]["value"] == 9][0]["id"]
    pub(d, f"measurement/measurements/delete/{gone}", "")
    assert [m["c8y_T"]["T"]["value"] for m in broker.measurements(source=mid)[1][
        "measurements"]] == [10]
    pub(d, "alarm/alarms/create", {"type": "a", "text": "t", "severity": "MINOR", "time": T})
    aid = alarms(broker, source=mid)[0]["id"]
    pub(d, f"alarm/alarms/update/{aid}", {"status": "CLEARED"})
    assert alarms(broker, source=mid)[0]["status"] == "CLEARED"
    # Own device without an id, and by its c8y_Serial (thin-edge.io style).
    pub(d, "inventory/managedObjects/update", {"c8y_Firmware": {"version": "1.2"},
                                               "owner": "someone-else", "id": "999"})
    st, mo = broker.rest(f"/inventory/managedObjects/{mid}")
    assert mo["c8y_Firmware"] == {"version": "1.2"} and mo["id"] == mid
    assert mo["owner"] != "someone-else"
    pub(d, "inventory/managedObjects/update/json-2", {"c8y_Hardware": {"model": "m"}})
    assert broker.rest(f"/inventory/managedObjects/{mid}")[1]["c8y_Hardware"] == {"model": "m"}
    # A child through externalSource: created below the device, data lands on it.
    pub(d, "inventory/managedObjects/create", {"name": "Child A", "type": "j_child",
                                               "externalSource": {"externalId": "json-2-a",
                                                                  "type": "c8y_Serial"}})
    cid = device_id(broker, "json-2-a")
    st, cmo = broker.rest(f"/inventory/managedObjects/{cid}")
    assert cmo["name"] == "Child A" and cmo["deviceParents"]["references"][0][
        "managedObject"]["id"] == mid
    pub(d, "event/events/create", {"type": "c", "text": "child", "time": T,
                                   "externalSource": {"externalId": "json-2-a",
                                                      "type": "c8y_Serial"}})
    assert [e["text"] for e in events(broker, source=cid)] == ["child"]
    pub(d, "measurement/measurements/create",
        {"type": "c", "time": T, "c8y_T": {"T": {"value": 1}},
         "externalSource": {"externalId": "json-2-a", "type": "c8y_Serial"}})
    cm = broker.measurements(source=cid)[1]["measurements"]
    assert len(cm) == 1
    pub(d, f"measurement/measurements/delete/{cm[0]['id']}", "")  # a child's, from the parent
    assert broker.measurements(source=cid)[1]["measurements"] == []
    assert d.nothing(0.3) is None


def test_errors_on_the_error_topic(broker, clients):
    d = jdevice(clients, broker, "json-3")
    other = jdevice(clients, broker, "json-3b", user="device_b")
    pub(other, "event/events/create", {"type": "o", "text": "other's", "time": T})
    oid = events(broker, source=device_id(broker, "json-3b"))[0]["id"]
    cases = [
        ("event/events/create", "{not json", "general/badRequest"),
        ("event/events/create", {"type": "x"}, "event/validationError"),
        ("alarm/alarms/create", {"type": "x", "text": "t", "severity": "LOUD", "time": T},
         "alarm/validationError"),
        ("measurement/measurements/create", {"type": "m", "time": T}, "measurement/validationError"),
        ("event/events/update", {"text": "x"}, "general/badRequest"),
        (f"event/events/update/{oid}", {"text": "hijack"}, "event/notFound"),
        (f"event/events/delete/{oid}", "", "event/notFound"),
        ("alarm/alarms/delete/1", "", "general/notSupported"),
        ("measurement/measurements/delete/1", "", "measurement/notFound"),
        ("inventory/managedObjects/update/json-3b", {"x": {}}, "inventory/notFound"),
        ("event/events/create", {"type": "x", "text": "t", "time": T,
                                 "externalSource": {"externalId": "json-3b"}}, "security/Forbidden"),
        ("event/events/frobnicate", {}, "general/notSupported"),
        ("event/events/create", "[" * 40 + "]" * 40, "general/badRequest"),
        ("alarm/alarms/create", {"type": "c8y_NoSeverity"}, "alarm/validationError"),
    ]
    for n, (topic, body, error) in enumerate(cases, start=1):
        pub(d, topic, body)
        t, payload = d.expect()
        msg = json.loads(payload)
        assert t == "error" and msg["error"] == error, (topic, msg)
        assert msg["messageId"] == n and msg["message"], (topic, msg)
        if body == {"type": "c8y_NoSeverity"}:  # every missing field in one message
            assert msg["message"] == "severity, text and time are mandatory", msg
        if body == {"type": "x"}:
            assert msg["message"] == "text and time are mandatory", msg
    # The other device's event is untouched; nothing reached the other device's error topic.
    assert events(broker, source=device_id(broker, "json-3b"))[0]["text"] == "other's"
    assert other.nothing(0.2) is None


def test_processing_modes(broker, clients):
    d = jdevice(clients, broker, "json-4")
    app = clients(broker, "app-json", "t1/admin", "t1-admin-pass")
    assert app.connect() == 0
    assert app.subscribe("tenants/t1/notifications/events/+", 0) == [0]
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "json-4")
    for mode in ["", "t/", "q/", "c/"]:
        pub(d, f"{mode}event/events/create", {"type": f"mode{mode[:1] or 's'}", "text": "m",
                                              "time": T})
    assert sorted(e["type"] for e in events(broker, source=mid)) == ["modeq", "modes"]
    notified = sorted(json.loads(p)["data"]["type"] for _, p in app.drain(0.5))
    assert notified == ["modes", "modet"]


def test_operations_as_json_on_devicecontrol_notifications(broker, clients):
    d = jdevice(clients, broker, "json-5")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "json-5")
    st, op1 = broker.rest("/devicecontrol/operations", method="POST",
                          body={"deviceId": mid, "c8y_Custom": {"a": 1}})
    assert st == 201
    # Pending operations come when the device subscribes.
    assert d.subscribe("devicecontrol/notifications", 1) == [1]
    topic, payload = d.expect()
    got = json.loads(payload)
    assert topic == "devicecontrol/notifications"
    assert got["id"] == op1["id"] and got["c8y_Custom"] == {"a": 1}
    assert got["externalSource"] == {"externalId": "json-5", "type": "c8y_Serial"}
    st, op2 = broker.rest("/devicecontrol/operations", method="POST",
                          body={"deviceId": mid, "c8y_Restart": {}})
    topic, payload = d.expect()
    assert json.loads(payload)["id"] == op2["id"]
    assert d.nothing(0.3) is None  # not subscribed to s/ds: no SmartREST copy
    d.publish("s/us", "501,c8y_Restart\n503,c8y_Restart", qos=1)
    assert poll(lambda: broker.rest(f"/devicecontrol/operations/{op2['id']}")[1]["status"]
                == "SUCCESSFUL")
