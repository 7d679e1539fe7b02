"""Operations: REST create -> s/ds delivery (510-532), pending delivery on subscribe and on 500,
lifecycle through 501-507 with the state table, child routing, isolation."""
import time

from conftest import device, device_id


def create_op(broker, mid, **fragments):
    st, body = broker.rest("/devicecontrol/operations", method="POST",
                           body={"deviceId": mid, **fragments})
    assert st == 201, body
    assert body["status"] == "PENDING"
    return body


def op_status(broker, oid):
    st, body = broker.rest(f"/devicecontrol/operations/{oid}")
    assert st == 200, body
    return body


def listener(clients, broker, serial, **kw):
    d = device(clients, broker, serial, **kw)
    assert d.subscribe("s/ds", 1) == [1]
    return d


def test_round_trip_restart(broker, clients):
    d = listener(clients, broker, "op-1")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "op-1")
    op = create_op(broker, mid, c8y_Restart={}, description="Restart")
    assert d.expect() == ("s/ds", b"510,op-1")
    d.publish("s/us", "501,c8y_Restart", qos=1)
    assert op_status(broker, op["id"])["status"] == "EXECUTING"
    d.publish("s/us", "503,c8y_Restart", qos=1)
    got = op_status(broker, op["id"])
    assert got["status"] == "SUCCESSFUL" and got["description"] == "Restart"
    assert d.nothing() is None  # no s/e line


def test_command_result_and_quoting(broker, clients):
    d = listener(clients, broker, "op-2")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "op-2")
    op = create_op(broker, mid, c8y_Command={"text": 'echo "a, b"\nls'})
    assert d.expect() == ("s/ds", b'511,op-2,"echo \\"a, b\\"\nls"')
    d.publish("s/us", "504," + op["id"], qos=1)
    d.publish("s/us", '506,' + op["id"] + ',"a, b"', qos=1)
    got = op_status(broker, op["id"])
    assert got["status"] == "SUCCESSFUL"
    assert got["c8y_Command"] == {"text": 'echo "a, b"\nls', "result": "a, b"}


def test_pending_sent_on_subscribe_and_on_500(broker, clients):
    d = device(clients, broker, "op-3")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "op-3")
    d.close()
    a = create_op(broker, mid, c8y_Restart={})
    b = create_op(broker, mid, c8y_Relay={"relayState": "OPEN"})
    d = listener(clients, broker, "op-3")
    assert [d.expect()[1], d.expect()[1]] == [b"510,op-3", b"518,op-3,OPEN"]
    d.publish("s/us", "500", qos=1)
    assert [d.expect()[1], d.expect()[1]] == [b"510,op-3", b"518,op-3,OPEN"]
    d.publish("s/us", "501,c8y_Relay", qos=1)
    d.publish("s/us", "500", qos=1)
    assert d.expect()[1] == b"510,op-3"  # only PENDING ones
    assert d.nothing() is None
    assert op_status(broker, b["id"])["status"] == "EXECUTING"
    assert op_status(broker, a["id"])["status"] == "PENDING"


def test_failures_and_state_table_errors(broker, clients):
    d = listener(clients, broker, "op-4")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "op-4")
    op1 = create_op(broker, mid, c8y_Restart={})
    op2 = create_op(broker, mid, c8y_Firmware={"name": "fw", "version": "1", "url": "u"})
    d.drain(0.3)
    # 505 on a PENDING operation fails it (as the platform does).
    d.publish("s/us", f"505,{op1['id']},no power", qos=1)
    got = op_status(broker, op1["id"])
    assert got["status"] == "FAILED" and got["failureReason"] == "no power"
    # A final state is final.
    d.publish("s/us", f"504,{op1['id']}", qos=1)
    topic, payload = d.expect()
    assert topic == "s/e" and payload.startswith(b"45,504,"), payload
    # 502 needs an EXECUTING one.
    d.publish("s/us", "502,c8y_Firmware,bad image", qos=1)
    topic, payload = d.expect()
    assert payload.startswith(b"45,502,"), payload
    d.publish("s/us", "501,c8y_Firmware", qos=1)
    d.publish("s/us", "502,c8y_Firmware,bad image", qos=1)
    got = op_status(broker, op2["id"])
    assert got["status"] == "FAILED" and got["failureReason"] == "bad image"
    # 507 fails every EXECUTING operation.
    op3 = create_op(broker, mid, c8y_Restart={})
    op4 = create_op(broker, mid, c8y_Command={"text": "x"})
    d.drain(0.3)
    d.publish("s/us", "501,c8y_Restart\n501,c8y_Command", qos=1)
    d.publish("s/us", "507,,rebooted", qos=1)
    for o in (op3, op4):
        got = op_status(broker, o["id"])
        assert got["status"] == "FAILED" and got["failureReason"] == "rebooted"
    d.publish("s/us", "504,notanid", qos=1)
    assert d.expect()[1].startswith(b"45,504,")


def test_child_operations_go_to_the_parent(broker, clients):
    d = listener(clients, broker, "op-5")
    d.publish("s/us", "101,op-5-child", qos=1)
    child = device_id(broker, "op-5-child")
    op = create_op(broker, child, c8y_Restart={})
    assert d.expect() == ("s/ds", b"510,op-5-child")
    d.publish("s/us/op-5-child", "501,c8y_Restart", qos=1)
    d.publish("s/us/op-5-child", "503,c8y_Restart", qos=1)
    assert op_status(broker, op["id"])["status"] == "SUCCESSFUL"
    st, body = broker.rest(f"/devicecontrol/operations?agentId={device_id(broker, 'op-5')}")
    assert st == 200 and [o["id"] for o in body["operations"]] == [op["id"]]


def test_operations_stay_with_their_device_and_tenant(broker, clients):
    a = listener(clients, broker, "op-6a")
    b = listener(clients, broker, "op-6b", user="device_b")
    a.publish("s/us", "100", qos=1)
    b.publish("s/us", "100", qos=1)
    op = create_op(broker, device_id(broker, "op-6a"), c8y_Restart={})
    assert a.expect() == ("s/ds", b"510,op-6a")
    assert b.nothing() is None
    # b cannot act on a's operation by id.
    b.publish("s/us", f"504,{op['id']}", qos=1)
    assert b.expect()[1].startswith(b"45,504,")
    assert op_status(broker, op["id"])["status"] == "PENDING"
    st, _ = broker.rest(f"/devicecontrol/operations/{op['id']}", user="t10/admin",
                        password="t10-admin-pass")
    assert st == 404
    st, body = broker.rest("/devicecontrol/operations", method="POST",
                           user="t10/admin", password="t10-admin-pass",
                           body={"deviceId": device_id(broker, "op-6a"), "c8y_Restart": {}})
    assert st == 422, body


def test_rest_queries_and_put(broker, clients):
    d = listener(clients, broker, "op-7")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "op-7")
    ops = [create_op(broker, mid, c8y_Restart={}) for _ in range(3)]
    d.drain(0.3)
    st, body = broker.rest(f"/devicecontrol/operations/{ops[0]['id']}", method="PUT",
                           body={"status": "EXECUTING"})
    assert st == 200 and body["status"] == "EXECUTING"
    st, body = broker.rest(f"/devicecontrol/operations?deviceId={mid}&status=PENDING")
    assert [o["id"] for o in body["operations"]] == [ops[1]["id"], ops[2]["id"]]
    st, body = broker.rest(f"/devicecontrol/operations?deviceId={mid}&fragmentType=c8y_Restart"
                           "&pageSize=2")
    assert len(body["operations"]) == 2 and "next" in body
    st, body = broker.rest(f"/devicecontrol/operations/{ops[0]['id']}", method="PUT",
                           body={"status": "SUCCESSFUL"})
    st, body = broker.rest(f"/devicecontrol/operations/{ops[0]['id']}", method="PUT",
                           body={"status": "PENDING"})
    assert st == 422 and "message" in body
    st, body = broker.rest("/devicecontrol/operations?status=LATER")
    assert st == 400
    st, body = broker.rest("/devicecontrol/operations", method="POST",
                           body={"deviceId": mid, "c8y_Command": {"text": "x" * 20000}})
    assert st == 422 and "bytes" in body["message"]


def test_device_and_rest_change_the_same_operations_at_once(broker, clients):
    import threading
    d = listener(clients, broker, "op-8")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "op-8")
    ops = [create_op(broker, mid, c8y_Restart={}) for _ in range(40)]
    d.drain(0.3)
    results = []

    def rest():
        for o in ops:
            st, body = broker.rest(f"/devicecontrol/operations/{o['id']}", method="PUT",
                                   body={"status": "FAILED", "failureReason": "cancelled"})
            results.append(st)

    t = threading.Thread(target=rest)
    t.start()
    for _ in range(40):
        d.publish("s/us", "501,c8y_Restart", qos=1)
    t.join()
    assert results == [200] * 40
    # Whatever the interleaving, the REST change of each operation came after or before the
    # device's: every operation ends FAILED, none is lost in between.
    st, body = broker.rest(f"/devicecontrol/operations?deviceId={mid}&pageSize=100")
    assert sorted(o["status"] for o in body["operations"]) == ["FAILED"] * 40


def test_results_update_the_device(broker, clients):
    d = listener(clients, broker, "op-9")
    d.publish("s/us", "100", qos=1)
    mid = device_id(broker, "op-9")
    relay = create_op(broker, mid, c8y_RelayArray=["OPEN", "OPEN"])
    mode = create_op(broker, mid, c8y_CommunicationMode={"mode": "SMS"})
    cfg = create_op(broker, mid, c8y_DownloadConfigFile={
        "url": "http://x/cfg", "c8y_ConfigurationDump": {"id": "4711"}})
    d.drain(0.3)
    d.publish("s/us", f"506,{relay['id']},CLOSED,OPEN", qos=1)
    d.publish("s/us", "501,c8y_CommunicationMode\n503,c8y_CommunicationMode", qos=1)
    d.publish("s/us", f"506,{cfg['id']},2026-02-03T04:05:06Z", qos=1)
    st, mo = broker.rest(f"/inventory/managedObjects/{mid}")
    assert mo["c8y_RelayArray"] == ["CLOSED", "OPEN"]
    assert mo["c8y_CommunicationMode"] == {"mode": "SMS"}
    assert mo["c8y_ConfigurationDump"] == {"id": "4711", "time": "2026-02-03T04:05:06.000Z"}
    for o in (relay, mode, cfg):
        assert op_status(broker, o["id"])["status"] == "SUCCESSFUL"
    assert d.nothing() is None
