"""Authentication under attack: the back-off holds for a password the credential cache knows, and
no password with a NUL byte is valid (REST; MQTT sees passwords only up to their first NUL)."""
import base64
import urllib.error
import urllib.request

from conftest import HOST


def raw_basic(broker, credentials: bytes):
    """GET /tenant/currentTenant with a Basic header made of exactly these bytes."""
    req = urllib.request.Request(f"http://{HOST}:{broker.rest_port}/tenant/currentTenant")
    req.add_header("Authorization", "Basic " + base64.b64encode(credentials).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_rest_password_with_nul_is_wrong(broker):
    assert raw_basic(broker, b"t1/admin:t1-admin-pass") == 200  # cached from here on
    assert raw_basic(broker, b"t1/admin:t1-admin-pass\0") == 401
    assert raw_basic(broker, b"t1/admin:t1-admin-pass\0\0\0") == 401
    assert raw_basic(broker, b"t1/admin:t1-admin-pass\0xyz") == 401
    assert raw_basic(broker, b"t1/admin:t1-admin-pass") == 200


def test_rest_back_off_refuses_the_cached_right_password(broker):
    assert raw_basic(broker, b"t1/admin:t1-admin-pass") == 200
    for i in range(8):
        assert raw_basic(broker, f"t1/admin:guess{i}".encode()) == 401
    # In back-off: the right password is refused like any other.
    assert raw_basic(broker, b"t1/admin:t1-admin-pass") == 401


def test_mqtt_back_off_refuses_the_cached_right_password(broker, clients):
    ok = clients(broker, "bf-1", "t1/device_a", "t1-device-pass")
    assert ok.connect() == 0
    ok.close()
    for i in range(8):
        bad = clients(broker, f"bf-guess-{i}", "t1/device_a", f"guess{i}")
        assert bad.connect() == 5
    right = clients(broker, "bf-2", "t1/device_a", "t1-device-pass")
    assert right.connect() == 5
