"""Static templates 100, 110, 200-212 end to end; error lines on s/e; the message size cap."""
import time

import pytest

from conftest import device, device_id


def wait_measurements(broker, n, timeout=5, **params):
    deadline = time.time() + timeout
    while True:
        out, page = [], 1
        while True:
            st, body = broker.measurements(pageSize=2000, currentPage=page, **params)
            assert st == 200, body
            out += body["measurements"]
            if "next" not in body:
                break
            page += 1
        if len(out) >= n or time.time() > deadline:
            return out
        time.sleep(0.1)


def test_implicit_creation_and_temperature(broker, clients):
    d = device(clients, broker, "serial-1")
    d.publish("s/us", "211,25.5", qos=1)
    mid = device_id(broker, "serial-1")
    st, mo = broker.rest(f"/inventory/managedObjects/{mid}")
    assert st == 200
    assert mo["name"] == "MQTT Device serial-1"
    assert mo["type"] == "c8y_MQTTDevice"
    assert "c8y_IsDevice" in mo and "com_cumulocity_model_Agent" in mo
    ms = wait_measurements(broker, 1, source=mid)
    assert ms[0]["type"] == "c8y_TemperatureMeasurement"
    assert ms[0]["c8y_TemperatureMeasurement"]["T"] == {"value": 25.5, "unit": "C"}
    assert ms[0]["source"]["id"] == mid
    assert d.nothing() is None  # no error line


def test_100_creates_with_name_and_type_then_41(broker, clients):
    d = device(clients, broker, "serial-2")
    d.publish("s/us", "100,My Device,myType", qos=1)
    mid = device_id(broker, "serial-2")
    st, mo = broker.rest(f"/inventory/managedObjects/{mid}")
    assert (mo["name"], mo["type"]) == ("My Device", "myType")
    d.publish("s/us", "100,Other,other", qos=1)
    topic, payload = d.expect()
    assert topic == "s/e"
    assert payload == b"41,100,Device already existing"
    st, mo = broker.rest(f"/inventory/managedObjects/{mid}")
    assert mo["name"] == "My Device"


def test_110_hardware(broker, clients):
    d = device(clients, broker, "serial-3")
    d.publish("s/us", "110,SN-1,model-x,rev2", qos=1)
    st, mo = broker.rest(f"/inventory/managedObjects/{device_id(broker, 'serial-3')}")
    assert mo["c8y_Hardware"] == {"serialNumber": "SN-1", "model": "model-x", "revision": "rev2"}


def test_measurement_templates(broker, clients):
    d = device(clients, broker, "serial-4")
    payload = "\r\n".join([
        "200,c8y_Custom,speed,12.5,km/h,2024-01-02T03:04:05.678+02:00",
        "201,c8y_Multi,2024-01-02T00:00:00Z,c8y_A,x,1,u1,c8y_B,y,2",
        "210,-90,5",
        "210,,7",
        "212,80",
    ]) + "\n"
    d.publish("s/us", payload, qos=1)
    mid = device_id(broker, "serial-4")
    ms = wait_measurements(broker, 5, source=mid)
    by_type = {}
    for m in ms:
        by_type.setdefault(m["type"], []).append(m)
    custom = by_type["c8y_Custom"][0]
    assert custom["c8y_Custom"]["speed"] == {"value": 12.5, "unit": "km/h"}
    assert custom["time"] == "2024-01-02T01:04:05.678Z"
    multi = by_type["c8y_Multi"][0]
    assert multi["c8y_A"]["x"] == {"value": 1, "unit": "u1"}
    assert multi["c8y_B"]["y"] == {"value": 2}
    sig = sorted(by_type["c8y_SignalStrength"], key=lambda m: len(m["c8y_SignalStrength"]))
    assert sig[0]["c8y_SignalStrength"] == {"ber": {"value": 7, "unit": "%"}}
    assert sig[1]["c8y_SignalStrength"]["rssi"] == {"value": -90, "unit": "dBm"}
    assert by_type["c8y_Battery"][0]["c8y_Battery"]["level"] == {"value": 80, "unit": "%"}
    assert d.nothing() is None


def test_two_measurements_same_millisecond_both_survive(broker, clients):
    d = device(clients, broker, "serial-5")
    d.publish("s/us", "211,1,2024-05-05T05:05:05.005Z\n211,2,2024-05-05T05:05:05.005Z", qos=1)
    ms = wait_measurements(broker, 2, source=device_id(broker, "serial-5"))
    assert sorted(m["c8y_TemperatureMeasurement"]["T"]["value"] for m in ms) == [1, 2]


BAD_LINES = [
    ("999,1", b"40,999,"),
    ("211,NaN", b"45,211,"),
    ("211,nan", b"45,211,"),
    ("211,1e400", b"45,211,"),
    ("211,abc", b"45,211,"),
    ("211,", b"45,211,"),
    ("211,5,2024-13-01T00:00:00Z", b"45,211,"),
    ("211,5,2024-02-30T00:00:00Z", b"45,211,"),
    ("211,5,yesterday", b"45,211,"),
    ("211,5,6,7", b"45,211,"),
    ('200,"frag\xff",s,1', b"45,200,"),
    ("200,c8y_X,s", b"45,200,"),
    ("201,t,,c8y_A,x", b"45,201,"),
    ('211,"5', b"42,211,"),
]


@pytest.mark.parametrize("line,prefix", BAD_LINES)
def test_bad_line_gets_error_and_others_are_kept(broker, clients, line, prefix):
    d = device(clients, broker, "serial-bad")
    payload = ("211,1\n" + line + "\n211,2") if not line.endswith('"5') else ("211,1\n211,2\n" + line)
    d.publish("s/us", payload.encode("latin-1") if "\xff" in payload else payload, qos=1)
    topic, msg = d.expect()
    assert topic == "s/e" and msg.startswith(prefix), msg
    assert d.nothing() is None
    ms = wait_measurements(broker, 2, source=device_id(broker, "serial-bad"))
    assert sorted(m["c8y_TemperatureMeasurement"]["T"]["value"] for m in ms) == [1, 2]
    assert len(ms) == 2  # nothing of the bad line was stored


def test_plus_five_and_offsets_are_accepted(broker, clients):
    d = device(clients, broker, "serial-6")
    d.publish("s/us", "211,+5,2024-01-01T10:00:00+05:30", qos=1)
    ms = wait_measurements(broker, 1, source=device_id(broker, "serial-6"))
    assert ms[0]["c8y_TemperatureMeasurement"]["T"]["value"] == 5
    assert ms[0]["time"] == "2024-01-01T04:30:00.000Z"
    assert d.nothing() is None


def test_thousands_of_lines_up_to_the_cap(broker, clients):
    d = device(clients, broker, "serial-7")
    lines, size = [], 0
    while size < 16000:
        line = f"211,{len(lines) % 100}"
        lines.append(line)
        size += len(line) + 1
    d.publish("s/us", "\n".join(lines), qos=1)
    ms = wait_measurements(broker, len(lines), timeout=10, source=device_id(broker, "serial-7"))
    assert len(ms) == len(lines) and len(lines) > 2000


def test_many_bad_lines_are_capped_at_ten_errors_plus_summary(broker, clients):
    d = device(clients, broker, "serial-8")
    d.publish("s/us", "\n".join(["999"] * 50 + ["211,3"]), qos=1)
    msgs = d.drain()
    assert len(msgs) == 11
    assert msgs[-1][1] == b"45,,40 more lines of this message rejected"
    assert len(wait_measurements(broker, 1, source=device_id(broker, "serial-8"))) == 1


@pytest.mark.parametrize("v5", [False, True])
def test_message_over_the_cap_is_refused_and_connection_stays(broker, clients, v5):
    d = device(clients, broker, "serial-9", v5=v5)
    big = "211,1\n" * 3000  # 18000 bytes
    info = d.publish("s/us", big, qos=1)
    assert info.is_published()
    topic, msg = d.expect()
    assert topic == "s/e"
    assert msg.startswith(b"45,,Message too large: ") and b"16184" in msg
    assert d.is_connected()
    d.publish("s/us", "211,7", qos=1)
    ms = wait_measurements(broker, 1, source=device_id(broker, "serial-9"))
    assert [m["c8y_TemperatureMeasurement"]["T"]["value"] for m in ms] == [7]


def test_transient_mode_does_not_store_and_quiescent_does(broker, clients):
    d = device(clients, broker, "serial-10")
    d.publish("t/us", "211,1", qos=1)
    d.publish("c/us", "211,2", qos=1)
    d.publish("q/us", "211,3", qos=1)
    d.publish("s/us", "211,4", qos=1)
    ms = wait_measurements(broker, 2, source=device_id(broker, "serial-10"))
    time.sleep(0.3)
    assert sorted(m["c8y_TemperatureMeasurement"]["T"]["value"] for m in
                  broker.measurements(pageSize=100)[1]["measurements"]) == [3, 4]


def test_child_topic_creates_first_level_child(broker, clients):
    d = device(clients, broker, "parent-1")
    d.publish("s/us/child-1", "211,9", qos=1)
    pid, cid = device_id(broker, "parent-1"), device_id(broker, "child-1")
    st, parent = broker.rest(f"/inventory/managedObjects/{pid}")
    assert [r["managedObject"]["id"] for r in parent["childDevices"]["references"]] == [cid]
    st, child = broker.rest(f"/inventory/managedObjects/{cid}")
    assert child["type"] == "c8y_MQTTChildDevice"
    assert len(wait_measurements(broker, 1, source=cid)) == 1


def test_child_topic_naming_another_device_is_refused(broker, clients):
    other = device(clients, broker, "other-root", user="device_b")
    other.publish("s/us", "211,1", qos=1)
    d = device(clients, broker, "parent-2")
    d.publish("s/us/other-root", "211,66", qos=1)
    topic, msg = d.expect()
    assert msg.startswith(b"45,211,") and b"not a child" in msg
    ms = broker.measurements(pageSize=100, source=device_id(broker, "other-root"))[1]
    assert [m["c8y_TemperatureMeasurement"]["T"]["value"] for m in ms["measurements"]] == [1]


def test_empty_child_topic_is_denied(broker, clients):
    d = device(clients, broker, "serial-11", v5=True)
    info = d.publish("s/us/", "211,1", qos=1)
    assert info.is_published()  # v5: PUBACK 0x87, the connection stays
    assert d.is_connected()
    time.sleep(0.3)
    assert broker.measurements(pageSize=10)[1]["measurements"] == []


def test_smartrest1_topic_answers_error(broker, clients):
    d = device(clients, broker, "serial-13")
    d.publish("s/ul/myxid", "100", qos=1)
    topic, msg = d.expect()
    assert msg.startswith(b"40,,SmartREST 1.0 is not supported")


def test_broker_survives_garbage(broker, clients):
    d = device(clients, broker, "serial-14")
    junk = [b"\x00\x01\x02", b'"' * 5000, b",,,,,,", b"\n\n\n", b"211," + b"9" * 5000,
            bytes(range(256)), b"201" + b",a" * 3000]
    for j in junk:
        d.publish("s/us", j, qos=1)
    d.drain()
    d.publish("s/us", "211,42", qos=1)
    assert d.is_connected()
    vals = [m["c8y_TemperatureMeasurement"]["T"]["value"] for m in
            wait_measurements(broker, 1, source=device_id(broker, "serial-14"))]
    assert vals == [42]
