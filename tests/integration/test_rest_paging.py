"""Paging with totals, count endpoints, the current user, and unsupported filters."""
from conftest import device


def test_with_total_pages_and_counts(broker, clients):
    d = device(clients, broker, "pg-1")
    d.publish("s/us", "\n".join(f"211,{i}" for i in range(7)), qos=1)
    d.publish("s/us", "\n".join(f"400,t{i % 2},x" for i in range(5)), qos=1)
    d.publish("s/us", "301,a1\n301,a2\n301,a3", qos=1)
    st, body = broker.rest("/measurement/measurements?pageSize=3&withTotalPages=true")
    assert st == 200 and body["statistics"]["totalPages"] == 3, body["statistics"]
    st, body = broker.rest("/measurement/measurements?pageSize=3")
    assert "totalPages" not in body["statistics"]
    st, body = broker.rest("/event/events?pageSize=2&type=t0&withTotalElements=true")
    assert body["statistics"]["totalElements"] == 3 and body["statistics"]["totalPages"] == 2
    st, body = broker.rest("/alarm/alarms?pageSize=2&withTotalPages=true")
    assert body["statistics"]["totalPages"] == 2
    st, body = broker.rest("/inventory/managedObjects?pageSize=1&withTotalPages=true"
                           "&fragmentType=c8y_IsDevice")
    assert body["statistics"]["totalPages"] == 1
    st, body = broker.rest("/devicecontrol/operations?withTotalPages=true")
    assert body["statistics"]["totalPages"] == 0
    st, n = broker.rest("/alarm/alarms/count?status=ACTIVE")
    assert st == 200 and n == 3
    st, n = broker.rest("/inventory/managedObjects/count?fragmentType=c8y_IsDevice")
    assert st == 200 and n == 1
    st, me = broker.rest("/user/currentUser")
    assert st == 200 and me["userName"] == "admin"


def test_unsupported_filters_are_refused_not_ignored(broker):
    for path in ("/inventory/managedObjects?query=isinhierarchyof(1)",
                 "/inventory/managedObjects?q=name%20like%20'x'",
                 "/inventory/managedObjects?text=x",
                 "/measurement/measurements?valueFragmentType=c8y_T"):
        st, body = broker.rest(path)
        assert st == 400 and "not supported" in body["message"], (path, body)
