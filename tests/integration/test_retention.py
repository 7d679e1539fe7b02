"""Retention rules (/retention/retentions) and a pass on demand (POST /admin/retention).

A device of t1 sends 150,000 measurements and some events with old times (100 days ago) and a
few recent ones; a device of t10 sends old data too. The broker restarts (its data is then in
SST files, as old data is), t1's admin creates a rule, the management admin runs a pass: t1's
old data is gone from every REST query, its recent data and all of t10's stay, and t1's share of
the disk shrinks after the compaction.
"""
import os
import re
import time
import urllib.request
from datetime import datetime, timedelta, timezone

from conftest import DEFAULT_TENANTS, HOST, device, device_id, poll

MANAGEMENT = {"id": "management", "users": [
    {"name": "admin", "password": "management-admin-pass", "roles": ["admin"]}]}
PROVISIONING = {"tenants": DEFAULT_TENANTS["tenants"] + [MANAGEMENT]}
MGMT = {"user": "management/admin", "password": "management-admin-pass"}
T10 = {"user": "t10/admin", "password": "t10-admin-pass"}

OLD_MEASUREMENTS = 150_000
LINES_PER_PUBLISH = 400  # about 14 kB: under the 16184-byte message cap


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def publish_lines(client, lines):
    for i in range(0, len(lines), LINES_PER_PUBLISH):
        info = client.publish("s/us", "\n".join(lines[i:i + LINES_PER_PUBLISH]), qos=1)
        assert info.is_published()


def total(broker, path, **auth):
    sep = "&" if "?" in path else "?"
    st, body = broker.rest(f"{path}{sep}pageSize=1&withTotalElements=true", **auth)
    assert st == 200, body
    return body["statistics"]["totalElements"]


def sst_bytes(data_dir):
    return sum(os.path.getsize(os.path.join(data_dir, f))
               for f in os.listdir(data_dir) if f.endswith(".sst"))


def du_bytes(path):
    n = 0
    for root, _, files in os.walk(path):
        for f in files:
            n += os.stat(os.path.join(root, f)).st_blocks * 512
    return n


def storage_metric(broker, tenant):
    with urllib.request.urlopen(f"http://{HOST}:{broker.rest_port}/metrics", timeout=10) as r:
        text = r.read().decode()
    m = re.search(r'^c8y_storage_bytes\{tenant="%s"\} (\S+)$' % tenant, text, re.M)
    assert m, text
    return float(m.group(1))


def test_rules_rest_round_trip(broker_factory):
    broker = broker_factory(provisioning=PROVISIONING, options={"retention_interval": "0"})
    broker.start()
    st, rule = broker.rest("/retention/retentions", method="POST",
                           body={"dataType": "ALARM", "maximumAge": 30})
    assert st == 201, rule
    assert rule["dataType"] == "ALARM" and rule["maximumAge"] == 30 and rule["editable"] is True
    assert rule["self"].endswith("/retention/retentions/" + rule["id"])
    st, body = broker.rest("/retention/retentions")
    assert st == 200 and [r["id"] for r in body["retentionRules"]] == [rule["id"]], body
    st, body = broker.rest("/retention/retentions", **T10)
    assert st == 200 and body["retentionRules"] == [], body
    st, body = broker.rest("/retention/retentions", method="POST", body={"dataType": "X",
                                                                          "maximumAge": 1})
    assert st == 422 and "dataType" in body["message"], body
    st, body = broker.rest(f"/retention/retentions/{rule['id']}", method="PUT",
                           body={"maximumAge": 7})
    assert st == 200 and body["maximumAge"] == 7, body
    st, _ = broker.rest(f"/retention/retentions/{rule['id']}", method="DELETE")
    assert st == 204
    st, _ = broker.rest(f"/retention/retentions/{rule['id']}")
    assert st == 404
    st, _ = broker.rest("/admin/retention", method="POST")  # a tenant's admin may not
    assert st == 403


def test_old_data_goes_recent_and_other_tenants_stay_and_disk_shrinks(broker_factory, clients):
    broker = broker_factory(provisioning=PROVISIONING, options={"retention_interval": "0"})
    broker.start()
    now = datetime.now(timezone.utc)
    old = now - timedelta(days=100)
    a = device(clients, broker, "ret-a")
    b = device(clients, broker, "ret-b", tenant="t10")

    t0 = time.time()
    publish_lines(a, [f"211,{i % 50},{iso(old + timedelta(seconds=i))}"
                      for i in range(OLD_MEASUREMENTS)])
    publish_lines(a, [f"211,{i},{iso(now - timedelta(minutes=i + 1))}" for i in range(20)])
    publish_lines(a, [f"400,c8y_Old,old event {i},{iso(old + timedelta(minutes=i))}"
                      for i in range(200)])
    publish_lines(a, [f"400,c8y_New,new event {i},{iso(now - timedelta(minutes=i + 1))}"
                      for i in range(10)])
    publish_lines(b, [f"211,{i},{iso(old + timedelta(seconds=i))}" for i in range(5000)])
    publish_lines(b, [f"400,c8y_Old,old event {i},{iso(old + timedelta(minutes=i))}"
                      for i in range(50)])
    print(f"\nsent {OLD_MEASUREMENTS + 5000 + 20} measurements in {time.time() - t0:.1f} s")
    src_a = device_id(broker, "ret-a")
    cutoff = iso(now - timedelta(days=30))
    assert poll(lambda: total(broker, f"/measurement/measurements?source={src_a}")
                == OLD_MEASUREMENTS + 20, timeout=60)
    assert total(broker, f"/event/events?source={src_a}") == 210
    st, old_events = broker.rest(f"/event/events?source={src_a}&type=c8y_Old&pageSize=3")
    assert st == 200 and len(old_events["events"]) == 3
    old_event_id = old_events["events"][0]["id"]
    st, body = broker.rest("/identity/externalIds/c8y_Serial/ret-b", **T10)
    assert st == 200, body
    src_b = body["managedObject"]["id"]
    assert total(broker, f"/measurement/measurements?source={src_b}", **T10) == 5000

    # Old data lives in SST files: a restart flushes what the WAL held.
    a.close()
    b.close()
    broker.stop()
    broker.start()
    before = {"sst": sst_bytes(broker.data_dir), "du": du_bytes(broker.data_dir),
              "t1_metric": storage_metric(broker, "t1"), "t10_metric": storage_metric(broker, "t10")}

    st, rule = broker.rest("/retention/retentions", method="POST",
                           body={"dataType": "*", "maximumAge": 30})
    assert st == 201, rule
    t0 = time.time()
    st, report = broker.rest("/admin/retention", method="POST", **MGMT)
    took = time.time() - t0
    assert st == 200, report
    assert report["measurements"] == OLD_MEASUREMENTS, report
    assert report["events"] == 200, report
    assert report["tenants"]["t1"]["measurements"] == OLD_MEASUREMENTS
    assert "t10" not in report["tenants"], report  # no rule there, no node default
    after = {"sst": sst_bytes(broker.data_dir), "du": du_bytes(broker.data_dir),
             "t1_metric": storage_metric(broker, "t1"), "t10_metric": storage_metric(broker, "t10")}
    print(f"retention pass: {report['measurements']} measurements, {report['events']} events "
          f"removed in {report['seconds']:.2f} s (request {took:.2f} s)")
    for k in before:
        print(f"{k}: before {before[k]:,.0f} bytes, after {after[k]:,.0f} bytes")

    # t1: the old data is gone from every query, the recent data is there.
    assert total(broker, f"/measurement/measurements?source={src_a}") == 20
    assert total(broker, f"/measurement/measurements?source={src_a}&dateTo={cutoff}") == 0
    assert total(broker, f"/event/events?source={src_a}") == 10
    assert total(broker, f"/event/events?source={src_a}&type=c8y_Old") == 0
    st, _ = broker.rest(f"/event/events/{old_event_id}")
    assert st == 404
    st, series = broker.rest(f"/measurement/measurements/series?source={src_a}"
                             f"&dateFrom={iso(old - timedelta(days=1))}&dateTo={cutoff}"
                             f"&aggregationType=HOURLY")
    assert st == 200 and series["values"] == {}, series
    # t10: everything stays.
    assert total(broker, f"/measurement/measurements?source={src_b}", **T10) == 5000
    assert total(broker, f"/event/events?source={src_b}", **T10) == 50

    # The space is reclaimed: t1's family and the SST files shrank.
    assert after["t1_metric"] < before["t1_metric"] / 5, (before, after)
    assert after["sst"] < before["sst"] * 0.6, (before, after)
    assert after["du"] < before["du"], (before, after)
    assert abs(after["t10_metric"] - before["t10_metric"]) < before["t10_metric"] * 0.5 + 4096

    # A second pass finds nothing.
    st, again = broker.rest("/admin/retention", method="POST", **MGMT)
    assert st == 200 and again["total"] == 0, again


def test_node_default_and_automatic_passes(broker_factory, clients):
    broker = broker_factory(provisioning=PROVISIONING,
                            options={"retention_days": "30", "retention_interval": "1"})
    broker.start()
    now = datetime.now(timezone.utc)
    old = now - timedelta(days=100)
    a = device(clients, broker, "def-a")
    b = device(clients, broker, "def-b", tenant="t10")
    # t10 keeps its data for a year: its own catch-all rule wins over the node default.
    st, _ = broker.rest("/retention/retentions", method="POST",
                        body={"dataType": "*", "maximumAge": 365}, **T10)
    assert st == 201
    publish_lines(a, [f"211,1,{iso(old)}", f"211,2,{iso(now)}"])
    publish_lines(b, [f"211,1,{iso(old)}", f"211,2,{iso(now)}"])
    src_a = device_id(broker, "def-a")
    st, body = broker.rest("/identity/externalIds/c8y_Serial/def-b", **T10)
    src_b = body["managedObject"]["id"]
    # The automatic pass (every second) removes t1's old measurement without being asked.
    assert poll(lambda: total(broker, f"/measurement/measurements?source={src_a}") == 1,
                timeout=15)
    assert total(broker, f"/measurement/measurements?source={src_b}", **T10) == 2
    assert poll(lambda: "c8y: retention removed 1 records" in broker.read_log(), timeout=5)
    # A clean stop with the runner thread waiting.
    t0 = time.time()
    broker.stop()
    assert time.time() - t0 < 10
