#!/usr/bin/python3
"""ws_echo.py serve IP PORT | call IP PORT RUNLOG — WebSocket echo with python3-websockets.

The server echoes every message back. `call` opens three connections one after the other, each
from a bound source port (10.98.0.1:26001...), sends a few text/binary messages, reads the echoes
and closes; one label per connection goes to RUNLOG: class websocket, method GET, path = the URI's
path and query, host = the Host header websockets sends (the URI's authority).
"""
import asyncio
import json
import sys

import websockets

CLI = "10.98.0.1"
FIRST_PORT = 26000


async def echo(ws, path=None):
    async for message in ws:
        await ws.send(message)


async def serve(ip, port):
    async with websockets.serve(echo, ip, port):
        print(f"ws_echo: listening on {ip}:{port}", file=sys.stderr, flush=True)
        await asyncio.Future()


async def call(ip, port, runlog):
    plan = [
        ("/ws/chat", {}, ["hello", "how are you?", "bye"],
         "websockets client, three text messages"),
        ("/agent/events?session=42", {"extra_headers": {"Origin": "http://console.tcpr.test"}},
         [b"\x00\x01binary-frame", "subscribe:alerts"], "text and binary messages, Origin"),
        ("/ws/chat", {"subprotocols": ["chat.v1"], "compression": None},
         ["x" * 300], "subprotocol chat.v1, no permessage-deflate, one 300-byte message"),
    ]
    with open(runlog, "a", encoding="utf-8") as log:
        for i, (path, kw, messages, note) in enumerate(plan, 1):
            local = FIRST_PORT + i
            uri = f"ws://{ip}:{port}{path}"
            async with websockets.connect(uri, local_addr=(CLI, local), open_timeout=5,
                                          close_timeout=5, **kw) as ws:
                for m in messages:
                    await ws.send(m)
                    if await asyncio.wait_for(ws.recv(), 5) != m:
                        raise SystemExit(f"ws_echo: bad echo on {uri}")
            log.write(json.dumps({
                "kind": "conv", "proto": "tcp", "client": f"{CLI}:{local}",
                "server": f"{ip}:{port}", "class": "websocket", "tags": [], "sni": None,
                "host": f"{ip}:{port}", "method": "GET", "path": path, "note": note}) + "\n")
            await asyncio.sleep(0.2)


def main(argv):
    if len(argv) == 4 and argv[1] == "serve":
        asyncio.run(serve(argv[2], int(argv[3])))
    elif len(argv) == 5 and argv[1] == "call":
        asyncio.run(call(argv[2], int(argv[3]), argv[4]))
    else:
        print("usage: ws_echo.py serve IP PORT | call IP PORT RUNLOG", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
