#!/usr/bin/python3
"""web_mock.py IP:PORT... — an ordinary web application (not an LLM, MCP or A2A API).

  GET  /README.md     a plain-text README (mentions shells and `sh` innocently)
  GET  /index.html    a small HTML page
  GET/HEAD anything   {"ok": true, "path": ...}
  POST/PUT/PATCH/DELETE anything   the body is read and dropped; {"ok": true, "bytes": N}
  POST /rpc           a JSON-RPC 2.0 result for whatever method was called

Bodies are never echoed, so whatever a request carried stays in the client direction only.
Run by make_class_captures.sh.
"""
import json
import sys

from mock_http import Handler, main

README = """# notes-sync

notes-sync keeps a folder of Markdown notes in step with the team wiki.

## Install

Open a shell in the project folder and run `make install`. Any POSIX shell works;
the scripts were tested with sh, dash and bash on Debian and with zsh on macOS.

## Use

    notes-sync pull      # fetch the wiki into ./notes
    notes-sync push      # publish local edits

Questions: open an issue, or ask in the #notes channel.
"""

INDEX = """<!doctype html>
<html><head><title>Team wiki</title></head>
<body><h1>Team wiki</h1><p>Nothing to see here yet.</p></body></html>
"""


class WebHandler(Handler):
    name = "web_mock"

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/README.md":
            return self.send_bytes(README.encode(), "text/markdown; charset=utf-8")
        if path == "/index.html":
            return self.send_bytes(INDEX.encode(), "text/html; charset=utf-8")
        return self.send_json({"ok": True, "path": path})

    do_HEAD = do_GET

    def do_POST(self):
        body = self.read_body()
        if self.path == "/rpc":
            try:
                rid = json.loads(body).get("id")
            except (ValueError, AttributeError):
                rid = None
            return self.send_json({"jsonrpc": "2.0", "id": rid, "result": {"accepted": True}})
        return self.send_json({"ok": True, "bytes": len(body)},
                              201 if self.command == "POST" else 200)

    do_PUT = do_PATCH = do_DELETE = do_POST


if __name__ == "__main__":
    sys.exit(main(WebHandler, sys.argv))
