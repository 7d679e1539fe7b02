"""Tenants and users through the REST API: only the management admin creates and deletes
tenants; a tenant admin manages its users; deleting or disabling disconnects sessions."""
import pytest

from conftest import DEFAULT_TENANTS

PROVISIONING = {"tenants": DEFAULT_TENANTS["tenants"] + [
    {"id": "management", "users": [
        {"name": "admin", "password": "mgmt-admin-pass", "roles": ["admin"]}]}]}

MGMT = {"user": "management/admin", "password": "mgmt-admin-pass"}


@pytest.fixture
def mbroker(broker_factory):
    b = broker_factory(provisioning=PROVISIONING)
    b.start()
    return b


def wait_disconnected(c, timeout=5):
    try:
        c.disconnected.get(timeout=timeout)
        return True
    except Exception:
        return False


def test_tenant_lifecycle(mbroker, clients):
    st, body = mbroker.rest("/tenant/tenants", method="POST",
                            body={"id": "acme", "adminName": "boss", "adminPass": "boss-pass-1"},
                            **MGMT)
    assert st == 201 and body["id"] == "acme", body
    st, body = mbroker.rest("/tenant/tenants", **MGMT)
    assert sorted(t["id"] for t in body["tenants"]) == ["acme", "management", "t1", "t10"]
    # The new tenant's admin works at once and creates a device user.
    st, body = mbroker.rest("/user/acme/users", method="POST",
                            body={"userName": "dev", "password": "dev-pass-1",
                                  "roles": ["device"]},
                            user="acme/boss", password="boss-pass-1")
    assert st == 201 and body["userName"] == "dev", body
    d = clients(mbroker, "acme-dev-1", "acme/dev", "dev-pass-1")
    assert d.connect() == 0
    d.publish("s/us", "211,5", qos=1)
    st, body = mbroker.rest("/measurement/measurements", user="acme/boss", password="boss-pass-1")
    assert st == 200 and len(body["measurements"]) == 1
    # Only the management admin manages tenants.
    st, body = mbroker.rest("/tenant/tenants", method="POST", body={"id": "x"})
    assert st == 403
    st, body = mbroker.rest("/tenant/tenants", method="POST", body={"id": "Bad_Id"}, **MGMT)
    assert st == 422
    st, body = mbroker.rest("/tenant/tenants", method="POST", body={"id": "acme"}, **MGMT)
    assert st == 409
    # Deleting the tenant disconnects its clients and removes its data and users.
    st, _ = mbroker.rest("/tenant/tenants/acme", method="DELETE", **MGMT)
    assert st == 204
    assert wait_disconnected(d)
    st, _ = mbroker.rest("/measurement/measurements", user="acme/boss", password="boss-pass-1")
    assert st == 401
    d2 = clients(mbroker, "acme-dev-2", "acme/dev", "dev-pass-1")
    assert d2.connect() != 0
    st, _ = mbroker.rest("/tenant/tenants/management", method="DELETE", **MGMT)
    assert st == 422
    # A tenant created again under the same id starts empty.
    st, _ = mbroker.rest("/tenant/tenants", method="POST",
                         body={"id": "acme", "adminName": "boss", "adminPass": "boss-pass-2"},
                         **MGMT)
    assert st == 201
    st, body = mbroker.rest("/measurement/measurements", user="acme/boss", password="boss-pass-2")
    assert st == 200 and body["measurements"] == []
    # The broker survives a restart with the dropped family.
    mbroker.stop()
    mbroker.start()
    st, body = mbroker.rest("/measurement/measurements", user="acme/boss", password="boss-pass-2")
    assert st == 200


def test_users_disable_password_delete_disconnect(mbroker, clients):
    st, body = mbroker.rest("/user/t1/users", method="POST",
                            body={"userName": "dev9", "password": "dev9-pass-1"})
    assert st == 201 and body["roles"] == ["device"], body
    st, body = mbroker.rest("/user/t1/users")
    assert "dev9" in [u["userName"] for u in body["users"]]
    assert all("password" not in str(u) for u in body["users"])

    def connected(cid, pw="dev9-pass-1"):
        c = clients(mbroker, cid, "t1/dev9", pw)
        assert c.connect() == 0
        return c

    c = connected("u-1")
    st, _ = mbroker.rest("/user/t1/users/dev9", method="PUT", body={"enabled": False})
    assert st == 200
    assert wait_disconnected(c)
    assert clients(mbroker, "u-2", "t1/dev9", "dev9-pass-1").connect() != 0
    st, _ = mbroker.rest("/user/t1/users/dev9", method="PUT",
                         body={"enabled": True, "password": "dev9-pass-2"})
    assert st == 200
    assert clients(mbroker, "u-3", "t1/dev9", "dev9-pass-1").connect() != 0
    c = connected("u-4", "dev9-pass-2")
    st, _ = mbroker.rest("/user/t1/users/dev9", method="DELETE")
    assert st == 204
    assert wait_disconnected(c)
    assert clients(mbroker, "u-5", "t1/dev9", "dev9-pass-2").connect() != 0
    # Another tenant's users are invisible; bad input is refused with a message.
    st, _ = mbroker.rest("/user/t10/users")
    assert st == 404
    st, _ = mbroker.rest("/user/t10/users", method="POST",
                         body={"userName": "x", "password": "12345678"})
    assert st == 404
    for bad in ({"userName": "a/b", "password": "12345678"},
                {"userName": "ok", "password": "short"},
                {"userName": "ok", "password": "12345678", "roles": ["bootstrap"]}):
        st, body = mbroker.rest("/user/t1/users", method="POST", body=bad)
        assert st == 422 and body["message"], (bad, body)
    st, _ = mbroker.rest("/user/t1/users/admin", method="DELETE")
    assert st == 422  # not itself
    st, body = mbroker.rest("/user/t1/users", **MGMT)
    assert st == 200  # the management admin sees every tenant's users


def test_user_enabled_may_be_a_string(mbroker, clients):
    """"enabled": "false" / "true" are taken as Cumulocity takes them, stored and shown as a
    boolean, and act (a disabled user cannot log in); other values are 422."""
    st, body = mbroker.rest("/user/t1/users", method="POST",
                            body={"userName": "dev7", "password": "dev7-pass-1", "enabled": "false"})
    assert st == 201 and body["enabled"] is False, body
    assert clients(mbroker, "s-1", "t1/dev7", "dev7-pass-1").connect() != 0
    st, body = mbroker.rest("/user/t1/users/dev7", method="PUT", body={"enabled": "true"})
    assert st == 200 and body["enabled"] is True, body
    assert clients(mbroker, "s-2", "t1/dev7", "dev7-pass-1").connect() == 0
    for bad in ("yes", "FALSE", 0, None):
        st, body = mbroker.rest("/user/t1/users/dev7", method="PUT", body={"enabled": bad})
        assert st == 422 and body["message"] == "enabled must be true or false", (bad, body)
        st, body = mbroker.rest("/user/t1/users", method="POST",
                                body={"userName": "dev8", "password": "dev8-pass-1",
                                      "enabled": bad})
        assert st == 422 and body["message"] == "enabled must be true or false", (bad, body)
    st, body = mbroker.rest("/user/t1/users/dev7")
    assert st == 200 and body["enabled"] is True, body
