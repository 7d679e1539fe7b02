"""Alarms (301-307) and events (400-407) end to end, their REST API, processing modes and the
real-time streams."""
import json
import threading
import time
import urllib.parse

from conftest import alarms, device, device_id, events, poll




def admin(clients, broker, client_id="app-1", tenant="t1"):
    c = clients(broker, client_id, f"{tenant}/admin", f"{tenant}-admin-pass")
    assert c.connect() == 0
    return c


def test_alarm_raise_dedup_severity_clear(broker, clients):
    d = device(clients, broker, "al-1")
    d.publish("s/us", "301,c8y_TemperatureAlarm,Too hot", qos=1)
    mid = device_id(broker, "al-1")
    a = poll(lambda: alarms(broker, source=mid))
    assert len(a) == 1
    assert (a[0]["type"], a[0]["text"], a[0]["severity"], a[0]["status"], a[0]["count"]) == (
        "c8y_TemperatureAlarm", "Too hot", "CRITICAL", "ACTIVE", 1)
    d.publish("s/us", "301,c8y_TemperatureAlarm,Too hot", qos=1)
    d.publish("s/us", "302,c8y_TemperatureAlarm", qos=1)  # same type: still one alarm
    a = alarms(broker, source=mid)
    assert len(a) == 1 and a[0]["count"] == 3
    d.publish("s/us", "305,c8y_TemperatureAlarm,MINOR", qos=1)
    assert alarms(broker, source=mid)[0]["severity"] == "MINOR"
    d.publish("s/us", "306,c8y_TemperatureAlarm", qos=1)
    a = alarms(broker, source=mid)
    assert a[0]["status"] == "CLEARED"
    # A raise after the clear is a new alarm.
    d.publish("s/us", "303,c8y_TemperatureAlarm", qos=1)
    a = alarms(broker, source=mid, status="ACTIVE")
    assert len(a) == 1 and a[0]["count"] == 1 and a[0]["severity"] == "MINOR"
    assert a[0]["text"] == "Alarm of type c8y_TemperatureAlarm raised"
    assert len(alarms(broker, source=mid)) == 2
    assert d.nothing() is None


def test_alarm_errors_on_s_e(broker, clients):
    d = device(clients, broker, "al-2")
    d.publish("s/us", "306,c8y_NoSuchAlarm", qos=1)
    topic, payload = d.expect()
    assert topic == "s/e" and payload.startswith(b"45,306,") or payload.startswith(b"41,306,"), payload
    d.publish("s/us", "305,c8y_X,HUGE", qos=1)
    topic, payload = d.expect()
    assert payload.startswith(b"45,305,"), payload
    d.publish("s/us", "301", qos=1)
    topic, payload = d.expect()
    assert payload.startswith(b"45,301,"), payload


def test_rest_clear_and_device_raise_agree(broker, clients):
    d = device(clients, broker, "al-3")
    d.publish("s/us", "302,c8y_DoorAlarm,Door open", qos=1)
    mid = device_id(broker, "al-3")
    aid = poll(lambda: alarms(broker, source=mid))[0]["id"]
    st, body = broker.rest(f"/alarm/alarms/{aid}", method="PUT", body={"status": "CLEARED"})
    assert st == 200 and body["status"] == "CLEARED", body
    st, body = broker.rest(f"/alarm/alarms/{aid}", method="PUT", body={"status": "ACTIVE"})
    assert st == 422, body
    d.publish("s/us", "302,c8y_DoorAlarm,Door open", qos=1)
    a = alarms(broker, source=mid, status="ACTIVE")
    assert len(a) == 1 and a[0]["id"] != aid


def test_rest_alarm_create_query_bulk_clear(broker, clients):
    d = device(clients, broker, "al-4")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "al-4")
    for t in ("a", "b", "c"):
        st, body = broker.rest("/alarm/alarms", method="POST", body={
            "source": {"id": mid}, "type": f"type_{t}", "text": "x", "severity": "MAJOR",
            "time": "2026-01-01T00:00:00.000Z", "custom": {"k": t}})
        assert st == 201, body
        assert body["custom"] == {"k": t} and body["self"].endswith(body["id"])
    assert len(alarms(broker, source=mid, severity="MAJOR")) == 3
    assert len(alarms(broker, source=mid, type="type_a,type_b")) == 2
    st, body = broker.rest(f"/alarm/alarms?source={mid}&status=ACTIVE", method="PUT",
                           body={"status": "CLEARED"})
    assert st == 200, body
    assert len(alarms(broker, source=mid, resolved="true")) == 3
    assert alarms(broker, source=mid, resolved="false") == []
    for bad in ({"source": {"id": "999999"}, "type": "t", "text": "x", "severity": "MAJOR",
                 "time": "2026-01-01T00:00:00Z"},
                {"source": {"id": mid}, "type": "t", "text": "x", "severity": "BAD",
                 "time": "2026-01-01T00:00:00Z"},
                {"source": {"id": mid}, "type": "t", "text": "x", "severity": "MAJOR"}):
        st, body = broker.rest("/alarm/alarms", method="POST", body=bad)
        assert st == 422 and "message" in body, (bad, st, body)
    st, body = broker.rest("/alarm/alarms?status=SOMETIMES")
    assert st == 400 and "SOMETIMES" in body["message"]


def test_events_400_401_402_407(broker, clients):
    d = device(clients, broker, "ev-1")
    d.publish("s/us", "400,c8y_MyEvent,Something happened", qos=1)
    d.publish("s/us", "400,c8y_MyEvent,\"With, comma\",2026-03-01T10:00:00.000+02:00", qos=1)
    mid = device_id(broker, "ev-1")
    ev = poll(lambda: len(events(broker, source=mid)) >= 2 and events(broker, source=mid))
    assert len(ev) == 2
    old = [e for e in ev if e["time"].startswith("2026-03-01T08:00:00")]
    assert len(old) == 1 and old[0]["text"] == "With, comma"
    assert events(broker, source=mid, dateFrom="2026-03-01T00:00:00Z",
                  dateTo="2026-03-02T00:00:00Z")[0]["id"] == old[0]["id"]
    d.publish("s/us", "402,52.5,13.4,40,5", qos=1)
    loc = poll(lambda: events(broker, source=mid, type="c8y_LocationUpdate"))
    assert loc[0]["c8y_Position"]["lat"] == 52.5 and loc[0]["c8y_Position"]["lng"] == 13.4
    st, mo = broker.rest(f"/inventory/managedObjects/{mid}")
    assert mo["c8y_Position"]["lat"] == 52.5
    d.publish("s/us", "401,1,2", qos=1)
    assert len(poll(lambda: len(events(broker, source=mid, type="c8y_LocationUpdate")) == 2
                    and events(broker, source=mid, type="c8y_LocationUpdate"))) == 2
    st, mo = broker.rest(f"/inventory/managedObjects/{mid}")
    assert mo["c8y_Position"]["lat"] == 52.5  # 401 leaves the device alone
    # 407 removes a fragment of the latest event of the type.
    st, body = broker.rest("/event/events", method="POST", body={
        "source": {"id": mid}, "type": "c8y_Frag", "text": "t",
        "time": "2026-01-01T00:00:00Z", "frag_a": {"x": 1}, "frag_b": 2})
    assert st == 201, body
    d.publish("s/us", "407,c8y_Frag,frag_a", qos=1)
    e = poll(lambda: [e for e in events(broker, source=mid, type="c8y_Frag")
                      if "frag_a" not in e])
    assert e and e[0]["frag_b"] == 2
    assert d.nothing() is None


def test_event_rest_crud_and_errors(broker, clients):
    d = device(clients, broker, "ev-2")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "ev-2")
    st, e = broker.rest("/event/events", method="POST", body={
        "source": {"id": mid}, "type": "t1", "text": "hello", "time": "2026-01-01T00:00:00Z"})
    assert st == 201, e
    st, got = broker.rest(f"/event/events/{e['id']}")
    assert st == 200 and got["text"] == "hello"
    st, got = broker.rest(f"/event/events/{e['id']}", method="PUT", body={"text": "bye", "f": 1})
    assert st == 200 and got["text"] == "bye" and got["f"] == 1 and got["type"] == "t1"
    st, _ = broker.rest(f"/event/events/{e['id']}", method="DELETE")
    assert st == 204
    st, body = broker.rest(f"/event/events/{e['id']}")
    assert st == 404 and "message" in body
    st, body = broker.rest("/event/events", method="POST", body=None)
    assert st == 400
    deep = {"a": 1}
    for _ in range(100):
        deep = {"x": deep}
    st, body = broker.rest("/event/events", method="POST", body={
        "source": {"id": mid}, "type": "t", "text": "x", "time": "2026-01-01T00:00:00Z",
        "deep": deep})
    assert st == 400 and "nested" in body["message"], body
    st, body = broker.rest("/event/events?dateFrom=yesterday")
    assert st == 400 and "dateFrom" in body["message"]


def follow(broker, link):
    """GET a next/prev link of a list answer (the links are absolute URLs)."""
    parts = urllib.parse.urlsplit(link)
    return broker.rest(parts.path + "?" + parts.query)


def test_events_and_alarms_are_listed_newest_first(broker, clients):
    """Cumulocity lists events and alarms newest first (by time); revert=true gives oldest first.
    Paging, next/prev links, totals and date ranges follow that order. Measurements and
    operations stay oldest first."""
    d = device(clients, broker, "ord-1")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "ord-1")
    days = [3, 1, 5, 2, 4]  # created out of time order
    for day in days:
        st, body = broker.rest("/event/events", method="POST", body={
            "source": {"id": mid}, "type": "ord", "text": f"day {day}",
            "time": f"2026-05-0{day}T00:00:00.000Z"})
        assert st == 201, body
        st, body = broker.rest("/alarm/alarms", method="POST", body={
            "source": {"id": mid}, "type": f"ord_{day}", "text": f"day {day}",
            "severity": "MINOR", "time": f"2026-05-0{day}T00:00:00.000Z"})
        assert st == 201, body
    newest = [f"day {n}" for n in (5, 4, 3, 2, 1)]
    for path, key in ((f"/event/events?source={mid}&type=ord", "events"),
                      (f"/alarm/alarms?source={mid}", "alarms"),
                      ("/alarm/alarms?severity=MINOR", "alarms")):  # every source
        st, body = broker.rest(path + "&pageSize=100")
        assert st == 200 and [x["text"] for x in body[key]] == newest, (path, body)
        st, body = broker.rest(path + "&pageSize=100&revert=false")
        assert [x["text"] for x in body[key]] == newest, (path, body)
        st, body = broker.rest(path + "&pageSize=100&revert=true")
        assert [x["text"] for x in body[key]] == newest[::-1], (path, body)
        # Pages of 2, walked with the next links, then back with prev.
        st, body = broker.rest(path + "&pageSize=2&withTotalElements=true")
        seen = []
        pages = 0
        while True:
            assert st == 200, body
            pages += 1
            assert body["statistics"]["currentPage"] == pages
            assert body["statistics"]["totalElements"] == 5, body["statistics"]
            assert body["statistics"]["totalPages"] == 3, body["statistics"]
            seen += [x["text"] for x in body[key]]
            if "next" not in body:
                break
            st, body = follow(broker, body["next"])
        assert pages == 3 and seen == newest, (path, seen)
        st, back = follow(broker, body["prev"])
        assert [x["text"] for x in back[key]] == newest[2:4]
        st, body = broker.rest(path + "&pageSize=2&currentPage=2&revert=true")
        assert [x["text"] for x in body[key]] == ["day 3", "day 4"]
        assert "revert=true" in body["next"] and "revert=true" in body["prev"]
        st, body = follow(broker, body["next"])
        assert [x["text"] for x in body[key]] == ["day 5"] and "next" not in body
        # A date range: dateFrom inclusive, dateTo exclusive, in both orders.
        rng = path + "&dateFrom=2026-05-02T00:00:00Z&dateTo=2026-05-05T00:00:00Z"
        st, body = broker.rest(rng)
        assert [x["text"] for x in body[key]] == ["day 4", "day 3", "day 2"], (rng, body)
        st, body = broker.rest(rng + "&revert=true")
        assert [x["text"] for x in body[key]] == ["day 2", "day 3", "day 4"], (rng, body)
    # A repeated raise moves an alarm's time, and with it its place in the list.
    st, body = broker.rest("/alarm/alarms", method="POST", body={
        "source": {"id": mid}, "type": "ord_1", "text": "again", "severity": "MINOR",
        "time": "2026-05-09T00:00:00.000Z"})
    assert st == 201 and body["count"] == 2, body
    assert [a["type"] for a in alarms(broker, source=mid)] == [
        "ord_1", "ord_5", "ord_4", "ord_3", "ord_2"]
    # Measurements and operations keep their oldest-first order.
    for day in (2, 1):
        st, body = broker.rest("/measurement/measurements", method="POST", body={
            "source": {"id": mid}, "type": "ord", "time": f"2026-05-0{day}T00:00:00.000Z",
            "ord": {"v": {"value": day}}})
        assert st == 201, body
    st, body = broker.measurements(source=mid)
    assert [m["ord"]["v"]["value"] for m in body["measurements"]] == [1, 2]
    for n in (1, 2):
        st, body = broker.rest("/devicecontrol/operations", method="POST",
                               body={"deviceId": mid, "description": f"op {n}"})
        assert st == 201, body
    st, body = broker.rest(f"/devicecontrol/operations?deviceId={mid}")
    assert [o["description"] for o in body["operations"]] == ["op 1", "op 2"]


def test_other_tenant_cannot_see_events_or_alarms(broker, clients):
    d = device(clients, broker, "iso-1")
    d.publish("s/us", "400,t,x", qos=1)
    d.publish("s/us", "301,t", qos=1)
    mid = device_id(broker, "iso-1")
    ev = poll(lambda: events(broker, source=mid))
    al = alarms(broker, source=mid)
    for path in (f"/event/events/{ev[0]['id']}", f"/alarm/alarms/{al[0]['id']}"):
        st, _ = broker.rest(path, user="t10/admin", password="t10-admin-pass")
        assert st == 404
    st, body = broker.rest("/event/events?pageSize=2000", user="t10/admin",
                           password="t10-admin-pass")
    assert st == 200 and body["events"] == []
    st, body = broker.rest(f"/alarm/alarms/{al[0]['id']}", user="t10/admin",
                           password="t10-admin-pass", method="PUT", body={"status": "CLEARED"})
    assert st == 404
    assert alarms(broker, source=mid)[0]["status"] == "ACTIVE"


def stream_messages(c, n, timeout=5):
    out = []
    deadline = time.time() + timeout
    while len(out) < n and time.time() < deadline:
        try:
            topic, payload = c.expect(timeout=max(0.05, deadline - time.time()))
        except Exception:
            break
        out.append((topic, json.loads(payload)))
    return out


def test_processing_modes_against_storage_and_streams(broker, clients):
    app = admin(clients, broker)
    assert app.subscribe("tenants/t1/notifications/#", 0) == [0]
    assert app.subscribe("tenants/t1/processing/#", 0) == [0]
    d = device(clients, broker, "pm-1")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "pm-1")
    app.drain(0.3)
    results = {}
    for mode in "stqc":
        d.publish(f"{mode}/us", f"211,{ {'s': 1, 't': 2, 'q': 3, 'c': 4}[mode] }", qos=1)
        d.publish(f"{mode}/us", f"400,mode_{mode},text", qos=1)
        msgs = app.drain(0.5)
        results[mode] = msgs
    for mode in results:  # availability updates of the device (inventory) are not the point here
        results[mode] = [(t, p) for t, p in results[mode] if "/inventory/" not in t]

    def kinds(msgs):
        return sorted(t.split("/")[2] + "/" + t.split("/")[3] for t, _ in msgs)
    assert kinds(results["s"]) == ["notifications/events", "notifications/measurements",
                                   "processing/events", "processing/measurements"]
    assert kinds(results["t"]) == kinds(results["s"])
    assert kinds(results["q"]) == ["processing/events", "processing/measurements"]
    assert kinds(results["c"]) == ["processing/events", "processing/measurements"]
    for t, p in results["s"]:
        assert t.endswith(f"/{mid}")
        assert json.loads(p)["realtimeAction"] == "CREATE"
        assert "id" in json.loads(p)["data"]
    for t, p in results["t"] + results["c"]:
        assert "id" not in json.loads(p)["data"], (t, p)  # not stored: no id
    # Storage: s and q stored, t and c not.
    st, body = broker.rest(f"/measurement/measurements?source={mid}&pageSize=100")
    values = sorted(m["c8y_TemperatureMeasurement"]["T"]["value"] for m in body["measurements"])
    assert values == [1, 3]
    types = sorted(e["type"] for e in events(broker, source=mid))
    assert types == ["mode_q", "mode_s"]


def test_streams_carry_rest_changes_and_stay_in_the_tenant(broker, clients):
    app1 = admin(clients, broker, "app-t1")
    app2 = admin(clients, broker, "app-t10", tenant="t10")
    assert app1.subscribe("tenants/t1/notifications/alarms/+", 0) == [0]
    assert app2.subscribe("tenants/t1/notifications/#", 0) == [0x80]
    assert app2.subscribe("tenants/t10/notifications/#", 0) == [0]
    d = device(clients, broker, "st-1")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "st-1")
    st, body = broker.rest("/alarm/alarms", method="POST", body={
        "source": {"id": mid}, "type": "x", "text": "t", "severity": "MAJOR",
        "time": "2026-01-01T00:00:00Z"})
    assert st == 201
    topic, payload = app1.expect()
    assert topic == f"tenants/t1/notifications/alarms/{mid}"
    msg = json.loads(payload)
    assert msg["realtimeAction"] == "CREATE" and msg["data"]["id"] == body["id"]
    d.publish("s/us", "306,x", qos=1)
    topic, payload = app1.expect()
    assert json.loads(payload)["data"]["status"] == "CLEARED"
    assert app2.nothing() is None


def test_concurrent_raises_end_as_one_alarm(broker, clients):
    devs = [device(clients, broker, "cc-1") ]
    devs[0].publish("s/us", "100", qos=1)
    mid = device_id(broker, "cc-1")
    errors = []

    def rest_raises():
        for _ in range(100):
            st, body = broker.rest("/alarm/alarms", method="POST", body={
                "source": {"id": mid}, "type": "race", "text": "t", "severity": "MAJOR",
                "time": "2026-01-01T00:00:00Z"})
            if st != 201:
                errors.append((st, body))

    threads = [threading.Thread(target=rest_raises) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(100):
        devs[0].publish("s/us", "302,race", qos=1)
    for t in threads:
        t.join()
    assert errors == []
    a = alarms(broker, source=mid, type="race")
    assert len(a) == 1 and a[0]["count"] == 500
