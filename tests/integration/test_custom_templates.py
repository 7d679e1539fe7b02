"""SmartREST 2.0 custom templates end to end: collections over MQTT and REST,
usage on s/uc and s/ud, responses on s/dc / s/dd, operations through response templates, and
tenant isolation of X-IDs."""
import json

from conftest import device, device_id

COLLECTION = "\n".join([
    "10,999,POST,MEASUREMENT,,c8y_CustomMeasurement,,c8y_CustomMeasurement.custom.value,NUMBER,",
    "10,101,POST,EVENT,,c8y_CustomEvent,mytext,,",
    "10,200,PUT,INVENTORY,,,,c8y_Firmware.version,STRING,",
    "10,300,GET,INVENTORY,true,,",
    "11,500,$.c8y_Firmware,,version",
    "11,600,,c8y_Restart,$.description",
])


def tdevice(clients, broker, serial, xid, **kw):
    d = device(clients, broker, serial, **kw)
    for t in ("s/dt", f"s/dc/{xid}"):
        assert d.subscribe(t, 0) == [0]
    return d


def create(d, xid, body):
    d.publish(f"s/ut/{xid}", body, qos=1)
    return d.expect()


def test_collection_created_checked_and_used(broker, clients):
    d = tdevice(clients, broker, "ct-1", "ct-xid")
    topic, payload = create(d, "ct-xid", COLLECTION)
    assert topic == "s/dt", (topic, payload)
    code, xid, cid = payload.decode().split(",")
    assert (code, xid) == ("20", "ct-xid")
    # An empty publish checks existence; a repeat definition is refused.
    assert create(d, "ct-xid", "") == ("s/dt", f"20,ct-xid,{cid}".encode())
    assert create(d, "nope", "") == ("s/dt", b"41,nope")
    topic, payload = create(d, "ct-xid", COLLECTION)
    assert topic == "s/e" and payload.startswith(b"41,ct-xid,"), payload
    # The collection is Cumulocity's inventory representation.
    st, ext = broker.rest("/identity/externalIds/c8y_SmartRest2DeviceIdentifier/ct-xid")
    assert st == 200 and ext["managedObject"]["id"] == cid
    st, mo = broker.rest(f"/inventory/managedObjects/{cid}")
    frag = mo["com_cumulocity_model_smartrest_csv_CsvSmartRestTemplate"]
    assert mo["type"] == "c8y_SmartRest2Template"
    assert sorted(t["msgId"] for t in frag["requestTemplates"]) == ["101", "200", "300", "999"]

    d.publish("s/uc/ct-xid", "999,,25\n999,2026-01-01T00:00:00Z,26\n101\n200,2.0", qos=1)
    mid = device_id(broker, "ct-1")
    st, body = broker.measurements(source=mid, pageSize=10)
    values = sorted(m["c8y_CustomMeasurement"]["custom"]["value"] for m in body["measurements"])
    assert values == [25, 26]
    given = [m for m in body["measurements"] if m["c8y_CustomMeasurement"]["custom"]["value"] == 26]
    assert given[0]["time"].startswith("2026-01-01T00:00:00") and given[0]["type"] == \
        "c8y_CustomMeasurement"
    st, ev = broker.rest(f"/event/events?source={mid}")
    assert [(e["type"], e["text"]) for e in ev["events"]] == [("c8y_CustomEvent", "mytext")]
    st, mo = broker.rest(f"/inventory/managedObjects/{mid}")
    assert mo["c8y_Firmware"] == {"version": "2.0"}
    # GET with response=true: the response templates render the object on s/dc/<X-ID>.
    d.publish("s/uc/ct-xid", "300", qos=1)
    assert d.expect() == ("s/dc/ct-xid", b"500,2.0")
    # Usage errors: unknown message id, wrong count, wrong type; the good line still counts.
    d.publish("s/uc/ct-xid", "777\n999,,notanumber\n999,1,2,3\n999,,27", qos=1)
    errors = [d.expect()[1].decode() for _ in range(3)]
    assert errors[0].startswith("40,777,"), errors
    assert errors[1].startswith("45,999,") and "NUMBER" in errors[1], errors
    assert errors[2].startswith("45,999,") and "arguments" in errors[2], errors
    st, body = broker.measurements(source=mid, pageSize=10)
    assert len(body["measurements"]) == 3
    # The time may be left out (server time); a trailing empty field does not count.
    d.publish("s/uc/ct-xid", "999,30.6\n999,,31,", qos=1)
    st, body = broker.measurements(source=mid, pageSize=10)
    assert sorted(m["c8y_CustomMeasurement"]["custom"]["value"]
                  for m in body["measurements"])[-2:] == [30.6, 31]
    assert d.nothing(0.2) is None


def test_operations_through_response_templates_and_default_xid(broker, clients):
    owner = tdevice(clients, broker, "ct-2", "ct-ops")
    assert create(owner, "ct-ops", COLLECTION)[0] == "s/dt"
    owner.close()
    d = device(clients, broker, "d:ct-3:ct-ops")
    assert d.subscribe("s/dd", 0) == [0]
    d.publish("s/ud", "999,,30", qos=1)
    mid = device_id(broker, "ct-3")
    assert [m["c8y_CustomMeasurement"]["custom"]["value"]
            for m in broker.measurements(source=mid)[1]["measurements"]] == [30]
    st, op = broker.rest("/devicecontrol/operations", method="POST", body={
        "deviceId": mid, "c8y_Restart": {}, "description": "restart, please"})
    assert st == 201
    topic, payload = d.expect()
    assert topic == "s/dd"
    assert payload.decode().split("\n") == ["500,ct-3,", '600,ct-3,"restart, please"']
    # A custom operation no static template renders reaches the device this way only.
    st, op = broker.rest("/devicecontrol/operations", method="POST", body={
        "deviceId": mid, "c8y_Custom": {"x": 1}, "description": "custom"})
    assert d.expect() == ("s/dd", b"500,ct-3,")


def test_definition_errors_and_tenant_isolation(broker, clients):
    d = tdevice(clients, broker, "ct-4", "shared")
    assert d.subscribe("s/e", 0) == [0]
    d.publish("s/ut/bad", "10,1,FOO,MEASUREMENT\n10,2,POST,EVENT,,t,x,,$..a,STRING,\n"
                          "11,3,,,$[?(@.a)]", qos=1)
    lines = [d.expect()[1].decode() for _ in range(3)]
    assert all(line.startswith("41,") for line in lines), lines
    assert create(d, "bad", "") == ("s/dt", b"41,bad")
    # Two tenants, one X-ID, two definitions: each uses its own.
    assert create(d, "shared", "10,1,POST,EVENT,,t1_Event,from t1,")[0] == "s/dt"
    e = tdevice(clients, broker, "ct-5", "shared", tenant="t10")
    assert create(e, "shared", "")[1] == b"41,shared"
    assert create(e, "shared", "10,1,POST,EVENT,,t10_Event,from t10,")[0] == "s/dt"
    d.publish("s/uc/shared", "1", qos=1)
    e.publish("s/uc/shared", "1", qos=1)
    st, ev = broker.rest(f"/event/events?source={device_id(broker, 'ct-4')}")
    assert [x["type"] for x in ev["events"]] == ["t1_Event"]
    st, ext = broker.rest("/identity/externalIds/c8y_Serial/ct-5", user="t10/admin",
                          password="t10-admin-pass")
    st, ev = broker.rest(f"/event/events?source={ext['managedObject']['id']}",
                         user="t10/admin", password="t10-admin-pass")
    assert [x["type"] for x in ev["events"]] == ["t10_Event"]


def test_collection_created_over_rest_is_used_over_mqtt(broker, clients):
    frag = {"requestTemplates": [{
        "msgId": "7", "method": "POST", "api": "EVENT", "response": False,
        "mandatoryValues": [{"path": "$.type", "type": "STRING", "value": "rest_Event"},
                            {"path": "$.text", "type": "STRING", "value": ""},
                            {"path": "$.time", "type": "DATE", "value": ""}],
        "customValues": []}], "responseTemplates": []}
    st, mo = broker.rest("/inventory/managedObjects", method="POST", body={
        "type": "c8y_SmartRest2Template", "name": "rest-xid",
        "com_cumulocity_model_smartrest_csv_CsvSmartRestTemplate": frag})
    assert st == 201, mo
    st, body = broker.rest(f"/identity/globalIds/{mo['id']}/externalIds", method="POST",
                           body={"type": "c8y_SmartRest2DeviceIdentifier", "externalId": "rest-xid"})
    assert st == 201, body
    d = tdevice(clients, broker, "ct-6", "rest-xid")
    assert create(d, "rest-xid", "") == ("s/dt", f"20,rest-xid,{mo['id']}".encode())
    d.publish("s/uc/rest-xid", "7,hello from REST template", qos=1)
    mid = device_id(broker, "ct-6")
    st, ev = broker.rest(f"/event/events?source={mid}")
    assert [(x["type"], x["text"]) for x in ev["events"]] == [
        ("rest_Event", "hello from REST template")]


def test_rest_refuses_an_invalid_collection(broker):
    bad = {"requestTemplates": [{"msgId": "1", "method": "FROB", "api": "EVENT",
                                 "mandatoryValues": [], "customValues": []}],
           "responseTemplates": [{"msgId": "2", "base": "", "condition": "",
                                  "pattern": ["$[?(@.x)]"]}]}
    st, body = broker.rest("/inventory/managedObjects", method="POST", body={
        "type": "c8y_SmartRest2Template", "name": "bad-rest",
        "com_cumulocity_model_smartrest_csv_CsvSmartRestTemplate": bad})
    assert st == 422 and "invalid template collection" in body["message"], body


def test_modes_and_child_devices(broker, clients):
    d = tdevice(clients, broker, "ct-7", "ct-modes")
    assert create(d, "ct-modes", COLLECTION)[0] == "s/dt"
    app = clients(broker, "app-ct", "t1/admin", "t1-admin-pass")
    assert app.connect() == 0
    assert app.subscribe("tenants/t1/processing/measurements/+", 0) == [0]
    for mode, value in (("s", 1), ("t", 2), ("q", 3), ("c", 4)):
        d.publish(f"{mode}/uc/ct-modes", f"999,,{value}", qos=1)
    mid = device_id(broker, "ct-7")
    stored = sorted(m["c8y_CustomMeasurement"]["custom"]["value"]
                    for m in broker.measurements(source=mid)[1]["measurements"])
    assert stored == [1, 3]  # persistent and quiescent store; transient and CEP do not
    processed = sorted(json.loads(p)["data"]["c8y_CustomMeasurement"]["custom"]["value"]
                       for _, p in app.drain(0.5))
    assert processed == [1, 2, 3, 4]  # every mode reaches the processing stream
    # A child through the topic: created below the device, the data lands on it.
    d.publish("s/uc/ct-modes/ct-7-child", "999,,5", qos=1)
    cid = device_id(broker, "ct-7-child")
    assert [m["c8y_CustomMeasurement"]["custom"]["value"]
            for m in broker.measurements(source=cid)[1]["measurements"]] == [5]


def test_measurement_templates_with_units_and_several_series(broker, clients):
    d = tdevice(clients, broker, "ct-8", "ct-units")
    body = ("10,1,POST,MEASUREMENT,,c8y_Env,,c8y_Env.T.value,NUMBER,,c8y_Env.T.unit,STRING,C,"
            "c8y_Env.H.value,NUMBER,,c8y_Env.H.unit,STRING,%\n"
            "10,2,POST,MEASUREMENT,,c8y_Flag,,c8y_Flag.V.value,INTEGER,")  # the general path
    assert create(d, "ct-units", body)[0] == "s/dt"
    d.publish("s/uc/ct-units", "1,,21.5,40\n1,2026-02-02T00:00:00Z,22,41\n2,,7", qos=1)
    mid = device_id(broker, "ct-8")
    ms = broker.measurements(source=mid, pageSize=10)[1]["measurements"]
    env = sorted((m for m in ms if m["type"] == "c8y_Env"), key=lambda m: m["c8y_Env"]["T"]["value"])
    assert [(m["c8y_Env"]["T"], m["c8y_Env"]["H"]) for m in env] == [
        ({"value": 21.5, "unit": "C"}, {"value": 40, "unit": "%"}),
        ({"value": 22, "unit": "C"}, {"value": 41, "unit": "%"})]
    assert env[1]["time"].startswith("2026-02-02T00:00:00")
    flag = [m for m in ms if m["type"] == "c8y_Flag"]
    assert len(flag) == 1 and flag[0]["c8y_Flag"]["V"]["value"] == 7
    assert d.nothing(0.2) is None


def test_alarm_operation_and_inventory_templates(broker, clients):
    d = tdevice(clients, broker, "ct-9", "ct-all")
    body = "\n".join([
        "10,301,POST,ALARM,,c8y_TplAlarm,,ACTIVE,,,",           # text, severity, time sent
        "10,302,PUT,ALARM,,c8y_TplAlarm,status,ALARMSTATUS,",     # status sent
        "10,501,PUT,OPERATION,,c8y_Command,status,OPERATIONSTATUS,,c8y_Command.result,STRING,",
        "10,120,POST,INVENTORY,true,c8y_Serial,name,STRING,,type,STRING,tpl_thing",
        "11,900,,c8y_Command,$.c8y_Command.text,$.status",
        "11,901,,type,$.name,$.type",
    ])
    topic, payload = create(d, "ct-all", body)
    assert topic == "s/dt", payload
    d.publish("s/uc/ct-all", "301,too hot,MAJOR,", qos=1)
    mid = device_id(broker, "ct-9")
    st, al = broker.rest(f"/alarm/alarms?source={mid}")
    assert [(a["type"], a["text"], a["severity"], a["status"]) for a in al["alarms"]] == [
        ("c8y_TplAlarm", "too hot", "MAJOR", "ACTIVE")]
    d.publish("s/uc/ct-all", "302,ACKNOWLEDGED", qos=1)
    assert broker.rest(f"/alarm/alarms?source={mid}")[1]["alarms"][0]["status"] == "ACKNOWLEDGED"
    d.publish("s/uc/ct-all", "302,NOT_A_STATUS", qos=1)
    assert d.expect()[1].startswith(b"45,302,")
    # An operation: delivered through the response template, then finished by a request template.
    st, op = broker.rest("/devicecontrol/operations", method="POST",
                         body={"deviceId": mid, "c8y_Command": {"text": "uptime"}})
    assert d.expect() == ("s/dc/ct-all", b"900,ct-9,uptime,PENDING")
    d.publish("s/uc/ct-all", "501,EXECUTING,", qos=1)
    d.publish("s/uc/ct-all", "501,SUCCESSFUL,up 3 days", qos=1)
    st, op = broker.rest(f"/devicecontrol/operations/{op['id']}")
    assert op["status"] == "SUCCESSFUL" and op["c8y_Command"]["result"] == "up 3 days", op
    # POST INVENTORY with response: a new object with its external id, rendered on s/dc.
    d.publish("s/uc/ct-all", "120,thing-1,Thing One", qos=1)
    topic, payload = d.expect()
    assert (topic, payload) == ("s/dc/ct-all", b"901,Thing One,tpl_thing")
    assert broker.rest("/identity/externalIds/c8y_Serial/thing-1")[0] == 200


def test_responses_above_the_cap_are_refused(broker_factory, clients):
    b = broker_factory(options={"message_size_limit": "600"})
    b.start()
    d = tdevice(clients, b, "ct-10", "ct-cap")
    body = "10,1,GET,INVENTORY,true,,\n11,2,,,$.big[*]"
    assert create(d, "ct-cap", body)[0] == "s/dt"
    d.publish("s/us", "100", qos=1)
    mid = device_id(b, "ct-10")
    st, _ = b.rest(f"/inventory/managedObjects/{mid}", method="PUT",
                   body={"big": ["x" * 50] * 20})  # about 1,000 bytes of values
    assert st == 200
    d.publish("s/uc/ct-cap", "1", qos=1)
    topic, payload = d.expect()
    assert topic == "s/e" and payload.startswith(b"45,ct-cap,response too large"), payload
    assert d.nothing(0.3) is None  # nothing on s/dc
    b.rest(f"/inventory/managedObjects/{mid}", method="PUT", body={"big": ["x", "y"]})
    d.publish("s/uc/ct-cap", "1", qos=1)
    assert d.expect() == ("s/dc/ct-cap", b"2,x,y")
