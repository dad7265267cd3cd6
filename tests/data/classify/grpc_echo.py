#!/usr/bin/python3
"""grpc_echo.py serve IP:PORT | call IP:PORT RUNLOG — gRPC over cleartext HTTP/2 (h2c), grpcio.

Service tcpr.echo.v1.Echo, messages hand-encoded protobuf (field 1 = text, field 2 = count; no
generated code needed): Say (unary), Count (server streaming: `count` replies), Collect (client
streaming), Chat (bidirectional). `call` makes one RPC of each kind, each on its own insecure
channel (one TCP connection), closed before the next, with :authority echo.tcpr.test, and appends
one label per channel to RUNLOG (class grpc, method POST, path /tcpr.echo.v1.Echo/METHOD). grpc
picks the source port, so the labels are joined by order (write_labels.py).
"""
import json
import sys
import time
from concurrent import futures

import grpc

SERVICE = "tcpr.echo.v1.Echo"
AUTHORITY = "echo.tcpr.test"


def varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def msg(text, count=None):
    b = text.encode()
    out = b"\x0a" + varint(len(b)) + b
    return out + (b"\x10" + varint(count) if count is not None else b"")


def text_of(data):
    # field 1, length-delimited, length < 128 (all our messages)
    return data[2:2 + data[1]].decode() if data[:1] == b"\x0a" else ""


def count_of(data):
    n = 2 + data[1]
    return data[n + 1] if data[n:n + 1] == b"\x10" else 1


def serve(addr):
    def say(req, ctx):
        return msg("echo: " + text_of(req))

    def count(req, ctx):
        for i in range(count_of(req)):
            yield msg(f"{text_of(req)} #{i + 1}")

    def collect(reqs, ctx):
        return msg(" | ".join(text_of(r) for r in reqs))

    def chat(reqs, ctx):
        for r in reqs:
            yield msg("re: " + text_of(r))

    handler = grpc.method_handlers_generic_handler(SERVICE, {
        "Say": grpc.unary_unary_rpc_method_handler(say),
        "Count": grpc.unary_stream_rpc_method_handler(count),
        "Collect": grpc.stream_unary_rpc_method_handler(collect),
        "Chat": grpc.stream_stream_rpc_method_handler(chat),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(addr)
    server.start()
    print(f"grpc_echo: serving {SERVICE} on {addr}", file=sys.stderr, flush=True)
    server.wait_for_termination()


def call(target, runlog):
    opts = [("grpc.default_authority", AUTHORITY), ("grpc.enable_retries", 0)]
    plan = [
        ("Say", "unary_unary", msg("hello")),
        ("Count", "unary_stream", msg("tick", 3)),
        ("Collect", "stream_unary", iter([msg("a"), msg("b"), msg("c")])),
        ("Chat", "stream_stream", iter([msg("ping"), msg("pong")])),
    ]
    with open(runlog, "a", encoding="utf-8") as log:
        for method, kind, request in plan:
            path = f"/{SERVICE}/{method}"
            with grpc.insecure_channel(target, options=opts) as ch:
                rpc = getattr(ch, kind)(path)
                result = rpc(request, timeout=5)
                replies = [result] if kind.endswith("unary") else list(result)
                print(f"grpc_echo: {path}: {[text_of(r) for r in replies]}", file=sys.stderr)
            log.write(json.dumps({
                "kind": "conv", "proto": "tcp", "client": None, "server": target,
                "class": "grpc", "tags": [], "sni": None, "host": AUTHORITY, "method": "POST",
                "path": path, "note": f"grpcio {kind} RPC on its own h2c channel"}) + "\n")
            time.sleep(0.2)  # the channel's teardown is over before the next connection


def main(argv):
    if len(argv) == 3 and argv[1] == "serve":
        serve(argv[2])
    elif len(argv) == 4 and argv[1] == "call":
        call(argv[2], argv[3])
    else:
        print("usage: grpc_echo.py serve IP:PORT | call IP:PORT RUNLOG", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
