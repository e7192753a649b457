"""Heartbeat verifier of the broker simulator (6in4-heartbeat tunnels).

Pure functions, no sockets and no globals besides constants: the PoP
simulator (pop.py), the test client (client6in4.py) and the unit tests call
them directly.  Written from docs/PROTOCOLS.md sections 2 and 7,
independently of the product's C code.

One ASCII UDP datagram to the PoP's port 3740, no trailing newline:

    HEARTBEAT TUNNEL <ipv6> <ipv4|sender> <epoch> <md5hex>

md5hex = MD5 over "HEARTBEAT TUNNEL <ipv6> <ipv4|sender> <epoch> <password>".

What the real PoP does and this module reproduces:
- the datagram must be shorter than 256 bytes (counted as received);
- trailing CR/LF is ignored;
- the IPv6 text need not be canonical: the tunnel is found by the parsed
  address, while the digest covers the text as received;
- the epoch is parsed as a number and re-printed in plain decimal before
  hashing, so a client that hashed a leading-zero epoch fails the digest
  (and one that hashed the plain number while sending leading zeros passes);
- a literal IPv4 address must equal the datagram's source; "sender" means
  "use the datagram's source" (needed behind NAT);
- the epoch must be within 120 s of the PoP's clock.

Checks run in that order: syntax, unknown_tunnel, address, clock, hash;
the verdict is the first that fails.
"""

import hashlib
import hmac
import ipaddress
import re

PORT = 3740
PREFIX = "HEARTBEAT TUNNEL"
MAX_BYTES = 255  # "shorter than 256 bytes"
MAX_CLOCK_SKEW = 120  # seconds, both directions
SENDER = "sender"

OK = "ok"
SYNTAX = "syntax"
UNKNOWN_TUNNEL = "unknown_tunnel"
ADDRESS = "address"
CLOCK = "clock"
HASH = "hash"
FAILURES = (SYNTAX, UNKNOWN_TUNNEL, ADDRESS, CLOCK, HASH)
VERDICTS = (OK,) + FAILURES

# Printable ASCII without space: what an address, a number or a digest is
# made of.  Anything else inside a field (tabs, NUL, CR, 8-bit) is syntax.
_FIELD = re.compile(r"[\x21-\x7e]+\Z")
_DIGITS = re.compile(r"[0-9]+\Z")
_HEX32 = re.compile(r"[0-9a-fA-F]{32}\Z")


def _secret_text(password):
    if isinstance(password, bytes):
        return password
    return str(password).encode("utf-8")


def hash_input(ipv6_text, ipv4_text, epoch, password):
    """The bytes MD5 runs over; epoch is an int, printed in plain decimal."""
    head = "%s %s %s %d " % (PREFIX, ipv6_text, ipv4_text, int(epoch))
    return head.encode("ascii") + _secret_text(password)


def digest(ipv6_text, ipv4_text, epoch, password):
    """32 lower-case hex digits, as the PoP computes them."""
    return hashlib.md5(hash_input(ipv6_text, ipv4_text, epoch, password)).hexdigest()


def build(ipv6_text, ipv4_text, epoch, password):
    """A well-formed heartbeat datagram (bytes) for test clients."""
    d = digest(ipv6_text, ipv4_text, epoch, password)
    return ("%s %s %s %d %s" % (PREFIX, ipv6_text, ipv4_text, int(epoch), d)).encode("ascii")


def parse(data):
    """Split and type-check a datagram; no tunnel, clock or hash checks.

    Returns a dict or None when the datagram is malformed (verdict syntax):
      ipv6_text, ipv6 (IPv6Address), ipv4_text ("sender" or the address
      text), ipv4 (IPv4Address or None for "sender"), epoch_text, epoch
      (int), digest (the received 32 hex digits, as received).
    """
    data = bytes(data)
    if len(data) > MAX_BYTES:
        return None
    data = data.rstrip(b"\r\n")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return None
    parts = text.split(" ")
    if len(parts) != 6 or " ".join(parts[:2]) != PREFIX:
        return None
    ipv6_text, ipv4_text, epoch_text, received = parts[2:]
    if not all(_FIELD.match(p) for p in parts[2:]):
        return None
    try:
        ipv6 = ipaddress.IPv6Address(ipv6_text)
    except ValueError:
        return None
    if ipv6.scope_id is not None:  # "addr%zone" means nothing to the PoP
        return None
    if ipv4_text == SENDER:
        ipv4 = None
    else:
        try:
            ipv4 = ipaddress.IPv4Address(ipv4_text)
        except ValueError:
            return None
    if not _DIGITS.match(epoch_text) or not _HEX32.match(received):
        return None
    return {
        "ipv6_text": ipv6_text,
        "ipv6": ipv6,
        "ipv4_text": ipv4_text,
        "ipv4": ipv4,
        "epoch_text": epoch_text,
        "epoch": int(epoch_text),
        "digest": received,
    }


def verify(lookup, data, source, now, max_skew=MAX_CLOCK_SKEW):
    """Check a received heartbeat like the PoP.

    lookup(IPv6Address) -> None when the address is not a heartbeat
    tunnel's client address, else the tunnel's password (str/bytes) or a
    tuple (password, context); context comes back in fields["context"].
    source: the datagram's IPv4 source (text or IPv4Address).
    now: the PoP's clock in seconds.

    Returns (verdict, fields).  verdict is "ok" or the first failed check:
    "syntax" (fields is None), "unknown_tunnel", "address" (a literal IPv4
    that is not the source), "clock" (fields["skew"] = epoch - now, beyond
    max_skew), "hash".  On "ok" fields["client_ipv4"] is the address the
    PoP learns: the source for "sender", else the (equal) literal address.
    """
    fields = parse(data)
    if fields is None:
        return SYNTAX, None
    fields["context"] = None
    fields["skew"] = None
    fields["client_ipv4"] = None
    found = lookup(fields["ipv6"])
    if found is None:
        return UNKNOWN_TUNNEL, fields
    if isinstance(found, tuple):
        password, fields["context"] = found
    else:
        password = found
    source = ipaddress.IPv4Address(source)
    if fields["ipv4"] is not None and fields["ipv4"] != source:
        return ADDRESS, fields
    fields["client_ipv4"] = source
    fields["skew"] = fields["epoch"] - int(now)
    if abs(fields["skew"]) > max_skew:
        return CLOCK, fields
    # The PoP re-prints the parsed epoch: a leading zero the client hashed
    # is gone from the text hashed here.
    expected = digest(fields["ipv6_text"], fields["ipv4_text"], fields["epoch"], password)
    # Compared as text: the digest is specified as lower-case hex.
    if not hmac.compare_digest(expected, fields["digest"]):
        return HASH, fields
    return OK, fields
