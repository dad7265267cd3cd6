#!/usr/bin/python3
"""The control socket of a live tcp-routed, through tcp-routectl (issue 8).

tcp-routed runs on vdevs (a capture in, net_null out, one routed port with two paths) with its
control socket in a temporary directory. Every command runs in both output modes: the table
(exit 0, the expected words in it) and --json (valid JSON with the expected fields). Then:
  * zone set … ISOLATED: the agent is ISOLATED within two ticks, and `release` brings it back to
    MONITORED, each with its event;
  * path down / up: the reply comes once the workers have the table; `paths` shows the state;
  * reload with a broken classes file is refused (exit 1, the file named), the classes stay, a good
    file is taken;
  * exit codes: 2 for bad usage, 3 when no daemon listens, 1 for a refused command;
  * garbage: malformed lines, an oversized line and a burst of connections get errors or a close,
    and the daemon answers normally afterwards.

Usage: test_control.py TCP_ROUTED TCP_ROUTECTL
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
from live import live_header  # noqa: E402
CAPTURE = os.path.join(ROOT, "tests", "data", "mixed.pcap")
CLASSES = os.path.join(ROOT, "config", "classes.toml")

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


METRICS_PORT = free_port()


def write_config(tmp):
    path = os.path.join(tmp, "live.toml")
    with open(path, "w") as f:
        f.write(live_header(tmp, f"tcpr-ctl-{os.getpid()}", f'max_line = 4096\nmetrics = "127.0.0.1:{METRICS_PORT}"') + f"""
[behavior]
agents = ["10.0.0.0/8"]

[[port]]
name = "in"
device = "net_pcap_in,rx_pcap={CAPTURE},tx_pcap={tmp}/in_tx.pcap"
egress = "route"
mac = "02:00:00:00:00:01"

[[port]]
name = "out"
device = "net_null0,no-rx=1"
egress = "in"
mac = "02:00:00:00:00:02"

[[path]]
name = "main"
port = "out"
next_hop_mac = "02:00:00:00:10:01"
capacity_mbps = 1000

[[path]]
name = "backup"
port = "out"
next_hop_mac = "02:00:00:00:10:02"
capacity_mbps = 100
""")
    return path


def main():
    routed, ctl = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="tcpr-ctl-")
    shutil.copy(CLASSES, os.path.join(tmp, "classes.toml"))
    sock = os.path.join(tmp, "run", "control.sock")
    proc = subprocess.Popen([routed, "--config", write_config(tmp)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)

    def routectl(*args, json_out=False):
        cmd = [ctl, "--socket", sock] + (["--json"] if json_out else []) + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return r.returncode, r.stdout, r.stderr

    try:
        deadline = time.time() + 20
        while not os.path.exists(sock) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
        check(os.path.exists(sock), "the control socket exists")
        if not os.path.exists(sock):
            return
        check(oct(os.stat(sock).st_mode & 0o777) == "0o660", "the socket is 0660")
        check(oct(os.stat(os.path.dirname(sock)).st_mode & 0o777) == "0o750", "its directory is 0750")
        time.sleep(1.0)   # the capture (97 packets) is through; agents exist

        # Every command, both modes.
        cases = [
            (["status"], ["tcp-routed 0.1.0", "port", "in", "out"], ["version", "uptime_s", "ports", "workers", "tick_ms_last"]),
            (["agents", "--top", "5"], ["agent", "zone", "score"], ["total", "matching", "agents"]),
            (["agent", "10.99.0.1"], ["agent 10.99.0.1", "features" if False else "why"], ["agent", "zone", "trust", "features", "recent_events"]),
            (["paths"], ["main", "backup", "strategy"], ["strategy", "epoch", "paths"]),
            (["stats"], ["packets", "dataplane drops", "control:"], ["packets", "drops", "control", "reloads"]),
            (["flows", "--top", "3"], ["client", "server", "workers answered"], ["flows", "workers_answered"]),
            (["classes"], ["llm.api", "tags:"], ["classes", "tags", "rules"]),
            (["events"], [], ["events", "following"]),
            (["commands"], ["status", "zone", "reload"], None),
        ]
        for args, words, keys in cases:
            rc, out, err = routectl(*args)
            check(rc == 0 and all(w in out for w in words), f"{' '.join(args)}: table (rc {rc}) {err.strip()}")
            rc, out, err = routectl(*args, json_out=True)
            try:
                data = json.loads(out)
            except ValueError:
                data = None
            check(rc == 0 and data is not None and (keys is None or all(k in data for k in keys)),
                  f"{' '.join(args)} --json: {keys}")
        rc, out, _ = routectl("status", json_out=True)
        status = json.loads(out)
        check([p["name"] for p in status["ports"]] == ["in", "out"] and status["ports"][0]["rx"] == 97,
              "status: both ports, the capture's 97 packets received")

        # explain: each stage of one packet, from a 5-tuple and payload, a capture, or hex.
        llm = ("POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\n"
               "Content-Length: 49\r\n\r\n{\"messages\": [{\"content\": \"what is a tcp flow\"}]}")
        rc, out, err = routectl("explain", "--src", "10.99.0.2", "--sport", "40000", "--dst", "10.50.0.1", "--dport", "443",
                                "--payload", llm, json_out=True)
        ex = json.loads(out) if rc == 0 else {}
        check(ex.get("classify", {}).get("class") == "llm.api" and ex["classify"]["host"] == "api.openai.com"
              and ex["classify"]["method"] == "POST" and ex["parse"]["src"] == "10.99.0.2:40000",
              f"explain: an LLM call is classified llm.api with its host and method ({err.strip()})")
        check("route" in ex and ex["route"].get("path") in ("main", "backup") and ex["verdict"].startswith("forward on path"),
              f"explain: routed on a path ({ex.get('route')}, {ex.get('verdict')})")
        rc, out, _ = routectl("explain", "--src", "10.99.0.2", "--sport", "40000", "--dst", "10.50.0.1", "--dport", "443",
                              "--payload", llm)
        check(rc == 0 and "classify  llm.api" in out and "verdict" in out, "explain: the table")
        # A secret in the body is a hard signal: its agent is quarantined on that very packet, which
        # then goes nowhere but to remediation (issue 5) — explain says so.
        leak = llm.replace("what is a tcp flow", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        rc, out, _ = routectl("explain", "--src", "10.99.0.2", "--sport", "40001", "--dst", "10.50.0.1", "--dport", "443",
                              "--payload", leak, json_out=True)
        ex = json.loads(out) if rc == 0 else {}
        check("secret" in ex.get("classify", {}).get("tags", []) and ex.get("verdict") == "drop: zone_quarantined",
              f"explain: a leaked secret quarantines on the same packet ({ex.get('classify', {}).get('tags')}, {ex.get('verdict')})")
        rc, out, _ = routectl("explain", "--pcap", CAPTURE, "--index", "1", json_out=True)
        check(rc == 0 and json.loads(out)["parse"]["ok"] is True, "explain --pcap: the capture's first packet")
        rc, out, _ = routectl("explain", "--frame", "0011223344", json_out=True)
        check(rc == 0 and json.loads(out)["verdict"] == "drop: l2_truncated", "explain --frame: a runt is l2_truncated")
        check(routectl("explain", "--src", "10.99.0.2")[0] == 2, "explain without a port: usage, exit 2")
        rc, _, err = routectl("explain", "--frame", "zz")
        check(rc == 1 and "not hex" in err, "explain --frame zz: exit 1")

        # flows: the largest first, filters by class and agent.
        flows = json.loads(routectl("flows", "--top", "50", json_out=True)[1])["flows"]
        check(len(flows) > 3 and all(flows[i]["bytes"] >= flows[i + 1]["bytes"] for i in range(len(flows) - 1)),
              f"flows: {len(flows)} flows, largest first")
        dns = json.loads(routectl("flows", "--class", "dns", json_out=True)[1])["flows"]
        check(len(dns) > 0 and all(f["class"] == "dns" for f in dns), f"flows --class dns: {len(dns)} flows, all dns")
        mine = json.loads(routectl("flows", "--agent", "10.99.0.1", json_out=True)[1])["flows"]
        check(len(mine) > 0 and all("10.99.0.1:" in f["client"] + f["server"] for f in mine), "flows --agent")
        rc, _, err = routectl("flows", "--agent", "nonsense")
        check(rc == 1 and "not an IP address" in err, "flows --agent nonsense: exit 1")

        # Prometheus: the text format on loopback, numbers that agree with the control socket's.
        time.sleep(1.1)   # the exporter is refreshed once a second
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        text = opener.open(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=10).read().decode()
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                samples[name] = float(value)
        print("\n".join(l for l in text.splitlines() if l.startswith("tcpr_") and ("packets" in l or "agents" in l))[:1500])
        check(samples.get("tcpr_packets_total") == 97, f"metrics: tcpr_packets_total 97 ({samples.get('tcpr_packets_total')})")
        check(samples.get('tcpr_agents{zone="MONITORED"}', 0) + samples.get('tcpr_agents{zone="TRUSTED"}', 0) == 2,
              "metrics: two agents, by zone")
        check(sum(v for k, v in samples.items() if k.startswith("tcpr_class_packets_total{")) == 97,
              "metrics: packets per class add up to all packets")
        check(sum(v for k, v in samples.items() if k.startswith("tcpr_path_packets_total{")) > 0, "metrics: packets per path")
        check("tcpr_tick_seconds" in samples and 'tcpr_drops_total{reason="zone_isolated"}' in samples,
              "metrics: tick duration and drops by reason")

        # DPDK telemetry: the /tcpr/ commands on the telemetry socket (what dpdk-telemetry.py reads).
        tel_path = f"/var/run/dpdk/tcpr-ctl-{os.getpid()}/dpdk_telemetry.v2"
        tel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        tel.settimeout(5)
        tel.connect(tel_path)
        json.loads(tel.recv(16384))   # the greeting: version, pid, max_output_len

        def telemetry(cmd):
            tel.send(cmd.encode())
            return json.loads(tel.recv(65536))[cmd]

        listed = telemetry("/")
        check(all(c in listed for c in ("/tcpr/status", "/tcpr/drops", "/tcpr/zones", "/tcpr/classes", "/tcpr/paths",
                                          "/tcpr/xdp")), "telemetry lists the /tcpr/ commands")
        st = telemetry("/tcpr/status")
        check(st["packets"] == 97 and st["agents"] == 2 and st["workers"] == 1 and st["version"] == "0.1.0",
              f"telemetry /tcpr/status: {st}")
        classes = telemetry("/tcpr/classes")
        check(sum(classes.values()) == 97 and "llm_api" in classes, f"telemetry /tcpr/classes adds up to the packets: {classes}")
        check(set(telemetry("/tcpr/paths")) == {"main", "backup"}, "telemetry /tcpr/paths")
        check(sum(telemetry("/tcpr/zones").values()) == 2, "telemetry /tcpr/zones")
        tel.close()
        if shutil.which("dpdk-telemetry.py"):
            r = subprocess.run(["dpdk-telemetry.py", "-f", f"tcpr-ctl-{os.getpid()}"], input="/tcpr/status\n",
                               capture_output=True, text=True, timeout=20)
            check('"packets": 97' in r.stdout, "dpdk-telemetry.py shows /tcpr/status")

        # An operator pin: ISOLATED within one tick (0.1 s; two allowed for scheduling), then released.
        tick = status["tick_s"]
        follower = subprocess.Popen([ctl, "--socket", sock, "events", "--follow", "--last", "0", "--json"],
                                    stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)
        rc, out, err = routectl("zone", "set", "10.99.0.1", "ISOLATED", "--ttl", "5m")
        check(rc == 0 and "pinned ISOLATED" in out, f"zone set: {out.strip()} {err.strip()}")
        time.sleep(2 * tick + 0.05)
        agent = json.loads(routectl("agent", "10.99.0.1", json_out=True)[1])
        check(agent["zone"] == "ISOLATED", f"ISOLATED within two ticks (is {agent['zone']})")
        check(any(e["to"] == "ISOLATED" and e["reason"] == "operator pin" for e in agent["recent_events"]),
              "its event says operator pin")
        iso = json.loads(routectl("explain", "--src", "10.99.0.1", "--sport", "40000", "--dst", "10.50.0.1", "--dport", "80",
                                  "--payload", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", json_out=True)[1])
        check(iso["gate"] == "drop: zone_isolated" and iso["verdict"] == "drop: zone_isolated",
              f"explain: the isolated agent's packet stops at the zone gate ({iso.get('gate')})")
        # The follower got the event as it happened, one JSON object a line.
        follower.terminate()
        streamed = [json.loads(l) for l in follower.communicate(timeout=10)[0].splitlines() if l.strip()]
        check(any(e["agent"] == "10.99.0.1" and e["to"] == "ISOLATED" for e in streamed),
              f"events --follow streamed the pin's event ({streamed})")
        other = json.loads(routectl("agent", "10.99.0.2", json_out=True)[1])
        check(other["zone"] != "ISOLATED", "the other agent is not touched")
        rc, out, _ = routectl("release", "10.99.0.1")
        check(rc == 0, "release")
        time.sleep(2 * tick + 0.05)
        agent = json.loads(routectl("agent", "10.99.0.1", json_out=True)[1])
        check(agent["zone"] == "MONITORED", f"released to MONITORED (is {agent['zone']})")
        check(agent["recent_events"][0]["reason"] == "operator release" and agent["recent_events"][0]["ts"] > 1e9,
              "the release's event, stamped with the time")

        # Paths: down, then up; each reply after the table is published.
        rc, out, _ = routectl("path", "down", "main")
        check(rc == 0 and "is down (operator down)" in out, f"path down: {out.strip()}")
        paths = {p["name"]: p for p in json.loads(routectl("paths", json_out=True)[1])["paths"]}
        check(paths["main"]["admin"] == "down" and not paths["main"]["up"] and paths["backup"]["up"], "paths shows main down")
        rc, out, _ = routectl("path", "up", "main", json_out=True)
        check(rc == 0 and json.loads(out)["up"] is True, "path up")
        rc, _, err = routectl("path", "down", "nosuch")
        check(rc == 1 and "no path 'nosuch'" in err, "an unknown path: exit 1 and why")

        # Reload: a broken classes file is refused with its place; the classes stay.
        with open(os.path.join(tmp, "classes.toml"), "a") as f:
            f.write("\n[[class]]\nname = \n")
        rc, _, err = routectl("reload")
        check(rc == 1 and "reload refused" in err and "classes.toml" in err, f"a broken file is refused: {err.strip()}")
        rc, out, _ = routectl("classes")
        check(rc == 0 and "llm.api" in out, "the old classes stay")
        shutil.copy(CLASSES, os.path.join(tmp, "classes.toml"))
        rc, out, _ = routectl("reload")
        check(rc == 0 and "reloaded: " in out and "applied: classes" in out, "a good file is taken")

        # Reload of the configuration: [routing] of the same paths applied (the strategy shows in
        # `paths`), a port change reported as needing a restart, a broken file refused with its line.
        conf = os.path.join(tmp, "live.toml")
        original = open(conf).read()
        with open(conf, "w") as f:
            f.write(original + '\n[routing]\nstrategy = "least_loaded"\n')
        rc, out, err = routectl("reload", json_out=True)
        rep = json.loads(out) if rc == 0 else {}
        check(rc == 0 and "[routing]" in rep.get("applied", []) and rep.get("needs_restart") == [],
              f"reload: [routing] applied, nothing needs a restart ({rep} {err.strip()})")
        time.sleep(0.3)   # the main lcore publishes it within 100 ms
        check(json.loads(routectl("paths", json_out=True)[1])["strategy"] == "least_loaded", "paths shows the reloaded strategy")
        with open(conf, "w") as f:
            f.write(original.replace("net_null0,no-rx=1", "net_null0,no-rx=1,size=128") + '\n[routing]\nstrategy = 7\n')
        rc, _, err = routectl("reload")
        check(rc == 1 and "live.toml:" in err and "nothing changed" in err, f"a broken configuration is refused: {err.strip()}")
        check(json.loads(routectl("paths", json_out=True)[1])["strategy"] == "least_loaded", "the running strategy stays")
        with open(conf, "w") as f:
            f.write(original.replace("net_null0,no-rx=1", "net_null0,no-rx=1,size=128"))
        rc, out, _ = routectl("reload", json_out=True)
        rep = json.loads(out) if rc == 0 else {}
        check(rc == 0 and "[[port]]" in rep.get("needs_restart", []), f"a port change needs a restart ({rep})")
        with open(conf, "w") as f:
            f.write(original)
        check(routectl("reload")[0] == 0, "the original configuration reloads")

        # Exit codes.
        check(routectl("zone", "set", "10.99.0.1", "PURPLE")[0] == 1, "a bad zone: exit 1")
        check(routectl("agents", "--top")[0] == 2, "bad usage: exit 2")
        rc, _, err = subprocess.run([ctl, "--socket", os.path.join(tmp, "none.sock"), "status"], capture_output=True,
                                    text=True).returncode, None, None
        check(rc == 3, "no daemon: exit 3")

        # Garbage: malformed lines, an oversized line, many connections at once.
        conns = []
        for i in range(12):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(sock)
            conns.append(s)
        junk = [b"{", b"[]", b'{"cmd": 1}', b'{"cmd": "zone", "args": {"id": 5}}', b"\xff\xfe\x00\x01", b'{"cmd":"nosuch"}']
        for s in conns[:6]:
            s.sendall(b"\n".join(junk) + b"\n")
        answers = 0
        for s in conns[:6]:
            buf = b""
            while buf.count(b"\n") < len(junk):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            answers += sum(1 for l in buf.splitlines() if json.loads(l)["ok"] is False)
        check(answers == 6 * len(junk), f"every malformed request answered with an error ({answers})")
        big = conns[6]
        big.sendall(b"x" * 10000)
        reply = big.recv(65536)
        check(b"longer than 4096 bytes" in reply, "an oversized line is refused")
        for s in conns:
            s.close()
        rc, out, _ = routectl("stats", json_out=True)
        stats = json.loads(out)
        check(rc == 0 and stats["control"]["oversized"] >= 1 and stats["control"]["errors"] >= 6 * len(junk),
              "after the garbage the daemon answers, and counted it")
        check(proc.poll() is None, "tcp-routed is still running")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        print(out[-2000:])
        check(proc.returncode == 0, f"tcp-routed exits 0 (rc {proc.returncode})")
        check(not os.path.exists(sock), "the socket file is removed on exit")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    print(f"{len(failures)} failure(s)")
    sys.exit(1 if failures else 0)
