"""mock_http.py — the HTTP/1.1 plumbing shared by llm_mock.py, a2a_mock.py and web_mock.py.

A Handler subclass implements do_GET/do_POST/... with the helpers below; serve() runs one
threading server per `ip:port` given on the command line until killed. Keep-alive HTTP/1.1,
Content-Length for whole bodies, chunked transfer encoding for streams (SSE, NDJSON), as the
real APIs do. Every response is a pure function of the request (fixed ids, no clocks), so two
runs of make_class_captures.sh put the same bytes on the wire apart from TCP/IP fields.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock/1"
    sys_version = ""
    name = "mock"

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def read_json(self):
        body = self.read_body()
        try:
            return json.loads(body or b"{}")
        except ValueError:
            return {}

    def send_bytes(self, body, ctype, status=200, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, obj, status=200, headers=()):
        self.send_bytes(json.dumps(obj).encode(), "application/json", status, headers)

    def start_stream(self, ctype, status=200, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()

    def chunk(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def sse(self, obj, event=None):
        """One server-sent event; `obj` is JSON-encoded unless it is already a string."""
        data = obj if isinstance(obj, str) else json.dumps(obj)
        self.chunk((f"event: {event}\n" if event else "") + f"data: {data}\n\n")

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def not_found(self):
        self.send_json({"error": {"message": f"no route for {self.command} {self.path}"}}, 404)

    def log_message(self, fmt, *args):
        sys.stderr.write(f"{self.name}: {self.client_address[0]}:{self.client_address[1]} "
                         + fmt % args + "\n")


def serve(handler_cls, listens):
    """Serve handler_cls on every `ip:port` of `listens`, one thread each, until killed."""
    servers = []
    for spec in listens:
        host, port = spec.rsplit(":", 1)
        srv = ThreadingHTTPServer((host, int(port)), handler_cls)
        srv.daemon_threads = True
        servers.append(srv)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    print(f"{handler_cls.name}: listening on {' '.join(listens)}", file=sys.stderr, flush=True)
    for t in threads:
        t.join()


def main(handler_cls, argv):
    if len(argv) < 2:
        print(f"usage: {argv[0]} IP:PORT [IP:PORT...]", file=sys.stderr)
        return 2
    serve(handler_cls, argv[1:])
    return 0
