#!/usr/bin/python3
"""a2a_mock.py IP:PORT... — an Agent2Agent (A2A 0.3) remote agent, for the captures.

  GET  /.well-known/agent-card.json, /.well-known/agent.json   the agent card (0.3 / older name)
  POST /a2a   JSON-RPC 2.0: message/send → a completed Task; message/stream → SSE of
              status-update (working), artifact-update, status-update (completed, final);
              tasks/get → the Task; tasks/cancel → the Task, canceled. Other methods: -32601.

Run by make_class_captures.sh.
"""
import sys

from mock_http import Handler, main

CARD = {
    "protocolVersion": "0.3.0", "name": "Invoice Agent", "version": "1.2.0",
    "description": "Reads invoices and answers questions about them.",
    "url": "http://agent.tcpr.test/a2a", "preferredTransport": "JSONRPC",
    "capabilities": {"streaming": True, "pushNotifications": False},
    "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
    "skills": [{"id": "invoice-qa", "name": "Invoice Q&A", "tags": ["finance"],
                "description": "Answers questions about an uploaded invoice."}],
}
TASK_ID = "9d1c3e1a-0000-4000-8000-00000000a2a1"
CONTEXT_ID = "9d1c3e1a-0000-4000-8000-00000000c0c0"


def task(state, text=None):
    t = {"kind": "task", "id": TASK_ID, "contextId": CONTEXT_ID,
         "status": {"state": state, "timestamp": "2025-01-01T00:00:00Z"}}
    if text:
        t["artifacts"] = [{"artifactId": "art-1", "parts": [{"kind": "text", "text": text}]}]
    return t


class A2aHandler(Handler):
    name = "a2a_mock"

    def do_GET(self):
        if self.path in ("/.well-known/agent-card.json", "/.well-known/agent.json"):
            return self.send_json(CARD)
        return self.not_found()

    def do_POST(self):
        if self.path != "/a2a":
            return self.not_found()
        req = self.read_json()
        rid, method = req.get("id"), req.get("method")
        if method == "message/send":
            return self.send_json({"jsonrpc": "2.0", "id": rid,
                                   "result": task("completed", "Total due: 1,250.00 EUR")})
        if method == "message/stream":
            self.start_stream("text/event-stream")
            base = {"taskId": TASK_ID, "contextId": CONTEXT_ID}
            for result in (
                    dict(base, kind="status-update", final=False,
                         status={"state": "working", "timestamp": "2025-01-01T00:00:00Z"}),
                    dict(base, kind="artifact-update", artifact={
                        "artifactId": "art-1", "parts": [{"kind": "text",
                                                          "text": "Total due: 1,250.00 EUR"}]}),
                    dict(base, kind="status-update", final=True,
                         status={"state": "completed", "timestamp": "2025-01-01T00:00:01Z"})):
                self.sse({"jsonrpc": "2.0", "id": rid, "result": result})
            return self.end_stream()
        if method == "tasks/get":
            return self.send_json({"jsonrpc": "2.0", "id": rid,
                                   "result": task("completed", "Total due: 1,250.00 EUR")})
        if method == "tasks/cancel":
            return self.send_json({"jsonrpc": "2.0", "id": rid, "result": task("canceled")})
        return self.send_json({"jsonrpc": "2.0", "id": rid,
                               "error": {"code": -32601, "message": "Method not found"}})


if __name__ == "__main__":
    sys.exit(main(A2aHandler, sys.argv))
