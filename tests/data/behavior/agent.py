#!/usr/bin/python3
"""agent.py PLAN IP LOG — one agent of make_behavior_capture.sh, run inside that agent's namespace.

PLAN is the JSON plan the script wrote (wall-clock start `t0`, the services, and per agent its
`kind` and `onset`); IP is this agent's address; LOG gets one JSON line per event (appended).

Every agent does ordinary work from t0 (+ up to 1 s) until t0 + `normal_until`, with random gaps
(uniform 0.3–1.8 s, never periodic), each step one of:
  - an LLM API call: curl POST /v1/chat/completions (sometimes streamed) or /v1/embeddings to
    llm_mock.py, `Authorization: Bearer sk-...` (the agent's own key), sometimes after a dig;
  - an MCP tools/call (search_notes, sometimes tools/list) with curl, POST /mcp in the agent's
    Streamable HTTP session (initialize + notifications/initialized once at the start) to the
    MCP TypeScript SDK server (../classify/mcp/server.mjs), sometimes after a dig;
  - a DNS lookup: dig @dnsmasq NAME A.
An anomalous agent keeps doing that, and at t0 + `onset` also starts its anomaly:
  port_scan    nmap -sS -Pn -n --send-ip, a few hundred ports on several server addresses, capped
               with --max-rate / --max-retries
  syn_flood    hping3 -S -p 80 -i u500 -c COUNT (bounded SYN flood on a closed port)
  secret_leak  one curl POST of a body holding an AWS key pair and an RSA private key (PEM)
  beacon       curl GET of the same URL every PERIOD s (fixed schedule), COUNT times
  lateral      ssh (key auth, BatchMode) `true` on each of HOSTS in turn
Event lines: {"agent", "wall", "event": "anomaly_start"|"anomaly_done"|"fail"|"done", ...}; the
script checks them and uses `anomaly_start` to cross-check the onsets it finds in the capture.
Exit status 1 if the anomaly did not do what it should.
"""
import json
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter

PROMPTS = [
    "Summarise the open incidents for the payments service.",
    "Draft a reply to the customer asking about invoice 4471.",
    "Which tests failed in last night's build, and why?",
    "Translate the release notes into German.",
    "List the TODOs in the notes from Tuesday's planning meeting.",
    "Write a SQL query that counts active users per region.",
    "Explain this stack trace in two sentences.",
    "Suggest three names for the new metrics dashboard.",
]
MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"]
QUERIES = ["budget", "roadmap", "oncall", "retro", "hiring", "latency", "migration", "pricing"]


class Agent:
    def __init__(self, plan, ip, log_path):
        self.plan = plan
        self.ip = ip
        self.me = plan["agents"][ip]
        self.svc = plan["services"]
        self.t0 = plan["t0"]
        self.rng = random.Random(self.me["seed"])
        self.log = open(log_path, "a", encoding="utf-8")
        self.lock = threading.Lock()
        self.counts = Counter()
        self.session = None

    # --- plumbing -------------------------------------------------------------------------------
    def event(self, event, **kv):
        line = json.dumps(dict(agent=self.ip, wall=time.time(), event=event, **kv))
        with self.lock:
            self.log.write(line + "\n")
            self.log.flush()

    def run(self, what, cmd, timeout=15):
        """Run cmd to completion; None (and a `fail` event) on a non-zero exit or a timeout."""
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.event("fail", what=what, error="timeout")
            return None
        if res.returncode != 0:
            self.event("fail", what=what, rc=res.returncode, stderr=res.stderr[-400:])
            return None
        return res

    def count(self, what, ok):
        with self.lock:
            self.counts[what if ok else what + "_failed"] += 1

    def sleep_until(self, wall):
        d = wall - time.time()
        if d > 0:
            time.sleep(d)

    def curl(self, *args, host=None, ip=None, port=None):
        cmd = ["curl", "-sS", "--noproxy", "*", "--max-time", "10"]
        if host:
            cmd += ["--resolve", f"{host}:{port}:{ip}"]
        return cmd + list(args)

    # --- ordinary work --------------------------------------------------------------------------
    def dig(self, name):
        res = self.run("dns", ["dig", f"@{self.svc['dns']}", name, "A", "+tries=1", "+time=2",
                               "+short"], timeout=5)
        ok = res is not None and res.stdout.strip() == self.svc["names"][name]
        self.count("dns", ok)

    def llm(self):
        s = self.svc["llm"]
        if self.rng.random() < 0.3:
            self.dig(s["host"])
        if self.rng.random() < 0.8:
            path = "/v1/chat/completions"
            body = {"model": self.rng.choice(MODELS), "max_tokens": self.rng.randint(64, 512),
                    "messages": [{"role": "system", "content": f"You are agent {self.ip}."},
                                 {"role": "user", "content": self.rng.choice(PROMPTS)}],
                    "stream": self.rng.random() < 0.3}
        else:
            path = "/v1/embeddings"
            body = {"model": "text-embedding-3-small",
                    "input": [self.rng.choice(PROMPTS) for _ in range(self.rng.randint(1, 3))]}
        res = self.run("llm", self.curl(
            "-o", "/dev/null", "-w", "%{http_code}",
            "-H", f"Authorization: Bearer {self.me['api_key']}",
            "-H", "Content-Type: application/json", "--data-binary", json.dumps(body),
            f"http://{s['host']}:{s['port']}{path}", host=s["host"], ip=s["ip"], port=s["port"]))
        self.count("llm", res is not None and res.stdout == "200")

    def mcp_post(self, msg, headers=(), dump_headers=False):
        s = self.svc["mcp"]
        hdrs = ["Content-Type: application/json", "Accept: application/json, text/event-stream",
                "MCP-Protocol-Version: 2025-06-18", *headers]
        args = ["-o", "/dev/null", "-w", "%{http_code}"]
        if dump_headers:
            args = ["-D", "-", "-o", "/dev/null"]
        for h in hdrs:
            args += ["-H", h]
        return self.run("mcp", self.curl(*args, "--data-binary", json.dumps(msg),
                                         f"http://{s['host']}:{s['port']}/mcp",
                                         host=s["host"], ip=s["ip"], port=s["port"]))

    def mcp_initialize(self):
        res = self.mcp_post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": f"agent-{self.ip.rsplit('.', 1)[1]}", "version": "1.0"}}},
            dump_headers=True)
        sid = None
        if res is not None:
            for line in res.stdout.splitlines():
                if line.lower().startswith("mcp-session-id:"):
                    sid = line.split(":", 1)[1].strip()
        self.count("mcp_init", sid is not None)
        if sid is None:
            return
        res = self.mcp_post({"jsonrpc": "2.0", "method": "notifications/initialized"},
                            [f"Mcp-Session-Id: {sid}"])
        self.count("mcp_init", res is not None and res.stdout == "202")
        self.session = sid
        self.rpc_id = 1

    def mcp(self):
        if self.rng.random() < 0.3:
            self.dig(self.svc["mcp"]["host"])
        if self.session is None:
            self.mcp_initialize()
            if self.session is None:
                return
        self.rpc_id += 1
        if self.rng.random() < 0.85:
            msg = {"jsonrpc": "2.0", "id": self.rpc_id, "method": "tools/call", "params": {
                "name": "search_notes", "arguments": {"query": self.rng.choice(QUERIES)}}}
        else:
            msg = {"jsonrpc": "2.0", "id": self.rpc_id, "method": "tools/list"}
        res = self.mcp_post(msg, [f"Mcp-Session-Id: {self.session}"])
        ok = res is not None and res.stdout == "200"
        if res is not None and res.stdout == "404":
            self.session = None  # the server forgot the session: initialize again next time
        self.count("mcp", ok)

    def ordinary(self):
        self.sleep_until(self.t0 + self.rng.uniform(0.0, 1.0))
        self.mcp_initialize()
        end = self.t0 + self.plan["normal_until"]
        while True:
            gap = self.rng.uniform(0.3, 1.8)
            if time.time() + gap >= end:
                break
            time.sleep(gap)
            r = self.rng.random()
            if r < 0.5:
                self.llm()
            elif r < 0.85:
                self.mcp()
            else:
                self.dig(self.rng.choice(sorted(self.svc["names"])))

    # --- anomalies ------------------------------------------------------------------------------
    def port_scan(self, a):
        res = self.run("nmap", ["nmap", "-sS", "-Pn", "-n", "--send-ip", "-e", a["dev"],
                                "-p", a["ports"], "--max-rate", str(a["max_rate"]),
                                "--max-retries", "1", "--host-timeout", "20s", "-oG", "-",
                                a["targets"]], timeout=40)
        if res is None:
            return False
        hosts = [ln for ln in res.stdout.splitlines() if ln.startswith("Host:") and "Ports:" in ln]
        self.event("anomaly_done", kind="port_scan", hosts_reported=len(hosts),
                   summary=res.stdout.strip().splitlines()[-1])
        return len(hosts) > 0

    def syn_flood(self, a):
        res = self.run("hping3", ["hping3", "-q", "-I", a["dev"], "-S", "-p", str(a["port"]),
                                  "-i", a["interval"], "-c", str(a["count"]), a["target"]],
                       timeout=30)
        if res is None:
            return False
        # "N packets transmitted, M packets received, ..." (older hping3: "tramitted").
        out = (res.stdout + res.stderr).strip().splitlines()
        sent = [ln for ln in out if re.match(r"\d+ packets tra\w*mitted", ln)]
        self.event("anomaly_done", kind="syn_flood", summary=sent)
        return bool(sent) and int(sent[0].split()[0]) == a["count"]

    def secret_leak(self, a):
        res = self.run("leak", self.curl(
            "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: text/plain",
            "--data-binary", f"@{a['body_file']}", a["url"], host=a["host"], ip=a["ip"],
            port=a["port"]))
        self.event("anomaly_done", kind="secret_leak", http=res.stdout if res else None)
        return res is not None and res.stdout == "201"

    def beacon(self, a):
        start, procs = time.time(), []
        for i in range(a["count"]):
            self.sleep_until(start + i * a["period"])
            procs.append(subprocess.Popen(self.curl(
                "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", a["url"],
                host=a["host"], ip=a["ip"], port=a["port"]),
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
        ok = 0
        for p in procs:
            try:
                out = p.communicate(timeout=5)[0]
            except subprocess.TimeoutExpired:
                p.kill()
                out = p.communicate()[0]
            ok += out == "200"
        self.event("anomaly_done", kind="beacon", sent=len(procs), ok=ok)
        return ok == len(procs)

    def lateral(self, a):
        ok = 0
        for host in a["hosts"]:
            res = self.run("ssh", ["ssh", "-F", "/dev/null", "-i", a["key"], "-o", "BatchMode=yes",
                                   "-o", "StrictHostKeyChecking=no", "-o",
                                   "UserKnownHostsFile=/dev/null", "-o",
                                   "GlobalKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5",
                                   "-o", "LogLevel=ERROR", f"{a['user']}@{host}", "true"],
                           timeout=10)
            ok += res is not None
            time.sleep(self.rng.uniform(0.1, 0.3))
        self.event("anomaly_done", kind="lateral", hosts=len(a["hosts"]), ok=ok)
        return ok == len(a["hosts"])

    # --- main -----------------------------------------------------------------------------------
    def main(self):
        worker = threading.Thread(target=self.ordinary)
        worker.start()
        good = True
        kind = self.me["kind"]
        if kind:
            self.sleep_until(self.t0 + self.me["onset"])
            self.event("anomaly_start", kind=kind)
            good = getattr(self, kind)(self.me["anomaly"])
            if not good:
                self.event("fail", what=kind, error="anomaly did not complete as planned")
        worker.join()
        self.event("done", kind=kind, counts=dict(self.counts))
        return 0 if good else 1


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: agent.py PLAN IP LOG")
    with open(sys.argv[1], encoding="utf-8") as f:
        plan_ = json.load(f)
    sys.exit(Agent(plan_, sys.argv[2], sys.argv[3]).main())
