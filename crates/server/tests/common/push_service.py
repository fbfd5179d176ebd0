"""A Web Push service for the tests, independent of the server's implementation.

It plays both the push service (RFC 8030) and the browser: it makes its own P-256 key pair and
auth secret (what a browser's PushSubscription carries), checks each push's VAPID token
(RFC 8292: ES256 JWT, `aud` = this origin, `exp` in the future and at most a day away, `k` the
signer's public key), and decrypts the payload (RFC 8291 aes128gcm) with `http_ece`.

Paths decide the answer: /push/ok/<n> takes every push (201), /push/gone/<n> answers 410,
/push/flaky/<n> answers 429 to the first push and takes the next ones.
GET /received lists what arrived: [{path, ttl, urgency, vapidKey, claims, payload}], and
/rejected the pushes that failed a check, with why.

Prints one JSON line on start: {"port", "p256dh", "auth"} (base64url), then serves until killed.
"""
import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


browser_key = ec.generate_private_key(ec.SECP256R1())
browser_public = browser_key.public_key().public_bytes(
    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
)
auth_secret = bytes(range(16))
received, rejected, seen = [], [], {}
lock = threading.Lock()


def check_vapid(header: str, origin: str):
    """The claims of a valid `vapid t=…, k=…` Authorization header, else raises."""
    scheme, _, params = header.partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError(f"scheme {scheme!r}")
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    token, key = parts["t"], parts["k"]
    head, body, signature = token.split(".")
    header_json = json.loads(unb64(head))
    if header_json.get("alg") != "ES256":
        raise ValueError(f"alg {header_json!r}")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key))
    raw = unb64(signature)
    if len(raw) != 64:
        raise ValueError("signature is not r||s")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    claims = json.loads(unb64(body))
    if claims.get("aud") != origin:
        raise ValueError(f"aud {claims.get('aud')!r} != {origin!r}")
    now = time.time()
    if not (now < claims["exp"] <= now + 24 * 3600 + 60):
        raise ValueError(f"exp {claims['exp']}")
    if "sub" not in claims:
        raise ValueError("no sub")
    return key, claims


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with lock:
            data = received if self.path == "/received" else rejected
            self.reply(200, json.dumps(data).encode(), [("Content-Type", "application/json")])

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        content = self.rfile.read(length)
        host = self.headers["Host"]
        origin = f"http://{host}"
        kind = self.path.split("/")[2] if self.path.count("/") >= 2 else ""
        with lock:
            seen[self.path] = seen.get(self.path, 0) + 1
            first = seen[self.path] == 1
        if kind == "gone":
            return self.reply(410)
        if kind == "flaky" and first:
            return self.reply(429, headers=[("Retry-After", "0")])
        try:
            if self.headers.get("Content-Encoding") != "aes128gcm":
                raise ValueError(f"content-encoding {self.headers.get('Content-Encoding')!r}")
            key, claims = check_vapid(self.headers.get("Authorization", ""), origin)
            plain = http_ece.decrypt(
                content, private_key=browser_key, auth_secret=auth_secret, version="aes128gcm"
            )
            entry = {
                "path": self.path,
                "ttl": int(self.headers.get("TTL", "-1")),
                "urgency": self.headers.get("Urgency"),
                "vapidKey": key,
                "claims": claims,
                "payload": json.loads(plain),
            }
        except (ValueError, KeyError, InvalidSignature) as err:
            with lock:
                rejected.append({"path": self.path, "why": repr(err)})
            return self.reply(400, repr(err).encode())
        with lock:
            received.append(entry)
        self.reply(201)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(json.dumps({"port": server.server_address[1], "p256dh": b64(browser_public), "auth": b64(auth_secret)}), flush=True)
server.serve_forever()
