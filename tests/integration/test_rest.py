"""REST API, first part: auth, shapes, paging, errors."""
import time

from conftest import device


def seed(broker, clients, serial="rest-1", n=12):
    d = device(clients, broker, serial)
    d.publish("s/us", "\n".join(f"211,{i},2024-01-01T00:00:{i:02d}Z" for i in range(n)), qos=1)
    st, body = broker.rest(f"/identity/externalIds/c8y_Serial/{serial}")
    return body["managedObject"]["id"]


def test_auth_errors(broker):
    st, body = broker.rest("/inventory/managedObjects", password="wrong")
    assert st == 401 and body["error"] == "security/Unauthorized"
    st, body = broker.rest("/inventory/managedObjects", user=None)
    assert st == 401
    st, body = broker.rest("/inventory/managedObjects", user="t1/device_a",
                           password="t1-device-pass")
    assert st == 403 and "admin" in body["message"]
    st, body = broker.rest("/inventory/managedObjects", user="admin", password="t1-admin-pass")
    assert st == 401


def test_managed_object_and_external_id_shapes(broker, clients):
    mid = seed(broker, clients)
    st, body = broker.rest("/identity/externalIds/c8y_Serial/rest-1")
    assert st == 200
    assert body["externalId"] == "rest-1" and body["type"] == "c8y_Serial"
    assert body["managedObject"]["self"].endswith(f"/inventory/managedObjects/{mid}")
    st, mo = broker.rest(f"/inventory/managedObjects/{mid}")
    assert mo["id"] == mid and mo["self"].endswith(mid)
    st, lst = broker.rest("/inventory/managedObjects?pageSize=10&fragmentType=c8y_IsDevice")
    assert [m["id"] for m in lst["managedObjects"]] == [mid]
    st, lst = broker.rest("/inventory/managedObjects?type=nope")
    assert lst["managedObjects"] == []


def test_measurement_paging_and_filters(broker, clients):
    mid = seed(broker, clients)
    st, p1 = broker.measurements(source=mid, pageSize=5)
    assert st == 200 and p1["statistics"] == {"currentPage": 1, "pageSize": 5}
    assert [m["c8y_TemperatureMeasurement"]["T"]["value"] for m in p1["measurements"]] == \
        [0, 1, 2, 3, 4]
    assert "next" in p1 and "prev" not in p1
    st, p3 = broker.measurements(source=mid, pageSize=5, currentPage=3)
    assert [m["c8y_TemperatureMeasurement"]["T"]["value"] for m in p3["measurements"]] == \
        [10, 11]
    assert "next" not in p3 and "prev" in p3
    st, rev = broker.measurements(source=mid, pageSize=3, revert="true")
    assert [m["c8y_TemperatureMeasurement"]["T"]["value"] for m in rev["measurements"]] == \
        [11, 10, 9]
    st, rng = broker.measurements(source=mid, pageSize=100, dateFrom="2024-01-01T00:00:03Z",
                                  dateTo="2024-01-01T00:00:06Z")
    assert [m["c8y_TemperatureMeasurement"]["T"]["value"] for m in rng["measurements"]] == \
        [3, 4, 5]
    st, typ = broker.measurements(pageSize=100, type="c8y_Battery")
    assert typ["measurements"] == []
    st, allm = broker.measurements(pageSize=100, type="c8y_TemperatureMeasurement")
    assert len(allm["measurements"]) == 12


def test_bad_parameters_are_400(broker):
    for q in ["pageSize=abc", "pageSize=0", "currentPage=-1", "dateFrom=yesterday",
              "source=abc", "revert=maybe"]:
        st, body = broker.rest("/measurement/measurements?" + q)
        assert st == 400, q
        assert body["error"] == "general/badRequest" and body["message"], q


def test_unknown_object_is_404(broker):
    st, body = broker.rest("/inventory/managedObjects/999999")
    assert st == 404 and body["error"] == "inventory/Not Found"
    st, body = broker.rest("/inventory/managedObjects/notanid")
    assert st == 404
    st, body = broker.rest("/nope")
    assert st == 404


def test_device_presence_is_tracked(broker, clients):
    d = device(clients, broker, "pres-1")
    d.publish("s/us", "211,1", qos=1)
    st, body = broker.rest("/identity/externalIds/c8y_Serial/pres-1")
    mid = body["managedObject"]["id"]

    def status():
        return broker.rest(f"/inventory/managedObjects/{mid}")[1].get(
            "c8y_Connection", {}).get("status")

    deadline = time.time() + 4
    while status() != "CONNECTED" and time.time() < deadline:
        time.sleep(0.1)
    assert status() == "CONNECTED"
    d.close()
    deadline = time.time() + 4
    while status() != "DISCONNECTED" and time.time() < deadline:
        time.sleep(0.1)
    assert status() == "DISCONNECTED"


def test_devices_marked_disconnected_at_start(broker_factory, clients):
    b = broker_factory()
    b.start()
    d = device(clients, b, "pres-2")
    d.publish("s/us", "211,1", qos=1)
    time.sleep(1.5)
    st, body = b.rest("/identity/externalIds/c8y_Serial/pres-2")
    mid = body["managedObject"]["id"]
    assert b.rest(f"/inventory/managedObjects/{mid}")[1]["c8y_Connection"]["status"] == "CONNECTED"
    b.kill()
    b.start()
    assert b.rest(f"/inventory/managedObjects/{mid}")[1]["c8y_Connection"]["status"] == \
        "DISCONNECTED"


def test_boolean_query_parameters_are_checked_alike(broker, clients):
    """Every boolean query parameter any list reads takes "true" or "false"; anything else is
    400 with the same message everywhere (revert=maybe always was; withTotalElements=yes was
    silently taken for false)."""
    mid = seed(broker, clients, n=2)
    lists = ["/measurement/measurements", "/event/events", "/alarm/alarms",
             "/devicecontrol/operations", "/inventory/managedObjects",
             "/devicecontrol/newDeviceRequests", "/user/t1/users",
             "/tenant/tenants/t1/trusted-certificates"]
    checks = [(path, name) for path in lists for name in ("withTotalPages", "withTotalElements")]
    checks += [(path, "revert") for path in lists[:4]]
    checks += [("/alarm/alarms", "resolved"), ("/alarm/alarms/count", "resolved"),
               ("/alarm/alarms/count", "revert"),
               ("/inventory/managedObjects", "withParents"),
               ("/inventory/managedObjects", "withChildren"),
               (f"/inventory/managedObjects/{mid}", "withParents"),
               (f"/inventory/managedObjects/{mid}", "withChildren")]
    for path, name in checks:
        for bad in ("yes", "1", "TRUE", ""):
            st, body = broker.rest(f"{path}?{name}={bad}")
            assert st == 400, (path, name, bad, body)
            assert body["error"] == "general/badRequest", (path, name, body)
            assert body["message"] == f"Invalid value of query parameter {name}: '{bad}'", body
        for good in ("true", "false"):
            st, body = broker.rest(f"{path}?{name}={good}")
            assert st == 200, (path, name, good, body)
    # withTotalElements=true still counts (and false does not).
    st, body = broker.rest(f"/measurement/measurements?source={mid}&withTotalElements=true")
    assert body["statistics"]["totalElements"] == 2, body["statistics"]
    st, body = broker.rest(f"/measurement/measurements?source={mid}&withTotalElements=false")
    assert "totalElements" not in body["statistics"] and "totalPages" not in body["statistics"]
    st, body = broker.rest("/user/t1/users?withTotalElements=true")
    assert body["statistics"]["totalElements"] == len(body["users"]), body


def test_a_missing_child_reference_names_the_child(broker, clients):
    """POST .../childDevices or .../childAdditions naming an object that does not exist: 404
    naming that object, not the (existing) parent; a missing parent is still named."""
    mid = seed(broker, clients, n=1)
    for rel in ("childDevices", "childAdditions"):
        st, body = broker.rest(f"/inventory/managedObjects/{mid}/{rel}", method="POST",
                               body={"managedObject": {"id": "987654321"}})
        assert st == 404 and body["error"] == "inventory/Not Found", (rel, body)
        assert "'987654321'" in body["message"] and f"'{mid}'" not in body["message"], body
        st, body = broker.rest(f"/inventory/managedObjects/987654321/{rel}", method="POST",
                               body={"managedObject": {"id": mid}})
        assert st == 404 and "'987654321'" in body["message"], (rel, body)
        st, body = broker.rest(f"/inventory/managedObjects/{mid}/{rel}")
        assert st == 200 and body["references"] == [], (rel, body)


def test_missing_mandatory_fields_are_named_together(broker, clients):
    """A new event, alarm or measurement that lacks several mandatory fields is refused with one
    message naming all of them (source.id included on the REST API)."""
    mid = seed(broker, clients, n=1)
    cases = [
        ("/alarm/alarms", {"type": "c8y_NoSeverity"},
         "severity, source.id, text and time are mandatory"),
        ("/alarm/alarms", {"source": {"id": mid}, "type": "c8y_NoSeverity"},
         "severity, text and time are mandatory"),
        ("/alarm/alarms", {"source": {"id": mid}, "type": "t", "severity": "MAJOR",
                           "time": "2026-01-01T00:00:00Z"}, "text is mandatory"),
        ("/event/events", {}, "source.id, text, time and type are mandatory"),
        ("/event/events", {"source": {"id": mid}, "text": "x"}, "time and type are mandatory"),
        ("/measurement/measurements", {"c8y_T": {"T": {"value": 1}}},
         "source.id, time and type are mandatory"),
        ("/measurement/measurements", {"source": {"id": mid}, "type": "m",
                                       "c8y_T": {"T": {"value": 1}}}, "time is mandatory"),
    ]
    for path, body, message in cases:
        st, got = broker.rest(path, method="POST", body=body)
        assert st == 422 and got["error"] == "validationError", (path, body, got)
        assert got["message"] == message, (path, body, got)
    # Present but wrong still gets its own message; an unknown source is named as such.
    st, got = broker.rest("/alarm/alarms", method="POST", body={
        "source": {"id": "987654321"}, "type": "t", "text": "x", "severity": "MAJOR",
        "time": "2026-01-01T00:00:00Z"})
    assert st == 422 and "not the id of a managed object" in got["message"], got
    st, got = broker.rest("/measurement/measurements", method="POST", body={
        "source": {"id": mid}, "type": "m", "time": "later", "c8y_T": {"T": {"value": 1}}})
    assert st == 422 and got["message"] == "time is not an ISO 8601 date: later", got
