"""Availability, last wills (handled as an upstream publish of the device) and the REST write
side of the inventory."""
import socket
import struct
import time

from conftest import HOST, alarms, device, device_id, events, poll




def mqtt_str(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def raw_connect_with_will(port, client_id, user, password, will_topic, will_payload):
    """An MQTT 3.1.1 CONNECT with a will, over a plain socket that the test can drop."""
    flags = 0x80 | 0x40 | 0x04 | 0x02  # username, password, will, clean session
    var = mqtt_str("MQTT") + bytes([4, flags]) + struct.pack("!H", 30)
    payload = (mqtt_str(client_id) + mqtt_str(will_topic) + mqtt_str(will_payload) +
               mqtt_str(user) + mqtt_str(password))
    body = var + payload
    n, enc = len(body), b""
    while True:
        d = n % 128
        n //= 128
        enc += bytes([d | (0x80 if n else 0)])
        if not n:
            break
    s = socket.create_connection((HOST, port), timeout=5)
    s.sendall(b"\x10" + enc + body)
    connack = s.recv(4)
    assert connack[:2] == b"\x20\x02" and connack[3] == 0, connack
    return s


def test_will_on_dropped_socket_is_processed_and_not_delivered(broker, clients):
    d = device(clients, broker, "will-1")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "will-1")
    d.close()
    s = raw_connect_with_will(broker.port, "will-1", "t1/device_a", "t1-device-pass", "s/us",
                              "400,c8y_ConnectionLost,Connection lost")
    s.close()  # no DISCONNECT: the broker sends the will
    ev = poll(lambda: events(broker, source=mid, type="c8y_ConnectionLost"))
    assert ev and ev[0]["text"] == "Connection lost"
    assert "last will of will-1" in broker.read_log()


def test_will_on_takeover(broker, clients):
    d = device(clients, broker, "will-2")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "will-2")
    d.close()
    s = raw_connect_with_will(broker.port, "will-2", "t1/device_a", "t1-device-pass", "s/us",
                              "400,c8y_TakenOver,Replaced")
    # The same device connects again with the same client id: the old connection is taken over.
    d2 = device(clients, broker, "will-2")
    ev = poll(lambda: events(broker, source=mid, type="c8y_TakenOver"))
    assert ev, broker.read_log()[-2000:]
    s.close()
    d2.publish("s/us", "211,1", qos=1)
    assert d2.is_connected()


def test_will_of_another_device_topic_is_refused(broker, clients):
    d = device(clients, broker, "will-3")
    d.publish("s/us", "100", qos=1)
    s = raw_connect_with_will(broker.port, "will-3", "t1/device_a", "t1-device-pass",
                              "tenants/t1/notifications/events/1", "{}")
    s.close()
    time.sleep(0.5)
    assert "last will of will-3" not in broker.read_log()


def test_unavailability_alarm_raised_and_cleared(broker, clients):
    d = device(clients, broker, "av-1")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "av-1")
    # 117 takes whole minutes; a short interval for the test comes through the REST API.
    st, body = broker.rest(f"/inventory/managedObjects/{mid}", method="PUT",
                           body={"c8y_RequiredAvailability": {"responseInterval": 0.02}})
    assert st == 200, body
    d.publish("s/us", "211,20", qos=1)
    st, mo = broker.rest(f"/inventory/managedObjects/{mid}")
    assert mo["c8y_Availability"]["status"] == "AVAILABLE"
    assert "lastMessage" in mo["c8y_Availability"]
    a = poll(lambda: alarms(broker, source=mid, type="c8y_UnavailabilityAlarm", status="ACTIVE"))
    assert a and a[0]["severity"] == "MAJOR"
    st, mo = broker.rest(f"/inventory/managedObjects/{mid}")
    assert mo["c8y_Availability"]["status"] == "UNAVAILABLE"
    d.publish("s/us", "125", qos=1)  # a heartbeat is data too
    cleared = poll(lambda: alarms(broker, source=mid, type="c8y_UnavailabilityAlarm",
                                  status="CLEARED"))
    assert cleared
    st, mo = broker.rest(f"/inventory/managedObjects/{mid}")
    assert mo["c8y_Availability"]["status"] == "AVAILABLE"


def test_rest_inventory_writes(broker, clients):
    st, parent = broker.rest("/inventory/managedObjects", method="POST",
                             body={"name": "Gateway", "type": "gw", "c8y_IsDevice": {}})
    assert st == 201 and parent["name"] == "Gateway" and parent["owner"] == "admin", parent
    st, child = broker.rest("/inventory/managedObjects", method="POST", body={"name": "Sensor"})
    assert st == 201
    st, ref = broker.rest(f"/inventory/managedObjects/{parent['id']}/childDevices",
                          method="POST", body={"managedObject": {"id": child["id"]}})
    assert st == 201, ref
    st, refs = broker.rest(f"/inventory/managedObjects/{parent['id']}/childDevices")
    assert [r["managedObject"]["id"] for r in refs["references"]] == [child["id"]]
    st, ext = broker.rest(f"/identity/globalIds/{parent['id']}/externalIds", method="POST",
                          body={"type": "c8y_Serial", "externalId": "rest-gw-1"})
    assert st == 201, ext
    assert device_id(broker, "rest-gw-1") == parent["id"]
    st, body = broker.rest(f"/identity/globalIds/{child['id']}/externalIds", method="POST",
                           body={"type": "c8y_Serial", "externalId": "rest-gw-1"})
    assert st == 409, body
    st, upd = broker.rest(f"/inventory/managedObjects/{parent['id']}", method="PUT",
                          body={"name": "Renamed", "custom": {"a": 1}})
    assert st == 200 and upd["name"] == "Renamed" and upd["custom"] == {"a": 1}
    st, upd = broker.rest(f"/inventory/managedObjects/{parent['id']}", method="PUT",
                          body={"custom": None})
    assert "custom" not in upd
    # The device connects with the registered serial and is that object.
    d = device(clients, broker, "rest-gw-1")
    d.publish("s/us", "110,SN", qos=1)
    st, mo = broker.rest(f"/inventory/managedObjects/{parent['id']}")
    assert mo["c8y_Hardware"]["serialNumber"] == "SN"
    st, m = broker.rest("/measurement/measurements", method="POST", body={
        "source": {"id": parent["id"]}, "time": "2026-01-01T00:00:00Z", "type": "t",
        "c8y_Temp": {"T": {"value": 3.5, "unit": "C"}}})
    assert st == 201 and m["c8y_Temp"]["T"]["value"] == 3.5, m
    st, ms = broker.rest(f"/measurement/measurements?source={parent['id']}")
    assert [x["id"] for x in ms["measurements"]] == [m["id"]]
    # Deleting the object drops its external ids and the parent reference of its child.
    st, _ = broker.rest(f"/inventory/managedObjects/{parent['id']}", method="DELETE")
    assert st == 204
    st, _ = broker.rest(f"/inventory/managedObjects/{parent['id']}")
    assert st == 404
    st, _ = broker.rest("/identity/externalIds/c8y_Serial/rest-gw-1")
    assert st == 404
    st, mo = broker.rest(f"/inventory/managedObjects/{child['id']}")
    assert mo["deviceParents"]["references"] == []
    # The connected device is not stuck: its next message creates it again.
    d.publish("s/us", "110,SN2", qos=1)
    assert device_id(broker, "rest-gw-1") != parent["id"]
    assert d.nothing() is None
    for bad in ({"source": {"id": child["id"]}, "time": "x", "type": "t"},
                {"source": {"id": child["id"]}, "time": "2026-01-01T00:00:00Z", "type": "t",
                 "f": {"s": {"value": "NaN"}}}):
        st, body = broker.rest("/measurement/measurements", method="POST", body=bad)
        assert st == 422, body


def test_monitored_devices_are_watched_after_a_restart_and_without_data(broker, clients):
    # A device created over REST that never sends anything is watched from its update.
    st, quiet = broker.rest("/inventory/managedObjects", method="POST",
                            body={"name": "quiet", "c8y_IsDevice": {},
                                  "c8y_RequiredAvailability": {"responseInterval": 0.02}})
    assert st == 201, quiet
    st, body = broker.rest(f"/inventory/managedObjects/{quiet['id']}", method="PUT",
                           body={"name": "still quiet"})
    assert st == 200, body
    assert poll(lambda: alarms(broker, source=quiet["id"], type="c8y_UnavailabilityAlarm"))
    d = device(clients, broker, "av-restart")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "av-restart")
    st, body = broker.rest(f"/inventory/managedObjects/{mid}", method="PUT",
                           body={"c8y_RequiredAvailability": {"responseInterval": 0.05}})
    assert st == 200, body
    assert alarms(broker, source=mid, type="c8y_UnavailabilityAlarm") == []
    d.close()
    broker.stop()  # within the 3 s interval
    broker.start()  # the device never comes back: the restarted broker still notices
    assert "watching the availability of 2 devices" in broker.read_log()
    a = poll(lambda: alarms(broker, source=mid, type="c8y_UnavailabilityAlarm", status="ACTIVE"))
    assert a and a[0]["count"] == 1
    # The quiet device's alarm was active before the restart: it is not raised again.
    a = alarms(broker, source=quiet["id"], type="c8y_UnavailabilityAlarm")
    assert len(a) == 1 and a[0]["count"] == 1 and a[0]["status"] == "ACTIVE"
