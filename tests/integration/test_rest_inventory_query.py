"""REST: the inventory query language (query= / q=), child assets, supported measurements and
series, and the empty application list."""
import urllib.parse

from conftest import device


def q(broker, query, user="t1/admin", password="t1-admin-pass", param="query", **params):
    params[param] = query
    st, body = broker.rest("/inventory/managedObjects?" + urllib.parse.urlencode(params),
                           user=user, password=password)
    return st, body


def create(broker, body, user="t1/admin", password="t1-admin-pass"):
    st, mo = broker.rest("/inventory/managedObjects", method="POST", body=body, user=user,
                         password=password)
    assert st == 201, mo
    return mo["id"]


def names(body):
    return [mo["name"] for mo in body["managedObjects"]]


def test_query_filters_orders_and_pages(broker):
    ids = {}
    for name, serial, rank in (("qdev-b", "SN-2", 2), ("qdev-a", "SN-9", 9), ("other", "SN-1", 1),
                               ("qdev-c", "SN-3", 3)):
        ids[name] = create(broker, {"name": name, "type": "c8y_QueryTest", "rank": rank,
                                    "c8y_IsDevice": {}, "c8y_Hardware": {"serialNumber": serial}})
    create(broker, {"name": "qgroup", "type": "c8y_QueryTest", "c8y_IsDeviceGroup": {}})
    st, body = q(broker, "name eq 'qdev*'", pageSize=10)
    assert st == 200, body
    assert names(body) == ["qdev-b", "qdev-a", "qdev-c"]  # id order without $orderby
    st, body = q(broker, "$filter=(name eq 'qdev*') $orderby=name desc", pageSize=10)
    assert names(body) == ["qdev-c", "qdev-b", "qdev-a"]
    st, body = q(broker, "$filter=(c8y_Hardware.serialNumber eq 'SN-9')")
    assert names(body) == ["qdev-a"]
    st, body = q(broker, "$filter=(type eq 'c8y_QueryTest' and rank gt 1 and rank le 3) "
                 "$orderby=rank desc", pageSize=10)
    assert names(body) == ["qdev-c", "qdev-b"]
    st, body = q(broker, "(has(c8y_IsDeviceGroup)) or (rank lt 2)", pageSize=10)
    assert sorted(names(body)) == ["other", "qgroup"]
    st, body = q(broker, "not(has(c8y_IsDevice)) and type eq 'c8y_QueryTest'", pageSize=10)
    assert names(body) == ["qgroup"]
    st, body = q(broker, "name eq 'QDEV*'")  # case-sensitive
    assert names(body) == []
    # Only an order.
    st, body = q(broker, "$orderby=rank", pageSize=10, type="c8y_QueryTest")
    assert names(body) == ["qgroup", "other", "qdev-b", "qdev-c", "qdev-a"]  # missing first
    # Paging through an ordered result, with the total.
    seen = []
    for page in (1, 2):
        st, body = q(broker, "$filter=(has(rank)) $orderby=rank desc", pageSize=3,
                     currentPage=page, withTotalElements="true")
        assert st == 200
        assert body["statistics"]["totalElements"] == 4
        assert body["statistics"]["totalPages"] == 2
        assert ("next" in body) == (page == 1)
        seen += names(body)
        if page == 1:  # the next link carries the query, encoded
            nxt = body["next"][body["next"].index("/inventory/"):]
            assert " " not in nxt and "$" not in nxt
            st, via_link = broker.rest(nxt)
            assert st == 200 and names(via_link) == ["other"]
    assert seen == ["qdev-a", "qdev-c", "qdev-b", "other"]
    # The count endpoint takes the query too.
    st, n = broker.rest("/inventory/managedObjects/count?" +
                        urllib.parse.urlencode({"query": "name eq 'qdev*'"}))
    assert st == 200 and n == 3
    # q= is a device query: has(c8y_IsDevice) is implied.
    st, body = q(broker, "type eq 'c8y_QueryTest'", param="q", pageSize=10)
    assert st == 200 and sorted(names(body)) == ["other", "qdev-a", "qdev-b", "qdev-c"]
    # An empty query is no filter (q= still means devices only).
    st, body = q(broker, "", pageSize=10, type="c8y_QueryTest")
    assert st == 200 and len(body["managedObjects"]) == 5
    st, body = q(broker, " ", param="q", pageSize=10, type="c8y_QueryTest")
    assert st == 200 and len(body["managedObjects"]) == 4
    # Combined with the plain filters.
    st, body = q(broker, "name eq 'qdev*'", type="nope")
    assert names(body) == []


def test_query_refusals_name_what_is_not_supported(broker):
    cases = {
        "isinhierarchyof(1)": "function 'isinhierarchyof' is not supported",
        "startswith(name,'a')": "function 'startswith' is not supported",
        "name in ('a')": "operator 'in' is not supported",
        "$filter=(name eq 'a') $top=3": "'$top' is not supported",
        "name eq null": "null values are not supported",
        "name eq 'abc": "unterminated string",
        "(name eq 'a'": "expected ')'",
        "(" * 40 + "a eq 1" + ")" * 40: "deeper than 32",
        "not " * 33 + "has(a)": "deeper than 32",
    }
    for text, message in cases.items():
        st, body = q(broker, text)
        assert st == 400, (text, body)
        assert body["error"] == "general/badRequest"
        assert message in body["message"], (text, body)
        assert body["message"].startswith("Invalid query parameter query: ")
    st, body = q(broker, "a eq", param="q")
    assert st == 400 and body["message"].startswith("Invalid query parameter q: ")
    st, body = broker.rest("/inventory/managedObjects?" +
                           urllib.parse.urlencode({"query": "a eq 1", "q": "a eq 1"}))
    assert st == 400 and "either query or q" in body["message"]
    st, body = broker.rest("/inventory/managedObjects/count?query=foo(1)")
    assert st == 400 and "function 'foo' is not supported" in body["message"]


def test_child_assets_add_list_remove(broker):
    group = create(broker, {"name": "Building", "c8y_IsDeviceGroup": {}})
    d1 = create(broker, {"name": "asset-1", "c8y_IsDevice": {}})
    d2 = create(broker, {"name": "asset-2", "c8y_IsDevice": {}})
    base = f"/inventory/managedObjects/{group}/childAssets"
    for d in (d1, d2):
        st, ref = broker.rest(base, method="POST", body={"managedObject": {"id": d}})
        assert st == 201, ref
        assert ref["managedObject"]["id"] == d
    st, lst = broker.rest(base)
    assert st == 200
    assert [r["managedObject"]["id"] for r in lst["references"]] == [d1, d2]
    assert [r["managedObject"]["name"] for r in lst["references"]] == ["asset-1", "asset-2"]
    assert lst["references"][0]["self"].endswith(f"{base}/{d1}")
    assert lst["references"][0]["managedObject"]["self"].endswith(f"/inventory/managedObjects/{d1}")
    assert lst["self"].endswith(base) and lst["statistics"]["currentPage"] == 1
    st, g = broker.rest(f"/inventory/managedObjects/{group}")
    assert [r["managedObject"]["id"] for r in g["childAssets"]["references"]] == [d1, d2]
    assert g["childAssets"]["self"].endswith(base)
    st, m1 = broker.rest(f"/inventory/managedObjects/{d1}")
    assert [r["managedObject"]["id"] for r in m1["assetParents"]["references"]] == [group]
    # bygroupid() reads assetParents.
    st, body = q(broker, f"bygroupid({group})", pageSize=10)
    assert sorted(mo["id"] for mo in body["managedObjects"]) == sorted([d1, d2])
    # Removing a reference keeps both objects.
    st, _ = broker.rest(f"{base}/{d1}", method="DELETE")
    assert st == 204
    st, lst = broker.rest(base)
    assert [r["managedObject"]["id"] for r in lst["references"]] == [d2]
    st, m1 = broker.rest(f"/inventory/managedObjects/{d1}")
    assert st == 200 and m1["assetParents"]["references"] == []
    st, body = q(broker, f"bygroupid({group})", pageSize=10)
    assert [mo["id"] for mo in body["managedObjects"]] == [d2]
    # Deleting the child object removes its reference from the group.
    st, _ = broker.rest(f"/inventory/managedObjects/{d2}", method="DELETE")
    assert st == 204
    st, lst = broker.rest(base)
    assert lst["references"] == []


def test_child_asset_errors_name_the_missing_object(broker):
    group = create(broker, {"name": "G", "c8y_IsDeviceGroup": {}})
    d = create(broker, {"name": "d"})
    missing = str(int(d) + 1000 * 5000)
    base = f"/inventory/managedObjects/{group}/childAssets"
    st, body = broker.rest(base, method="POST", body={"managedObject": {"id": missing}})
    assert st == 404 and f"'{missing}'" in body["message"] and group not in body["message"]
    st, body = broker.rest(f"/inventory/managedObjects/{missing}/childAssets", method="POST",
                           body={"managedObject": {"id": d}})
    assert st == 404 and f"'{missing}'" in body["message"]
    st, body = broker.rest(base, method="POST", body={"managedObject": {}})
    assert st == 422
    st, body = broker.rest(f"{base}/{d}", method="DELETE")  # not a child
    assert st == 404 and f"'{d}'" in body["message"]
    st, body = broker.rest(f"{base}/{missing}", method="DELETE")
    assert st == 404 and f"'{missing}'" in body["message"]
    st, body = broker.rest(f"/inventory/managedObjects/{missing}/childAssets")
    assert st == 404 and f"'{missing}'" in body["message"]
    st, body = broker.rest(base, method="POST", body={"managedObject": {"id": group}})
    assert st == 422


def test_supported_measurements_and_series(broker, clients):
    dev = device(clients, broker, "series-1")
    dev.publish("s/us", "211,21.5\n212,55\n210,-70,3", qos=1)
    st, ext = broker.rest("/identity/externalIds/c8y_Serial/series-1")
    mid = ext["managedObject"]["id"]
    st, body = broker.rest("/measurement/measurements", method="POST", body={
        "source": {"id": mid}, "type": "custom", "time": "2026-01-01T00:00:00Z",
        "c8y_Custom": {"a": {"value": 1}, "b": {"value": 2}}})
    assert st == 201, body
    st, sm = broker.rest(f"/inventory/managedObjects/{mid}/supportedMeasurements")
    assert st == 200
    assert sm == {"c8y_SupportedMeasurements": [
        "c8y_Battery", "c8y_Custom", "c8y_SignalStrength", "c8y_TemperatureMeasurement"]}
    st, ss = broker.rest(f"/inventory/managedObjects/{mid}/supportedSeries")
    assert st == 200
    assert ss == {"c8y_SupportedSeries": [
        "c8y_Battery.level", "c8y_Custom.a", "c8y_Custom.b", "c8y_SignalStrength.ber",
        "c8y_SignalStrength.rssi", "c8y_TemperatureMeasurement.T"]}
    # Sending the same series again lists nothing twice.
    dev.publish("s/us", "211,22", qos=1)
    assert broker.rest(f"/inventory/managedObjects/{mid}/supportedSeries") == (200, ss)
    # An object without measurements has none; an unknown object is 404.
    other = create(broker, {"name": "no-data"})
    assert broker.rest(f"/inventory/managedObjects/{other}/supportedSeries") == \
        (200, {"c8y_SupportedSeries": []})
    assert broker.rest(f"/inventory/managedObjects/{other}/supportedMeasurements") == \
        (200, {"c8y_SupportedMeasurements": []})
    st, body = broker.rest("/inventory/managedObjects/99999999/supportedSeries")
    assert st == 404 and "'99999999'" in body["message"]


def test_tenant_isolation_of_queries_and_child_assets(broker):
    # Ids are per tenant (tenant B's first object may have tenant A's first id), so what tenant
    # B sees is told apart by name.
    a_group = create(broker, {"name": "iso-group", "c8y_IsDeviceGroup": {}})
    a_dev = create(broker, {"name": "iso-dev", "c8y_IsDevice": {}})
    st, _ = broker.rest(f"/inventory/managedObjects/{a_group}/childAssets", method="POST",
                        body={"managedObject": {"id": a_dev}})
    assert st == 201
    b = {"user": "t10/admin", "password": "t10-admin-pass"}
    b_dev = create(broker, {"name": "iso-dev-b"}, **b)
    for text in ("name eq 'iso*'", "has(name)", f"bygroupid({a_group})", "$orderby=name",
                 f"id eq '{a_dev}'", "has(c8y_IsDeviceGroup) or has(c8y_IsDevice)"):
        for param in ("query", "q"):
            st, body = q(broker, text, pageSize=100, param=param, **b)
            assert st == 200, body
            assert not {"iso-group", "iso-dev"} & set(names(body)), (text, param, body)
    st, body = q(broker, "name eq 'iso*'", pageSize=100, **b)
    assert names(body) == ["iso-dev-b"]
    st, n = broker.rest("/inventory/managedObjects/count?query=has(name)", **b)
    assert n == 1
    # Tenant A's references are not reachable through tenant B's childAssets.
    for mid in (a_group, a_dev):
        st, body = broker.rest(f"/inventory/managedObjects/{mid}/childAssets", **b)
        assert st == 404 or (mid == b_dev and body["references"] == []), (mid, st, body)
    st, body = broker.rest(f"/inventory/managedObjects/{b_dev}/childAssets", method="POST",
                           body={"managedObject": {"id": a_dev}}, **b)
    assert st == 404 and f"'{a_dev}'" in body["message"]
    st, body = broker.rest(f"/inventory/managedObjects/{a_group}/childAssets/{a_dev}",
                           method="DELETE", **b)
    assert st == 404
    st, lst = broker.rest(f"/inventory/managedObjects/{a_group}/childAssets")
    assert [r["managedObject"]["id"] for r in lst["references"]] == [a_dev]
    st, body = broker.rest(f"/inventory/managedObjects/{a_dev}/supportedSeries", **b)
    assert st == 404


def test_application_list_is_empty_and_authenticated(broker):
    st, body = broker.rest("/application/applications?pageSize=10&withTotalPages=true")
    assert st == 200
    assert body["applications"] == []
    assert body["statistics"]["currentPage"] == 1 and body["statistics"]["pageSize"] == 10
    assert body["statistics"]["totalPages"] == 0
    assert body["self"].endswith("/application/applications?pageSize=10&currentPage=1"
                                 "&withTotalPages=true")
    st, body = broker.rest("/application/applications", password="wrong")
    assert st == 401
