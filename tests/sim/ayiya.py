"""AYIYA (Anything In Anything) codec of the broker simulator.

Pure functions, no sockets and no globals besides constants: the PoP
simulator (pop.py) and the unit tests call them directly.  Written from
docs/PROTOCOLS.md section 4 (and 7), independently of the product's C code.

Datagram layout (all integers network byte order):

    byte 0   IdLen<<4 | IdType        4, 1  (identity is 2^4 = 16 bytes, an IPv6 address)
    byte 1   SigLen<<4 | HshMeth      5, 2  (signature is 5*4 = 20 bytes, SHA-1)
    byte 2   AutMeth<<4 | OpCode      1, op (shared secret)
    byte 3   NextHeader               41 (IPv6) or 59 (none)
    4..7     epoch, 32-bit seconds
    8..23    identity
    24..43   signature
    44..     payload

Signature: K = SHA-1(password).  The datagram is assembled with K in the
signature field, SHA-1 is taken over the whole datagram, and the digest
replaces K.  A receiver puts K back in place of the received signature,
recomputes and compares.
"""

import functools
import hashlib
import hmac
import struct

ID_LEN = 4  # identity is 2**4 = 16 bytes
ID_TYPE_INTEGER = 1
SIG_LEN = 5  # signature is 5 * 4 = 20 bytes
HASH_SHA1 = 2
AUTH_SHARED_SECRET = 1

IDENTITY_BYTES = 1 << ID_LEN
SIGNATURE_BYTES = SIG_LEN * 4
HEADER_BYTES = 8
IDENTITY_OFFSET = HEADER_BYTES
SIGNATURE_OFFSET = IDENTITY_OFFSET + IDENTITY_BYTES
PAYLOAD_OFFSET = SIGNATURE_OFFSET + SIGNATURE_BYTES  # 44
MIN_BYTES = PAYLOAD_OFFSET

BYTE0 = (ID_LEN << 4) | ID_TYPE_INTEGER  # 0x41
BYTE1 = (SIG_LEN << 4) | HASH_SHA1  # 0x52

OP_NOOP = 0
OP_FORWARD = 1
OP_ECHO_REQUEST = 2
OP_ECHO_REQUEST_FORWARD = 3
OP_ECHO_RESPONSE = 4
OP_MOTD = 5
OP_QUERY_REQUEST = 6
OP_QUERY_RESPONSE = 7

NH_IPV6 = 41
NH_NONE = 59

MAX_CLOCK_SKEW = 120  # seconds, both directions

# Verdicts of verify(); apart from "ok" they double as drop reasons.
OK = "ok"
SHORT = "short"
HEADER = "header"
UNKNOWN_TUNNEL = "unknown_tunnel"
CLOCK = "clock"
SIGNATURE = "signature"
PAYLOAD = "payload"
VERDICTS = (OK, SHORT, HEADER, UNKNOWN_TUNNEL, CLOCK, SIGNATURE, PAYLOAD)


def _secret_bytes(password):
    if isinstance(password, str):
        return password.encode("utf-8")
    return bytes(password)


@functools.lru_cache(maxsize=256)
def _key_cached(secret):
    return hashlib.sha1(secret).digest()


def key(password):
    """K = SHA-1(password), the 20 bytes put in the signature field."""
    return _key_cached(_secret_bytes(password))


def build(password, identity, epoch, opcode, next_header, payload=b""):
    """Return one signed AYIYA datagram.

    password: str (UTF-8) or bytes; identity: 16 bytes (the sender's tunnel
    IPv6 address, e.g. ipaddress.IPv6Address(...).packed); epoch: integer
    seconds since 1970 (0 .. 2**32-1); opcode: 0..15; next_header: 0..255;
    payload: bytes (an IPv6 packet for next_header 41, empty for 59).
    """
    identity = bytes(identity)
    if len(identity) != IDENTITY_BYTES:
        raise ValueError("identity must be %d bytes" % IDENTITY_BYTES)
    epoch = int(epoch)
    if not 0 <= epoch <= 0xFFFFFFFF:
        raise ValueError("epoch out of 32-bit range")
    if not 0 <= opcode <= 15:
        raise ValueError("opcode must fit in 4 bits")
    if not 0 <= next_header <= 255:
        raise ValueError("next header must fit in a byte")
    header = struct.pack(
        "!BBBBI", BYTE0, BYTE1, (AUTH_SHARED_SECRET << 4) | opcode, next_header, epoch
    )
    payload = bytes(payload)
    digest = hashlib.sha1(header + identity + key(password) + payload).digest()
    return header + identity + digest + payload


def parse(data):
    """Split a datagram without checking anything but its length.

    Returns a dict (see verify) or None when shorter than 44 bytes.
    """
    if len(data) < MIN_BYTES:
        return None
    b0, b1, b2, nh, epoch = struct.unpack_from("!BBBBI", data, 0)
    return {
        "id_len": b0 >> 4,
        "id_type": b0 & 0x0F,
        "sig_len": b1 >> 4,
        "hash_method": b1 & 0x0F,
        "auth_method": b2 >> 4,
        "opcode": b2 & 0x0F,
        "next_header": nh,
        "epoch": epoch,
        "identity": bytes(data[IDENTITY_OFFSET:SIGNATURE_OFFSET]),
        "signature": bytes(data[SIGNATURE_OFFSET:PAYLOAD_OFFSET]),
        "payload": bytes(data[PAYLOAD_OFFSET:]),
        "context": None,
        "skew": None,
    }


def header_ok(fields):
    """True when the fixed header fields have the values SixXS used."""
    return (
        fields["id_len"] == ID_LEN
        and fields["id_type"] == ID_TYPE_INTEGER
        and fields["sig_len"] == SIG_LEN
        and fields["hash_method"] == HASH_SHA1
        and fields["auth_method"] == AUTH_SHARED_SECRET
    )


def signature_ok(password, data):
    """Verify the signature of a datagram of at least 44 bytes."""
    data = bytes(data)
    k = key(password)
    digest = hashlib.sha1(
        data[:SIGNATURE_OFFSET] + k + data[PAYLOAD_OFFSET:]
    ).digest()
    return hmac.compare_digest(digest, data[SIGNATURE_OFFSET:PAYLOAD_OFFSET])


def verify(lookup, data, now, max_skew=MAX_CLOCK_SKEW):
    """Check a received datagram in the order of PROTOCOLS.md section 4.

    lookup(identity16) -> None when no tunnel matches the identity, else the
    tunnel's password (str/bytes) or a tuple (password, context); context is
    handed back in fields["context"] untouched.
    now: the receiver's clock in seconds (int or float).

    Returns (verdict, fields).  verdict is "ok" or the first failed check:
    "short" (< 44 bytes, fields is None), "header", "unknown_tunnel",
    "clock" (|epoch - now| > max_skew; fields["skew"] = epoch - now),
    "signature", "payload" (NextHeader 41 but the payload does not start
    with IP version 6).  fields holds the parsed header (see parse()).
    """
    fields = parse(data)
    if fields is None:
        return SHORT, None
    if not header_ok(fields):
        return HEADER, fields
    found = lookup(fields["identity"])
    if found is None:
        return UNKNOWN_TUNNEL, fields
    if isinstance(found, tuple):
        password, fields["context"] = found
    else:
        password = found
    fields["skew"] = fields["epoch"] - int(now)
    if abs(fields["skew"]) > max_skew:
        return CLOCK, fields
    if not signature_ok(password, data):
        return SIGNATURE, fields
    if fields["next_header"] == NH_IPV6:
        payload = fields["payload"]
        if not payload or payload[0] >> 4 != 6:
            return PAYLOAD, fields
    return OK, fields
