#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz/corpus/wire (run from the repository root; idempotent).

Each seed is one fuzz input: a first byte choosing the read size, then length-prefixed frames
(PROTOCOL.md §2-3), encoded by hand so the seeds do not depend on the code under test.
"""
import os
import struct

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)

def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload

def vfield(number, value):
    return varint(number << 3) + varint(value)

def entry(key, text=None, binary=None):
    body = field(1, key.encode()) if key else b""
    if text is not None:
        body += field(2, text if isinstance(text, bytes) else text.encode())
    if binary is not None:
        body += field(3, bytes(binary))
    return body

def frame(stream, kind, body):
    inner = (vfield(1, stream) if stream else b"") + field(kind, body)
    return struct.pack(">I", len(inner)) + inner

def open_(stream, method, entries=(), timeout=0):
    body = field(1, method.encode()) + b"".join(field(2, e) for e in entries)
    if timeout:
        body += vfield(3, timeout)
    return frame(stream, 2, body)

def headers(stream, entries=()):
    return frame(stream, 3, b"".join(field(1, e) for e in entries))

def message(stream, data):
    return frame(stream, 4, field(1, data) if data else b"")

def half_close(stream):
    return frame(stream, 5, b"")

def close(stream, code=0, text="", trailers=()):
    body = (vfield(1, code) if code else b"") + (field(2, text.encode()) if text else b"") + b"".join(field(3, e) for e in trailers)
    return frame(stream, 6, body)

def cancel(stream, reason):
    return frame(stream, 7, field(1, reason))

def ping(payload, ack=False):
    return frame(0, 8, vfield(1, payload) + (vfield(2, 1) if ack else b""))

def go_away(last, code, reason):
    return frame(0, 9, vfield(1, last) + vfield(2, code) + field(3, reason.encode()))

M = "/oneseal.test.v1.Echo/Unary"
seeds = {
    # #15 item 1: the frames that ended the process (GRPCCore's -bin assert).
    "crash-open-binary-under-text-key": open_(1, M, [entry("x-tag", binary=[1, 2, 3])]),
    "crash-open-binary-under-authorization": open_(1, M, [entry("authorization", text="Bearer x"), entry("authorization", binary=[0xFF])]),
    "crash-headers-binary-under-text-key": headers(1, [entry("x-tag", binary=[0])]),
    "crash-close-trailers-binary-under-text-key": close(2, 3, "bad", [entry("reason", binary=[7, 7])]),
    # The other classes of invalid metadata.
    "open-text-under-bin-key": open_(1, M, [entry("trace-bin", text="abc")]),
    "open-uppercase-key": open_(1, M, [entry("Authorization", text="Bearer x")]),
    "open-nul-del-key": open_(1, M, [entry("x\x00\x7f", text="v")]),
    "open-empty-key": open_(1, M, [entry("", text="v")]),
    "open-control-text": open_(1, M, [entry("x-tag", text=b"a\x00\r\nb\x7f")]),
    "open-utf8-text": open_(1, M, [entry("x-tag", text="办件")]),
    "open-no-value": open_(1, M, [entry("empty"), entry("empty-bin")]),
    "open-many-entries": open_(1, M, [entry("k%d" % i, text="v") for i in range(40)]),
    "open-big-value": open_(1, M, [entry("big-bin", binary=[9] * 2000)]),
    # Well-formed calls and connection frames.
    "unary-call": open_(1, "/oneseal.health.v1.Health/Check",
                        [entry("traceparent", text="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")], 5_000_000)
                  + message(1, b"") + half_close(1),
    "unary-answer": headers(1) + message(1, b"\x0a\x12\x08\x01\x12\x06intake") + close(1),
    "answer-with-metadata": headers(3, [entry("x-echo", text="hi"), entry("details-bin", binary=[1, 2])])
                            + message(3, b"x") + close(3, 0, "", [entry("x-trailer", text="done")]),
    "streams-and-limits": b"".join(open_(i, M) for i in range(1, 7)) + cancel(2, b"user left") + message(3, b"m")
                          + half_close(3) + message(3, b"late"),
    "protocol-violations": open_(0, M) + open_(5, M) + open_(4, M) + message(99, b"x") + headers(5) + close(5)
                           + frame(1, 15, b"") + struct.pack(">I", 0),
    "ping-goaway": ping(7) + ping(7, True) + go_away(9, 0, "server is shutting down") + go_away(0, 13, "bad\x00"),
    "bad-method": open_(1, "no-slashes") + open_(2, "/\x00\x7f/\x1b[2J") + open_(3, "//") + open_(4, "/a/b/c"),
    "cancel-reason-control-bytes": open_(1, M) + cancel(1, b"\x00\x7f\x1b[31m\nlevel=critical"),
    "oversized-length": struct.pack(">I", 0x7FFFFFFF),
    "truncated": open_(1, M)[:-3],
    "garbage-body": struct.pack(">I", 5) + b"\xff\xff\xff\xff\xff",
}

os.makedirs("fuzz/corpus/wire", exist_ok=True)
for name, data in seeds.items():
    for chunk in (0, 6):  # read the whole input at once, and in 7-byte pieces
        with open("fuzz/corpus/wire/seed-%s-%d" % (name, chunk + 1), "wb") as f:
            f.write(bytes([chunk]) + data)
print("wrote %d seeds" % (2 * len(seeds)))
