"""Inventory templates 101-150 and capability templates 600/602 end to end."""
import json

from conftest import device, device_id


def mo(broker, mid):
    st, body = broker.rest(f"/inventory/managedObjects/{mid}")
    assert st == 200, body
    return body


def test_fragments_of_the_device(broker, clients):
    d = device(clients, broker, "inv-1")
    lines = [
        "100,Gateway,gw",
        "110,SN-1,Model X,rev1",
        "111,356938035643809,8991101200003204510,,,,,",
        "112,52.5,13.4,40,5",
        "113,\"a=1\nb=2\"",
        "114,c8y_Restart,c8y_Command",
        "115,fw,1.0,http://x/fw",
        "116,app,1.0,http://x/app,lib,2.0,",
        "117,10",
        "118,syslog,dmesg",
        "119,cfgA,cfgB",
        "120,cfgA,http://x/cfg,cfg.txt,2026-01-01T00:00:00Z",
        "122,agent,2.0,,me",
        "143,apt,docker",
        "150,SSH,VNC",
    ]
    d.publish("s/us", "\n".join(lines), qos=1)
    m = mo(broker, device_id(broker, "inv-1"))
    assert (m["name"], m["type"]) == ("Gateway", "gw")
    assert m["c8y_Hardware"] == {"serialNumber": "SN-1", "model": "Model X", "revision": "rev1"}
    assert m["c8y_Mobile"]["imei"] == "356938035643809"
    assert m["c8y_Position"] == {"lat": 52.5, "lng": 13.4, "alt": 40, "accuracy": 5}
    assert m["c8y_Configuration"] == {"config": "a=1\nb=2"}
    assert m["c8y_SupportedOperations"] == ["c8y_Restart", "c8y_Command"]
    assert m["c8y_Firmware"] == {"name": "fw", "version": "1.0", "url": "http://x/fw"}
    assert m["c8y_SoftwareList"][0] == {"name": "app", "version": "1.0", "url": "http://x/app"}
    assert m["c8y_SoftwareList"][1]["name"] == "lib"
    assert m["c8y_RequiredAvailability"] == {"responseInterval": 10}
    assert m["c8y_SupportedLogs"] == ["syslog", "dmesg"]
    assert m["c8y_SupportedConfigurations"] == ["cfgA", "cfgB"]
    assert m["c8y_Configuration_cfgA"]["url"] == "http://x/cfg"
    assert m["c8y_Agent"]["name"] == "agent" and m["c8y_Agent"]["maintainer"] == "me"
    assert m["c8y_SupportedSoftwareTypes"] == ["apt", "docker"]
    assert m["c8y_RemoteAccessSupportedProtocols"] == ["SSH", "VNC"]
    assert d.nothing() is None
    # 117 never overwrites; 107 removes fragments; an empty 143 removes the fragment.
    d.publish("s/us", "117,99\n107,c8y_Firmware,c8y_Mobile\n143", qos=1)
    m = mo(broker, m["id"])
    assert m["c8y_RequiredAvailability"] == {"responseInterval": 10}
    assert "c8y_Firmware" not in m and "c8y_Mobile" not in m
    assert "c8y_SupportedSoftwareTypes" not in m
    assert d.nothing() is None


def test_advanced_software_list(broker, clients):
    d = device(clients, broker, "inv-2")
    d.publish("s/us", "140,a,1.0,apt,,b,2.0,apt,", qos=1)
    d.publish("s/us", "141,c,3.0,docker,http://x/c", qos=1)
    d.publish("s/us", "142,a,1.0", qos=1)
    m = mo(broker, device_id(broker, "inv-2"))
    assert [(s["name"], s["version"]) for s in m["c8y_SoftwareList"]] == [("b", "2.0"), ("c", "3.0")]
    assert m["c8y_SoftwareList"][1]["softwareType"] == "docker"


def test_children_ids_and_capabilities(broker, clients):
    d = device(clients, broker, "inv-3")
    assert d.subscribe("s/ds", 0) == [0]
    d.publish("s/us", "101,inv-3-child-a,Child A,sensor\n101,inv-3-child-b", qos=1)
    root = device_id(broker, "inv-3")
    a = device_id(broker, "inv-3-child-a")
    ma = mo(broker, a)
    assert (ma["name"], ma["type"]) == ("Child A", "sensor")
    assert ma["deviceParents"]["references"][0]["managedObject"]["id"] == root
    assert "c8y_IsDevice" in ma and "com_cumulocity_model_Agent" not in ma
    assert mo(broker, device_id(broker, "inv-3-child-b"))["type"] == "c8y_MQTTChildDevice"
    # A grandchild is created with 101 on the child's topic.
    d.publish("s/us/inv-3-child-a", "101,inv-3-grandchild,,,false", qos=1)
    g = mo(broker, device_id(broker, "inv-3-grandchild"))
    assert g["deviceParents"]["references"][0]["managedObject"]["id"] == a
    assert "c8y_IsDevice" not in g
    d.publish("s/us", "105", qos=1)
    topic, payload = d.expect()
    assert topic == "s/ds" and payload == b"106,inv-3-child-a,inv-3-child-b"
    d.publish("s/us", "123", qos=1)
    assert d.expect() == ("s/ds", f"124,{root}".encode())
    d.publish("s/us/inv-3-child-a", "123", qos=1)
    assert d.expect() == ("s/ds", f"124,{a}".encode())
    d.publish("s/us", "600", qos=1)
    topic, payload = d.expect()
    assert payload.startswith(b"601,")
    d.publish("s/us", "602", qos=1)
    topic, payload = d.expect()
    ids = payload.decode().split(",")
    assert ids[0] == "603" and {"100", "101", "211", "301", "400", "600"} <= set(ids)
    # Data on a child topic lands on the child.
    d.publish("s/us/inv-3-child-a", "110,child-sn", qos=1)
    assert mo(broker, a)["c8y_Hardware"]["serialNumber"] == "child-sn"
    d.publish("s/us", "125", qos=1)
    assert "lastMessage" in mo(broker, root)["c8y_Availability"]


def test_services(broker, clients):
    d = device(clients, broker, "inv-4")
    d.publish("s/us", "102,inv-4-svc,systemd,sshd,up", qos=1)
    svc = mo(broker, device_id(broker, "inv-4-svc"))
    assert (svc["type"], svc["name"], svc["serviceType"], svc["status"]) == (
        "c8y_Service", "sshd", "systemd", "up")
    d.publish("s/us/inv-4-svc", "104,down", qos=1)
    assert mo(broker, svc["id"])["status"] == "down"
    # A service is a child addition of its device (as in Cumulocity), not a child device.
    root = device_id(broker, "inv-4")
    assert [r["managedObject"]["id"] for r in svc["additionParents"]["references"]] == [root]
    st, adds = broker.rest(f"/inventory/managedObjects/{root}/childAdditions")
    assert st == 200 and [r["managedObject"]["id"] for r in adds["references"]] == [svc["id"]]
    st, devs = broker.rest(f"/inventory/managedObjects/{root}/childDevices")
    assert st == 200 and devs["references"] == []
    assert d.subscribe("s/ds", 0) == [0]
    d.publish("s/us", "105", qos=1)  # 106 lists child devices only
    topic, payload = d.expect()
    assert (topic, payload) == ("s/ds", b"106")
    # Deleting the device's service drops the reference.
    st, _ = broker.rest(f"/inventory/managedObjects/{svc['id']}", method="DELETE")
    assert st == 204
    assert mo(broker, root)["childAdditions"]["references"] == []


def test_another_devices_child_is_refused(broker, clients):
    a = device(clients, broker, "inv-5a")
    b = device(clients, broker, "inv-5b", user="device_b")
    a.publish("s/us", "101,inv-5a-child", qos=1)
    device_id(broker, "inv-5a-child")
    b.publish("s/us/inv-5a-child", "110,hijack", qos=1)
    topic, payload = b.expect()
    assert topic == "s/e" and payload.startswith(b"45,110,"), payload
    assert "c8y_Hardware" not in mo(broker, device_id(broker, "inv-5a-child"))
    b.publish("s/us/inv-5a", "110,hijack", qos=1)
    topic, payload = b.expect()
    assert payload.startswith(b"45,110,")


def test_argument_errors(broker, clients):
    d = device(clients, broker, "inv-6")
    cases = {
        "101": b"45,101,",
        "112,north": b"45,112,",
        "117,ten": b"45,117,",
        "107": b"45,107,",
        "120,cfg": b"45,120,",
        "121,maybe": b"45,121,",
        "142,,1": b"45,142,",  # only the name is required (thin-edge.io sends "142,a")
    }
    for line, prefix in cases.items():
        d.publish("s/us", line, qos=1)
        topic, payload = d.expect()
        assert topic == "s/e" and payload.startswith(prefix), (line, payload)


def test_implicit_creation_is_a_create_on_the_inventory_stream(broker, clients):
    app = clients(broker, "app-ic", "t1/admin", "t1-admin-pass")
    assert app.connect() == 0
    assert app.subscribe("tenants/t1/notifications/inventory/+", 0) == [0]
    d = device(clients, broker, "ic-1")
    d.publish("s/us", "211,20", qos=1)  # no 100: the first data creates the device
    topic, payload = app.expect()
    mid = device_id(broker, "ic-1")
    assert topic == f"tenants/t1/notifications/inventory/{mid}"
    msg = json.loads(payload)
    assert msg["realtimeAction"] == "CREATE"
    assert msg["data"]["id"] == mid and "c8y_IsDevice" in msg["data"]
    app.drain(0.3)  # availability updates
    d.publish("s/us/ic-1-child", "211,21", qos=1)  # implicit first-level child
    creates = [(t, json.loads(p)) for t, p in app.drain(1.0)]
    creates = [(t, m) for t, m in creates if m["realtimeAction"] == "CREATE"]
    cid = device_id(broker, "ic-1-child")
    assert [t for t, _ in creates] == [f"tenants/t1/notifications/inventory/{cid}"]
    assert creates[0][1]["data"]["type"] == "c8y_MQTTChildDevice"
