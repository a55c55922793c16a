#!/usr/bin/env python3
"""Writes a large, broker-like Java properties file for the parser benchmarks.

    ci/perf/gen_properties.py OUT [MEGABYTES]     (default 32)

Deterministic (fixed seed), so every run measures the same bytes. The mix is what makes a
properties parser work: comment blocks as in Kafka's server.properties, ordinary settings,
long values with \\uXXXX escapes as native2ascii writes them (European words with escaped
accented letters, CJK phrases escaped throughout), values continued over several lines with
a trailing backslash, `:` and blank separators, escaped separators in keys, a few CRLF lines.
"""
import random
import sys

COMMENT = """\
############################# Server Basics #############################

# The id of the broker. This must be set to a unique integer for each broker.
# Licensed to the Apache Software Foundation (ASF) under one or more contributor
# license agreements; see the NOTICE file distributed with this work for details.
!   The number of threads that the server uses for receiving requests from the network
"""

KEYS = [
    "broker.id", "log.dirs", "num.network.threads", "num.io.threads", "zookeeper.connect",
    "socket.send.buffer.bytes", "log.retention.hours", "listeners", "advertised.listeners",
    "listener.security.protocol.map", "confluent.support.metrics.enable",
    "confluent.support.customer.id", "ssl.truststore.location", "sasl.jaas.config",
]


ACCENTED = [0x00E9, 0x00FC, 0x00F6, 0x00E4, 0x00DF, 0x00F1, 0x00E7, 0x20AC]


def escaped_text(rng, n):
    """About n characters of text as native2ascii writes it: either European words with
    accented letters escaped inside them, or CJK phrases, every character an escape."""
    out, length = [], 0
    cjk = rng.random() < 0.4
    while length < n:
        if cjk:
            phrase = "".join("\\u%04x" % rng.randrange(0x4E00, 0xA000) for _ in range(rng.randrange(2, 12)))
            out.append(phrase + rng.choice(["\\u3002", ", ", " ", "\\uff0c", " 2026 "]))
        else:
            word = []
            for _ in range(rng.randrange(2, 11)):
                if rng.random() < 0.08:
                    word.append("\\u%04x" % rng.choice(ACCENTED))
                else:
                    word.append(rng.choice("abcdefghijklmnopqrstuvwxyz"))
            out.append("".join(word) + rng.choice([" ", " ", " ", ", ", "\\t", " \\= ", "\\: "]))
        length += len(out[-1])
    return "".join(out)


def block(rng, i):
    kind = rng.random()
    key = "%s.%d" % (rng.choice(KEYS), i)
    if kind < 0.20:
        return COMMENT
    if kind < 0.50:
        sep = rng.choice(["=", " = ", ":", " "])
        return "%s%s%s\n" % (key, sep, rng.randrange(1 << 31))
    if kind < 0.70:
        return "%s=%s\n" % (key, escaped_text(rng, rng.randrange(40, 200)))
    if kind < 0.88:
        parts = ["PLAINTEXT://broker-%d.example.com:%d" % (n, 9092 + n) for n in range(rng.randrange(2, 6))]
        return "%s=%s\n" % (key, ",\\\n    ".join(parts))
    if kind < 0.95:
        return "  %s\\ with\\:escapes = /var/lib/kafka/data-%d\r\n" % (key, i)
    return "%s=%s\n" % (key, "x" * rng.randrange(200, 2000))


def main():
    out = sys.argv[1]
    size = int(float(sys.argv[2]) * 1024 * 1024) if len(sys.argv) > 2 else 32 * 1024 * 1024
    rng = random.Random(20261125)
    written, i = 0, 0
    with open(out, "w", encoding="iso-8859-1", newline="") as f:
        while written < size:
            text = block(rng, i)
            f.write(text)
            written += len(text)
            i += 1
    print("%s: %d bytes, %d blocks" % (out, written, i))


if __name__ == "__main__":
    main()
