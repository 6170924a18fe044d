"""Signal's signatures with X25519 keys, as libsignal-protocol-c makes them
(curve25519_sign), in plain Python, for the relay's signed-request tests: an
implementation independent of the firmware's. Slow (pure integers), but a
few signatures per test are enough.

Facts used: the clamped X25519 private scalar a is an Ed25519 secret scalar;
A = aB keeps its sign bit; r = SHA-512(0xFE || 0xFF*31 || a || M || Z) mod L,
R = rB, h = SHA-512(R || A || M) mod L, S = r + h a mod L; the signature is
R || S with A's sign bit moved into the top bit of S's last byte, since the
Montgomery public key (u) cannot carry it."""
import hashlib
import os

P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
I = pow(2, (P - 1) // 4, P)


def _inv(x):
    return pow(x, P - 2, P)


def _recover_x(y, sign):
    xx = (y * y - 1) * _inv(D * y * y + 1)
    x = pow(xx, (P + 3) // 8, P)
    if (x * x - xx) % P:
        x = x * I % P
    if x % 2 != sign:
        x = P - x
    return x


_BY = 4 * _inv(5) % P
_B = (_recover_x(_BY, 0), _BY, 1, _recover_x(_BY, 0) * _BY % P)


def _add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _encode(p):
    zi = _inv(p[2])
    x, y = p[0] * zi % P, p[1] * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def clamp(k):
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return bytes(k)


def public_key(priv):
    """The X25519 public key (Montgomery u) of a 32-byte private key."""
    a = int.from_bytes(clamp(priv), "little")
    A = _mul(a, _B)
    zi = _inv(A[2])
    y = A[1] * zi % P
    u = (1 + y) * _inv(1 - y) % P
    return u.to_bytes(32, "little")


def sign(priv, msg, z=None):
    z = z or os.urandom(64)
    a_bytes = clamp(priv)
    a = int.from_bytes(a_bytes, "little")
    enc = _encode(_mul(a, _B))
    r = int.from_bytes(hashlib.sha512(b"\xfe" + b"\xff" * 31 + a_bytes + msg + z).digest(),
                       "little") % L
    R = _encode(_mul(r, _B))
    h = int.from_bytes(hashlib.sha512(R + enc + msg).digest(), "little") % L
    s = bytearray(((r + h * a) % L).to_bytes(32, "little"))
    s[31] |= enc[31] & 0x80
    return R + bytes(s)
