"""Device certificates and device tokens on a listener with
require_certificate: trusted CAs uploaded over REST into an initially empty trust directory,
auto-registration, refusals, disabling and revocation, and the s/uat token."""
import base64
import datetime
import json
import os
import shutil
import ssl
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import SOURCE_DIR, Client, device_id, free_port, poll, wait_port
from test_transports import operation_round_trip

T10 = {"user": "t10/admin", "password": "t10-admin-pass"}
NOW = datetime.datetime.now(datetime.timezone.utc)


class Pki:
    """Tenant CAs and device certificates made in the test (EC P-256)."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "pki")
        os.makedirs(self.dir, exist_ok=True)

    def ca(self, cn, key=None):
        key = key or ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "test")])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(NOW - datetime.timedelta(days=1))
                .not_valid_after(NOW + datetime.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                             False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .sign(key, hashes.SHA256()))
        return key, cert

    def leaf(self, ca, cn, days_from=-1, days_to=30):
        ca_key, ca_cert = ca
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
                .issuer_name(ca_cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(NOW + datetime.timedelta(days=days_from))
                .not_valid_after(NOW + datetime.timedelta(days=days_to))
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    ca_key.public_key()), critical=False)
                .add_extension(x509.ExtendedKeyUsage([x509.OID_CLIENT_AUTH]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        stem = os.path.join(self.dir, f"{cn.replace(':', '_')}-{cert.serial_number}")
        with open(stem + ".crt", "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(stem + ".key", "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        return stem, cert

    @staticmethod
    def crl(ca, revoked_serials):
        ca_key, ca_cert = ca
        b = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
             .last_update(NOW - datetime.timedelta(minutes=1))
             .next_update(NOW + datetime.timedelta(days=1)))
        for s in revoked_serials:
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(s)
                .revocation_date(NOW - datetime.timedelta(minutes=1)).build())
        return b.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def fingerprint(cert):
    return cert.fingerprint(hashes.SHA1()).hex()


@pytest.fixture
def cbroker(broker_factory):
    b = broker_factory()
    trust = os.path.join(b.tmp, "trust")
    os.makedirs(trust)
    if os.geteuid() == 0:
        shutil.chown(trust, "mosquitto")
    server = os.path.join(b.tmp, "server-certs")
    subprocess.run([os.path.join(SOURCE_DIR, "scripts", "gen-dev-certs.sh"), server], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    b.cert_port = free_port()
    b.server_ca = f"{server}/ca.crt"
    b.trust = trust
    b.options["trust_dir"] = trust
    b.extra_conf = (f"listener {b.cert_port} 127.0.0.1\nrequire_certificate true\n"
                    f"capath {trust}\ncertfile {server}/server.crt\nkeyfile {server}/server.key\n")
    b.start()
    assert wait_port(b.cert_port)
    b.pki = Pki(b.tmp)
    return b


def cert_client(broker, client_id, stem, username=None, password=None):
    c = Client(broker.cert_port, client_id, username, password)
    c.c.tls_set(ca_certs=broker.server_ca, certfile=stem + ".crt", keyfile=stem + ".key",
                cert_reqs=ssl.CERT_REQUIRED)
    return c


def connect(c, tracked):
    tracked.append(c)
    try:
        return c.connect()
    except (OSError, ssl.SSLError):
        return -1


@pytest.fixture
def tracked():
    made = []
    yield made
    for c in made:
        try:
            c.close()
        except Exception:
            pass


def upload(broker, cert, tenant="t1", auth=None, **fields):
    body = {"certInPemFormat": pem(cert), "name": "test CA", "status": "ENABLED",
            "autoRegistrationEnabled": True}
    body.update(fields)
    return broker.rest(f"/tenant/tenants/{tenant}/trusted-certificates", method="POST", body=body,
                       **(auth or {}))


def trust_files(broker):
    return sorted(os.listdir(broker.trust))


def test_certificate_login_from_an_empty_trust_directory(cbroker, tracked):
    assert trust_files(cbroker) == []
    ca = cbroker.pki.ca("Tenant One Devices")
    stem, _ = cbroker.pki.leaf(ca, "cert-1")
    assert connect(cert_client(cbroker, "cert-1", stem), tracked) != 0  # CA not uploaded yet
    st, body = upload(cbroker, ca[1])
    assert st == 201, body
    assert body["fingerprint"] == fingerprint(ca[1]) and body["status"] == "ENABLED"
    assert "BEGIN" not in body["certInPemFormat"]
    assert len(trust_files(cbroker)) == 1
    # Auto-registration: the first connection creates the device user and then the device.
    d = cert_client(cbroker, "cert-1", stem)
    assert connect(d, tracked) == 0, cbroker.read_log()[-2000:]
    mid = device_id(cbroker, "cert-1")  # created by the connection, before any data
    assert poll(lambda: cbroker.rest(f"/inventory/managedObjects/{mid}")[1]
                .get("c8y_Connection", {}).get("status") == "CONNECTED")
    d.publish("s/us", "211,23", qos=1)
    assert len(cbroker.measurements(source=mid)[1]["measurements"]) == 1
    operation_round_trip(cbroker, d, "cert-1")  # mutual TLS: operations down, status up
    st, user = cbroker.rest("/user/t1/users/device_cert-1")
    assert st == 200, user
    assert "registered by its certificate" in cbroker.read_log()
    # d:<serial> works as well; the tenant's username may be given, another tenant's may not.
    d.close()
    assert connect(cert_client(cbroker, "d:cert-1", stem), tracked) == 0
    assert connect(cert_client(cbroker, "cert-1", stem, "t1/device_cert-1", "x"), tracked) == 0
    assert connect(cert_client(cbroker, "cert-1", stem, "t10/device_a", "t10-device-pass"),
                   tracked) == 5
    assert "belongs to tenant t1" in cbroker.read_log()
    # The CN must be the client id's serial.
    assert connect(cert_client(cbroker, "cert-2", stem), tracked) == 5
    colon, _ = cbroker.pki.leaf(ca, "cert:3")
    assert connect(cert_client(cbroker, "cert", colon), tracked) == 5
    assert "':'" in cbroker.read_log() or "colon" in cbroker.read_log()


def test_refusals_disable_revoke_and_restart(cbroker, tracked):
    ca = cbroker.pki.ca("Tenant One Fleet")
    assert upload(cbroker, ca[1])[0] == 201
    fp = fingerprint(ca[1])
    good, good_cert = cbroker.pki.leaf(ca, "dev-good")
    expired, _ = cbroker.pki.leaf(ca, "dev-old", days_from=-10, days_to=-1)
    assert connect(cert_client(cbroker, "dev-old", expired), tracked) != 0
    # A device certificate of a CA nobody uploaded, with the same subject as the real CA.
    rogue_ca = cbroker.pki.ca("Tenant One Fleet")
    rogue, _ = cbroker.pki.leaf(rogue_ca, "dev-good")
    assert connect(cert_client(cbroker, "dev-good", rogue), tracked) != 0
    live = cert_client(cbroker, "dev-good", good)
    assert connect(live, tracked) == 0
    # Disabling the CA disconnects its devices and refuses them (OpenSSL still trusts it).
    st, body = cbroker.rest(f"/tenant/tenants/t1/trusted-certificates/{fp}", method="PUT",
                            body={"status": "DISABLED"})
    assert st == 200 and body["status"] == "DISABLED", body
    assert live.disconnected.get(timeout=5) is not None
    assert connect(cert_client(cbroker, "dev-good", good), tracked) == 5
    assert "is disabled" in cbroker.read_log()
    assert cbroker.rest(f"/tenant/tenants/t1/trusted-certificates/{fp}", method="PUT",
                        body={"status": "ENABLED"})[0] == 200
    live = cert_client(cbroker, "dev-good", good)
    assert connect(live, tracked) == 0
    # A CRL revoking the device's certificate: disconnected and refused.
    bad_crl = Pki.crl(cbroker.pki.ca("Someone Else"), [good_cert.serial_number])
    st, body = cbroker.rest(f"/tenant/tenants/t1/trusted-certificates/{fp}/crl", method="PUT",
                            body={"crl": bad_crl})
    assert st == 422, body
    st, body = cbroker.rest(f"/tenant/tenants/t1/trusted-certificates/{fp}/crl", method="PUT",
                            body={"crl": Pki.crl(ca, [good_cert.serial_number])})
    assert st == 200 and body["crl"]["revokedCertificates"] == 1, body
    assert live.disconnected.get(timeout=5) is not None
    assert connect(cert_client(cbroker, "dev-good", good), tracked) == 5
    assert "revoked" in cbroker.read_log()
    other, _ = cbroker.pki.leaf(ca, "dev-other")
    assert connect(cert_client(cbroker, "dev-other", other), tracked) == 0
    # Disabled CAs leave the trust directory at the next start: the state is reconciled.
    assert cbroker.rest(f"/tenant/tenants/t1/trusted-certificates/{fp}", method="PUT",
                        body={"status": "DISABLED"})[0] == 200
    for c in tracked:
        try:
            c.close()
        except (OSError, ssl.SSLError):
            pass
    cbroker.stop()
    cbroker.start()
    assert wait_port(cbroker.cert_port)
    assert trust_files(cbroker) == []
    assert connect(cert_client(cbroker, "dev-other", other), tracked) != 0
    st, body = cbroker.rest(f"/tenant/tenants/t1/trusted-certificates/{fp}")
    assert st == 200 and body["status"] == "DISABLED" and body["crl"]["revokedCertificates"] == 1
    assert cbroker.rest(f"/tenant/tenants/t1/trusted-certificates/{fp}", method="PUT",
                        body={"status": "ENABLED"})[0] == 200
    assert len(trust_files(cbroker)) == 1
    assert connect(cert_client(cbroker, "dev-other", other), tracked) == 0
    assert connect(cert_client(cbroker, "dev-good", good), tracked) == 5  # still revoked


def test_registration_required_without_auto_registration(cbroker, tracked):
    ca = cbroker.pki.ca("Tenant Ten Devices")
    st, body = upload(cbroker, ca[1], tenant="t10", auth=T10, autoRegistrationEnabled=False)
    assert st == 201, body
    stem, _ = cbroker.pki.leaf(ca, "t10-dev")
    assert connect(cert_client(cbroker, "t10-dev", stem), tracked) == 5
    assert "does not allow auto-registration" in cbroker.read_log()
    assert cbroker.rest("/user/t10/users/device_t10-dev")[0] == 404  # nothing was created
    st, body = cbroker.rest("/user/t10/users", method="POST", **T10,
                            body={"userName": "device_t10-dev", "password": "some-password-1",
                                  "roles": ["device"]})
    assert st == 201, body
    c = cert_client(cbroker, "t10-dev", stem)
    assert connect(c, tracked) == 0
    # The device is the tenant's: t1 does not see it.
    c.publish("s/us", "100", qos=1)
    assert poll(lambda: cbroker.rest("/identity/externalIds/c8y_Serial/t10-dev", **T10)[0] == 200)
    assert cbroker.rest("/identity/externalIds/c8y_Serial/t10-dev")[0] == 404
    # Deleting the device user disconnects it.
    assert cbroker.rest("/user/t10/users/device_t10-dev", method="DELETE", **T10)[0] == 204
    assert c.disconnected.get(timeout=5) is not None


def test_trusted_certificate_api_refusals(cbroker):
    ca = cbroker.pki.ca("Shared Subject")
    assert upload(cbroker, ca[1])[0] == 201
    assert upload(cbroker, ca[1])[0] == 409  # the same certificate again
    same_subject = cbroker.pki.ca("Shared Subject")
    st, body = upload(cbroker, same_subject[1], tenant="t10", auth=T10)
    assert st == 409 and "another tenant" in body["message"], body
    st, body = upload(cbroker, same_subject[1])  # the same tenant may have two
    assert st == 201, body
    leaf_stem, leaf = cbroker.pki.leaf(ca, "not-a-ca")
    st, body = upload(cbroker, leaf)
    assert st == 422 and "CA" in body["message"], body
    for garbage in ("", "not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n"
                    "-----END CERTIFICATE-----\n", "A" * 70000):
        st, body = cbroker.rest("/tenant/tenants/t1/trusted-certificates", method="POST",
                                body={"certInPemFormat": garbage})
        assert st == 422, (garbage[:30], body)
    assert poll(lambda: "trusted certificate refused for tenant t1" in cbroker.read_log())
    # Another tenant's certificates are invisible; a tenant admin cannot upload into another.
    fp = fingerprint(ca[1])
    assert cbroker.rest(f"/tenant/tenants/t1/trusted-certificates/{fp}", **T10)[0] == 404
    assert upload(cbroker, cbroker.pki.ca("X")[1], tenant="t1", auth=T10)[0] == 404
    st, page = cbroker.rest("/tenant/tenants/t1/trusted-certificates")
    assert st == 200 and len(page["certificates"]) == 2
    assert cbroker.rest(f"/tenant/tenants/t1/trusted-certificates/{fp}", method="DELETE")[0] == 204
    assert cbroker.rest(f"/tenant/tenants/t1/trusted-certificates/{fp}")[0] == 404


def test_trusted_certificate_booleans_may_be_strings(cbroker):
    """Cumulocity's own upload example sends "autoRegistrationEnabled": "true" (a string): it is
    taken, and stored and shown as a real boolean; other strings are still refused."""
    st, body = upload(cbroker, cbroker.pki.ca("Str CA")[1], autoRegistrationEnabled="true")
    assert st == 201 and body["autoRegistrationEnabled"] is True, body
    fp = body["fingerprint"]
    item = f"/tenant/tenants/t1/trusted-certificates/{fp}"
    st, body = cbroker.rest(item, method="PUT", body={"autoRegistrationEnabled": "false"})
    assert st == 200 and body["autoRegistrationEnabled"] is False, body
    st, body = cbroker.rest(item)
    assert st == 200 and body["autoRegistrationEnabled"] is False, body
    st, body = cbroker.rest(item, method="PUT", body={"autoRegistrationEnabled": True})
    assert st == 200 and body["autoRegistrationEnabled"] is True, body
    for bad in ("yes", "True", 1, None):
        st, body = cbroker.rest(item, method="PUT", body={"autoRegistrationEnabled": bad})
        assert st == 422 and "autoRegistrationEnabled" in body["message"], (bad, body)
        st, body = upload(cbroker, cbroker.pki.ca(f"Bad {bad}")[1], autoRegistrationEnabled=bad)
        assert st == 422, (bad, body)
    st, body = upload(cbroker, cbroker.pki.ca("Str CA 2")[1], autoRegistrationEnabled="false")
    assert st == 201 and body["autoRegistrationEnabled"] is False, body


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_device_token_over_mqtt(cbroker, clients, tracked):
    ca = cbroker.pki.ca("Token Devices")
    assert upload(cbroker, ca[1])[0] == 201
    stem, _ = cbroker.pki.leaf(ca, "tok-1")
    d = cert_client(cbroker, "tok-1", stem)
    assert connect(d, tracked) == 0
    assert d.subscribe("s/dat", 0) == [0]
    d.publish("s/uat", "", qos=1)
    topic, payload = d.expect()
    assert topic == "s/dat" and payload.startswith(b"71,")
    token = payload.decode()[3:]
    header, claims, _ = token.split(".")
    assert b64url_json(header)["alg"] == "HS256"
    c = b64url_json(claims)
    assert (c["ten"], c["sub"], c["ser"]) == ("t1", "device_tok-1", "tok-1")
    assert c["exp"] - c["iat"] == 3600
    # Within half the lifetime the same token comes again.
    d.publish("s/uat", "", qos=1)
    assert d.expect()[1].decode()[3:] == token
    # A password device gets no token.
    p = clients(cbroker, "pw-dev", "t1/device_a", "t1-device-pass")
    assert p.connect() == 0
    assert p.subscribe("s/e", 0) == [0] and p.subscribe("s/dat", 0) == [0]
    p.publish("s/uat", "", qos=1)
    topic, payload = p.expect()
    assert topic == "s/e" and payload.startswith(b"41,"), payload


def test_device_token_on_the_rest_api(cbroker, clients, tracked):
    ca = cbroker.pki.ca("Bearer Devices")
    assert upload(cbroker, ca[1])[0] == 201
    ca10 = cbroker.pki.ca("Ten Devices")
    assert upload(cbroker, ca10[1], tenant="t10", auth=T10)[0] == 201

    def token_of(serial, ca_pair):
        stem, _ = cbroker.pki.leaf(ca_pair, serial)
        d = cert_client(cbroker, serial, stem)
        assert connect(d, tracked) == 0
        assert d.subscribe("s/dat", 0) == [0]
        d.publish("s/us", "100", qos=1)
        d.publish("s/uat", "", qos=1)
        return d, d.expect()[1].decode()[3:]

    d, token = token_of("bear-1", ca)
    own = device_id(cbroker, "bear-1")
    p = clients(cbroker, "pw-other", "t1/device_a", "t1-device-pass")
    assert p.connect() == 0
    p.publish("s/us", "100", qos=1)
    other = device_id(cbroker, "pw-other")
    ok = lambda path, **kw: cbroker.rest(path, token=token, **kw)
    assert ok(f"/inventory/managedObjects/{own}")[0] == 200
    assert ok("/identity/externalIds/c8y_Serial/bear-1")[0] == 200
    st, body = ok("/measurement/measurements", method="POST", body={
        "source": {"id": own}, "time": "2026-01-01T00:00:00Z", "type": "t",
        "c8y_T": {"T": {"value": 1, "unit": "C"}}})
    assert st == 201, body
    st, body = ok(f"/measurement/measurements?source={own}")
    assert st == 200 and len(body["measurements"]) == 1
    # Nothing beyond the device's own data.
    for path in [f"/inventory/managedObjects/{other}", "/inventory/managedObjects",
                 f"/measurement/measurements?source={other}", "/measurement/measurements",
                 "/alarm/alarms", "/tenant/tenants", "/user/t1/users",
                 "/devicecontrol/newDeviceRequests", "/tenant/tenants/t1/trusted-certificates"]:
        st, body = ok(path)
        assert st == 403, (path, body)
    st, _ = ok("/measurement/measurements", method="POST", body={
        "source": {"id": other}, "time": "2026-01-01T00:00:00Z", "type": "t"})
    assert st == 403
    # A t10 device's token does not reach t1's devices either.
    _, token10 = token_of("bear-10", ca10)
    assert cbroker.rest("/identity/externalIds/c8y_Serial/bear-1", token=token10)[0] == 403
    # Ids are per tenant: the same number may name t10's own device, never t1's.
    st, body = cbroker.rest(f"/inventory/managedObjects/{own}", token=token10)
    assert st == 403 or body["name"] == "MQTT Device bear-10", body
    # Forged tokens: alg none, a changed claim, garbage.
    header, claims, sig = token.split(".")
    none = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    for forged in (f"{none}.{claims}.", f"{none}.{claims}.{sig}",
                   f"{header}.{claims[:-2]}AA.{sig}", "garbage", token + "x"):
        st, body = cbroker.rest(f"/inventory/managedObjects/{own}", token=forged)
        assert st == 401, (forged[:40], body)
    assert poll(lambda: "REST refused a device token" in cbroker.read_log())
    # Disabling the device user ends its token.
    assert cbroker.rest("/user/t1/users/device_bear-1", method="PUT",
                        body={"enabled": False})[0] == 200
    assert ok(f"/inventory/managedObjects/{own}")[0] == 401


def test_deleting_a_ca_disconnects_and_refuses_its_devices(cbroker, tracked):
    ca = cbroker.pki.ca("Short-lived CA")
    assert upload(cbroker, ca[1])[0] == 201
    stem, _ = cbroker.pki.leaf(ca, "del-1")
    live = cert_client(cbroker, "del-1", stem)
    assert connect(live, tracked) == 0
    fp = fingerprint(ca[1])
    assert cbroker.rest(f"/tenant/tenants/t1/trusted-certificates/{fp}", method="DELETE")[0] == 204
    assert live.disconnected.get(timeout=5) is not None
    # OpenSSL still trusts the CA it loaded; the plugin no longer knows it.
    assert connect(cert_client(cbroker, "del-1", stem), tracked) == 5
    assert "unknown CA" in cbroker.read_log()
