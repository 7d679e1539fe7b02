"""GET /measurement/measurements/series (@c8y/client measurement.listSeries): Cumulocity's
{series, values, truncated} shape, aggregation into min/max buckets, series selection, errors,
the 5000-value bound and tenant isolation."""
import urllib.parse

from conftest import device, device_id


def series(broker, user="t1/admin", password="t1-admin-pass", **params):
    pairs = []
    for k, v in params.items():
        for x in (v if isinstance(v, list) else [v]):
            pairs.append((k, x))
    return broker.rest("/measurement/measurements/series?" + urllib.parse.urlencode(pairs),
                       user=user, password=password)


def seed(broker, clients, serial):
    """Temperatures 0..119, one a minute from 2024-03-01T10:00Z (two hours), plus one humidity
    value at 10:30 and one at 11:45 posted through REST. Returns the device id and its client."""
    d = device(clients, broker, serial)
    lines = [f"211,{i},2024-03-01T{10 + i // 60:02d}:{i % 60:02d}:00Z" for i in range(120)]
    for start in range(0, 120, 60):
        d.publish("s/us", "\n".join(lines[start:start + 60]), qos=1)
    mid = device_id(broker, serial)
    for t, v in (("2024-03-01T10:30:00Z", 55.5), ("2024-03-01T11:45:00Z", 60)):
        st, body = broker.rest("/measurement/measurements", method="POST", body={
            "source": {"id": mid}, "time": t, "type": "c8y_Humidity",
            "c8y_Humidity": {"h": {"value": v, "unit": "%"}}})
        assert st == 201, body
    return mid, d


def test_raw_values_one_entry_per_time(broker, clients):
    mid, _ = seed(broker, clients, "series-1")
    st, body = series(broker, source=mid, dateFrom="2024-03-01T10:29:00Z",
                      dateTo="2024-03-01T10:32:00Z",
                      series=["c8y_TemperatureMeasurement.T", "c8y_Humidity.h"])
    assert st == 200, body
    assert body["series"] == [{"unit": "C", "name": "T", "type": "c8y_TemperatureMeasurement"},
                              {"unit": "%", "name": "h", "type": "c8y_Humidity"}]
    assert body["truncated"] is False
    assert body["values"] == {
        "2024-03-01T10:29:00.000Z": [{"min": 29, "max": 29}, None],
        "2024-03-01T10:30:00.000Z": [{"min": 30, "max": 30}, {"min": 55.5, "max": 55.5}],
        "2024-03-01T10:31:00.000Z": [{"min": 31, "max": 31}, None],
    }


def test_hourly_and_daily_aggregation(broker, clients):
    mid, _ = seed(broker, clients, "series-2")
    st, body = series(broker, source=mid, dateFrom="2024-03-01T00:00:00Z",
                      dateTo="2024-03-02T00:00:00Z", aggregationType="HOURLY")
    assert st == 200, body
    # No series parameter: every series of the source, sorted by fragment then name.
    assert [(s["type"], s["name"]) for s in body["series"]] == \
        [("c8y_Humidity", "h"), ("c8y_TemperatureMeasurement", "T")]
    assert body["values"] == {
        "2024-03-01T10:00:00.000Z": [{"min": 55.5, "max": 55.5}, {"min": 0, "max": 59}],
        "2024-03-01T11:00:00.000Z": [{"min": 60, "max": 60}, {"min": 60, "max": 119}],
    }
    st, body = series(broker, source=mid, aggregationType="DAILY",
                      series="c8y_TemperatureMeasurement.T")
    assert st == 200, body
    assert body["values"] == {"2024-03-01T00:00:00.000Z": [{"min": 0, "max": 119}]}
    st, body = series(broker, source=mid, aggregationType="MINUTELY",
                      dateFrom="2024-03-01T11:58:00Z", series="c8y_TemperatureMeasurement.T")
    assert list(body["values"].values()) == [[{"min": 118, "max": 118}],
                                             [{"min": 119, "max": 119}]]


def test_truncated_at_5000_values(broker, clients):
    d = device(clients, broker, "series-3")
    n = 5001
    lines = []
    for i in range(n):
        h, rem = divmod(i, 3600)
        m, s = divmod(rem, 60)
        lines.append(f"211,{i % 7},2024-01-01T{h:02d}:{m:02d}:{s:02d}Z")
    for start in range(0, n, 400):
        d.publish("s/us", "\n".join(lines[start:start + 400]), qos=1)
    mid = device_id(broker, "series-3")
    st, body = series(broker, source=mid)
    assert st == 200
    assert body["truncated"] is True and len(body["values"]) == 5000
    assert "2024-01-01T01:23:19.000Z" in body["values"]  # the 5000th second is in
    assert "2024-01-01T01:23:20.000Z" not in body["values"]  # the 5001st is not
    st, body = series(broker, source=mid, aggregationType="HOURLY")
    assert body["truncated"] is False
    assert body["values"]["2024-01-01T01:00:00.000Z"] == [{"min": 0, "max": 6}]


def test_bad_parameters_are_400(broker, clients):
    mid, _ = seed(broker, clients, "series-4")
    for params, word in (({}, "source"),
                         ({"source": "abc"}, "source"),
                         ({"source": mid, "aggregationType": "WEEKLY"}, "aggregationType"),
                         ({"source": mid, "aggregationType": "hourly"}, "aggregationType"),
                         ({"source": mid, "dateFrom": "yesterday"}, "dateFrom"),
                         ({"source": mid, "dateTo": "2024-13-01T00:00:00Z"}, "dateTo"),
                         ({"source": mid, "dateFrom": "2024-03-02T00:00:00Z",
                           "dateTo": "2024-03-01T00:00:00Z"}, "dateFrom"),
                         ({"source": mid, "series": "noDot"}, "series"),
                         ({"source": mid, "series": "c8y_Temperature."}, "series")):
        st, body = series(broker, **params)
        assert st == 400, (params, body)
        assert body["error"] == "general/badRequest" and word in body["message"], body


def test_other_tenant_sees_nothing(broker, clients):
    mid, _ = seed(broker, clients, "series-5")
    st, body = series(broker, user="t10/admin", password="t10-admin-pass", source=mid)
    assert st == 200
    assert body == {"series": [], "values": {}, "truncated": False}
    # A device user's Basic credentials are not an admin's.
    st, body = series(broker, user="t1/device_a", password="t1-device-pass", source=mid)
    assert st == 403


def test_backfill_shows_in_cached_hours(broker, clients):
    """The first HOURLY query caches the closed hours' min/max; a late measurement (MQTT or
    REST) into such an hour must show in the next answer."""
    mid, d = seed(broker, clients, "series-6")
    params = dict(source=mid, aggregationType="HOURLY", series="c8y_TemperatureMeasurement.T")
    st, before = series(broker, **params)
    assert before["values"]["2024-03-01T11:00:00.000Z"] == [{"min": 60, "max": 119}]
    assert series(broker, **params)[1] == before  # answered from the rollups: the same
    d.publish("s/us", "211,-5,2024-03-01T11:30:00Z", qos=1)
    st, body = broker.rest("/measurement/measurements", method="POST", body={
        "source": {"id": mid}, "time": "2024-03-01T10:10:00Z", "type": "t",
        "c8y_TemperatureMeasurement": {"T": {"value": 500, "unit": "C"}}})
    assert st == 201, body
    st, after = series(broker, **params)
    assert after["values"] == {"2024-03-01T10:00:00.000Z": [{"min": 0, "max": 500}],
                               "2024-03-01T11:00:00.000Z": [{"min": -5, "max": 119}]}
