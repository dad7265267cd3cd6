#!/usr/bin/python3
"""test_live.py TCP_ROUTED TCP_ROUTECTL — the live appliance end to end (issue 8, suite e2e).

Network namespaces made here (names carry the PID; removed at the end, whatever happens):

    tcpr-la1 (10.88.0.1) ─ veth ─┐
    tcpr-la2 (10.88.0.2) ─ veth ─┴─ br0 in tcpr-lhub ─ veth ═ r-in [tcp-routed in tcpr-lrt] r-out ═ veth ─ tcpr-lsrv (10.88.0.100)

tcp-routed runs in tcpr-lrt on two net_af_packet ports (r-in → r-out and back), an inline bump in
the wire with behaviour on for the two agents; its control socket is in a temporary directory.
tcpr-lsrv runs the LLM-style mock (tests/data/classify/llm_mock.py, :8080), the MCP server of the
official TypeScript SDK (tests/data/classify/mcp/server.mjs, :3000) and sshd (:22, a throwaway
key). Offloads are off on every veth, so frames are what the wire would carry.

 1. Both agents get through with real clients: curl POSTs a chat completion (API key in the
    Authorization header), the SDK's MCP client runs a session (initialize, tools/list,
    tools/call, resources), ssh runs `true`.
 2. `tcp-routectl zone set a1 ISOLATED`: a1 is cut off within one tick (checked at 1.5 ticks:
    its request does not complete), a2 keeps working; `agent` shows ISOLATED with the event.
 3. `release`: a1 works again.
 4. `reload` with a broken classes file is refused (exit 1, the file named) and traffic goes on.
 5. While a2 makes 40 requests, the control socket is hammered with garbage (malformed JSON,
    oversized lines, binary, a burst of connections): every request of a2 is answered, and the
    daemon still answers tcp-routectl afterwards.

Exit 0 pass, 1 fail, 77 skip (not root, or a tool missing: the reason is printed).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

_ID = os.getpid()
HUB, RT, NA1, NA2, NSRV = (f"tcpr-lhub-{_ID}", f"tcpr-lrt-{_ID}", f"tcpr-la1-{_ID}", f"tcpr-la2-{_ID}",
                           f"tcpr-lsrv-{_ID}")
NS = [HUB, RT, NA1, NA2, NSRV]
A1, A2, SRV = "10.88.0.1", "10.88.0.2", "10.88.0.100"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
from live import in_ns, live_header, sh  # noqa: E402
CLS = os.path.join(ROOT, "tests", "data", "classify")
SKIP = 77
# The clients talk to the namespaces' own addresses only: no proxy from the environment.
for _k in [k for k in os.environ if "proxy" in k.lower()]:
    del os.environ[_k]

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def no_offloads(ns, dev):
    in_ns(ns, "ethtool", "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off", check=False)


def setup():
    for ns in NS:
        sh("ip", "netns", "add", ns)
        in_ns(ns, "ip", "link", "set", "lo", "up")
    in_ns(HUB, "ip", "link", "add", "br0", "type", "bridge")
    in_ns(HUB, "ip", "link", "set", "br0", "up")
    for name, ns, addr in (("a1", NA1, A1), ("a2", NA2, A2)):
        sh("ip", "link", "add", f"h-{name}", "netns", HUB, "type", "veth", "peer", "name", "eth0", "netns", ns)
        in_ns(HUB, "ip", "link", "set", f"h-{name}", "master", "br0")
        in_ns(HUB, "ip", "link", "set", f"h-{name}", "up")
        in_ns(ns, "ip", "addr", "add", f"{addr}/24", "dev", "eth0")
        in_ns(ns, "ip", "link", "set", "eth0", "up")
        no_offloads(ns, "eth0")
        no_offloads(HUB, f"h-{name}")
    sh("ip", "link", "add", "h-rt", "netns", HUB, "type", "veth", "peer", "name", "r-in", "netns", RT)
    in_ns(HUB, "ip", "link", "set", "h-rt", "master", "br0")
    in_ns(HUB, "ip", "link", "set", "h-rt", "up")
    sh("ip", "link", "add", "r-out", "netns", RT, "type", "veth", "peer", "name", "eth0", "netns", NSRV)
    in_ns(NSRV, "ip", "addr", "add", f"{SRV}/24", "dev", "eth0")
    in_ns(NSRV, "ip", "link", "set", "eth0", "up")
    for ns, dev in ((HUB, "h-rt"), (RT, "r-in"), (RT, "r-out"), (NSRV, "eth0")):
        no_offloads(ns, dev)
    for dev in ("r-in", "r-out"):
        in_ns(RT, "ip", "link", "set", dev, "up")


def teardown(procs):
    for p in procs:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
    for ns in NS:
        sh("ip", "netns", "del", ns, check=False)


def wait_listen(port, deadline_s=20):
    end = time.time() + deadline_s
    while time.time() < end:
        r = in_ns(NSRV, "ss", "-ltn", f"sport = :{port}", check=False)
        if f":{port}" in r.stdout:
            return True
        time.sleep(0.1)
    return False


def llm_call(ns, max_time=2.0):
    """True when the agent in `ns` gets a chat completion within max_time."""
    r = in_ns(ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", str(max_time),
              "-H", "Authorization: Bearer sk-proj-e2eTestKey0123456789abcdefABCDEF", "-H", "Content-Type: application/json",
              "--data", '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}',
              f"http://{SRV}:8080/v1/chat/completions", check=False, timeout=max_time + 10)
    return r.stdout.strip() == "200"


def mcp_session(ns, tmp):
    r = in_ns(ns, "node", os.path.join(CLS, "mcp", "client.mjs"), "streamable", f"http://{SRV}:3000/mcp",
              os.path.join(tmp, f"mcp-{ns}.log"), check=False, timeout=30)
    return r.returncode == 0


def ssh_true(ns, key):
    r = in_ns(ns, "ssh", "-i", key, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o",
              "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", f"root@{SRV}", "true",
              check=False, timeout=30)
    return r.returncode == 0


def write_config(tmp):
    path = os.path.join(tmp, "live.toml")
    with open(path, "w") as f:
        f.write(live_header(tmp, f"tcpr-e2e-live-{_ID}", "max_line = 4096\nmax_clients = 8") + f"""
[behavior]
agents = ["{A1}/32", "{A2}/32"]

[[port]]
name = "in"
device = "net_af_packet0,iface=r-in,qpairs=1"
egress = "out"

[[port]]
name = "out"
device = "net_af_packet1,iface=r-out,qpairs=1"
egress = "in"
""")
    return path


def hammer(sock, stop, counts):
    """Garbage at the control socket until `stop` is set."""
    junk = [b"{", b"[1,2]", b'{"cmd": 5}', b'{"cmd":"agents","args":{"top":"many"}}', b"\x00\xff\xfe\xfd",
            b'{"cmd":"nosuch"}', b'{"cmd":"zone","args":{}}']
    while not stop.is_set():
        try:
            conns = []
            for _ in range(6):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(2)
                s.connect(sock)
                conns.append(s)
            conns[0].sendall(b"\n".join(junk) + b"\n")
            conns[1].sendall(b"y" * 20000)   # oversized: refused, closed
            conns[2].sendall(os.urandom(3000) + b"\n")
            got = conns[0].recv(65536)
            counts["replies"] += got.count(b"\n")
            for s in conns:
                s.close()
            counts["rounds"] += 1
        except OSError:
            counts["errors"] += 1
        time.sleep(0.02)


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces)")
        return SKIP
    for tool in ("ip", "ethtool", "curl", "ssh", "ssh-keygen", "node", "ss"):
        if shutil.which(tool) is None:
            print(f"SKIP: {tool} is not installed")
            return SKIP
    if not os.path.isdir(os.path.join(CLS, "mcp", "node_modules")):
        print("FAIL: tests/data/classify/mcp/node_modules is missing (tools/bootstrap runs npm ci there)")
        return 1
    routed, ctl = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="tcpr-e2e-live-")
    shutil.copy(os.path.join(ROOT, "config", "classes.toml"), os.path.join(tmp, "classes.toml"))
    sock = os.path.join(tmp, "run", "control.sock")
    procs = []

    def routectl(*args):
        r = subprocess.run([ctl, "--socket", sock] + list(args), capture_output=True, text=True, timeout=30)
        return r.returncode, r.stdout, r.stderr

    try:
        setup()
        # Servers.
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{tmp}/host_key")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{tmp}/agent_key")
        shutil.copy(f"{tmp}/agent_key.pub", f"{tmp}/authorized_keys")
        with open(f"{tmp}/sshd_config", "w") as f:
            f.write(f"Port 22\nListenAddress {SRV}\nHostKey {tmp}/host_key\nPidFile {tmp}/sshd.pid\n"
                    f"AuthorizedKeysFile {tmp}/authorized_keys\nPermitRootLogin prohibit-password\n"
                    "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nUseDNS no\nStrictModes no\n")
        log = open(os.path.join(tmp, "servers.log"), "w")
        procs.append(subprocess.Popen(["ip", "netns", "exec", NSRV, "/usr/bin/python3", os.path.join(CLS, "llm_mock.py"),
                                       f"{SRV}:8080"], stdout=log, stderr=log))
        procs.append(subprocess.Popen(["ip", "netns", "exec", NSRV, "node", os.path.join(CLS, "mcp", "server.mjs"), SRV, "3000"],
                                      stdout=log, stderr=log))
        # sshd wants /run/sshd: a tmpfs in its own mount namespace.
        procs.append(subprocess.Popen(["ip", "netns", "exec", NSRV, "unshare", "-m", "sh", "-c",
                                       'mount -t tmpfs tcpr-e2e-run /run && mkdir -m 755 /run/sshd && '
                                       'exec timeout 300 /usr/sbin/sshd -D -e -f "$1"', "sh", f"{tmp}/sshd_config"],
                                      stdout=log, stderr=log))
        for port in (8080, 3000, 22):
            check(wait_listen(port), f"server listening on :{port}")
        # tcp-routed in its namespace.
        rlog = open(os.path.join(tmp, "tcp-routed.log"), "w")
        routed_p = subprocess.Popen(["ip", "netns", "exec", RT, routed, "--config", write_config(tmp)], stdout=rlog,
                                    stderr=subprocess.STDOUT)
        procs.append(routed_p)
        end = time.time() + 30
        while not os.path.exists(sock) and time.time() < end and routed_p.poll() is None:
            time.sleep(0.1)
        check(os.path.exists(sock), "tcp-routed serves its control socket")
        if not os.path.exists(sock):
            return 1

        # 1. Real clients through the appliance.
        for name, ns in (("a1", NA1), ("a2", NA2)):
            ok_llm = False
            for _ in range(10):   # the first call also waits for ARP through the bridge
                ok_llm = llm_call(ns, 3.0)
                if ok_llm:
                    break
            check(ok_llm, f"{name}: curl chat completion through tcp-routed")
            check(mcp_session(ns, tmp), f"{name}: MCP session (official SDK client)")
            check(ssh_true(ns, f"{tmp}/agent_key"), f"{name}: ssh true")
        rc, out, _ = routectl("--json", "status")
        check(rc == 0 and '"rx"' in out, "status answers while traffic flows")
        rc, out, _ = routectl("--json", "flows", "--agent", A2)
        flows = json.loads(out)["flows"] if rc == 0 else []
        classes = {f["class"] for f in flows}
        check({"llm.api", "mcp", "ssh"} <= classes, f"flows of a2 show its LLM, MCP and ssh flows ({sorted(classes)})")

        # 2. Operator isolation, within one tick.
        rc, out, err = routectl("zone", "set", A1, "ISOLATED")
        check(rc == 0, f"zone set {A1} ISOLATED: {out.strip()} {err.strip()}")
        time.sleep(0.15)   # 1.5 ticks of 0.1 s
        check(not llm_call(NA1, 1.0), "a1 is cut off within one tick")
        check(llm_call(NA2, 2.0), "a2 keeps working")
        rc, out, _ = routectl("agent", A1)
        check(rc == 0 and "zone ISOLATED" in out and "operator pin" in out, "agent shows ISOLATED and the pin's event")
        rc, out, _ = routectl("stats")
        check(rc == 0 and "zone_isolated" in out, "stats count the isolated agent's drops")

        # 3. Release.
        rc, _, _ = routectl("release", A1)
        check(rc == 0, "release")
        time.sleep(0.25)
        check(any(llm_call(NA1, 2.0) for _ in range(3)), "a1 works again after release")

        # 4. A broken classes file is refused; traffic continues.
        with open(os.path.join(tmp, "classes.toml"), "a") as f:
            f.write("\n[[class]]\nname = \n")
        rc, _, err = routectl("reload")
        check(rc == 1 and "classes.toml" in err, f"reload of a broken file refused: {err.strip()}")
        check(llm_call(NA1, 2.0) and llm_call(NA2, 2.0), "traffic continues after the refused reload")

        # 5. Garbage at the socket while a2 works: nothing lost.
        stop = threading.Event()
        counts = {"rounds": 0, "replies": 0, "errors": 0}
        t = threading.Thread(target=hammer, args=(sock, stop, counts))
        t.start()
        answered = sum(1 for _ in range(40) if llm_call(NA2, 3.0))
        stop.set()
        t.join(timeout=30)
        check(counts["rounds"] > 5 and counts["replies"] > 0, f"the socket was hammered ({counts})")
        check(answered == 40, f"every one of a2's 40 requests answered during the hammering ({answered})")
        rc, out, _ = routectl("--json", "stats")
        check(rc == 0 and '"oversized"' in out, "the daemon answers after the hammering")
        # The control thread kept its ticks through all of it (10 a second; a stall would show).
        stats = json.loads(out)
        rc, out, _ = routectl("--json", "status")
        status = json.loads(out)
        expected = (status["uptime_s"] - 1.0) / status["tick_s"]
        check(stats["behavior"]["ticks"] >= 0.9 * expected,
              f"ticks kept pace: {stats['behavior']['ticks']} in {status['uptime_s']:.1f} s (expected about {expected:.0f})")
        check(routed_p.poll() is None, "tcp-routed is still running")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        time.sleep(0.5)
        teardown(procs)
        try:
            with open(os.path.join(tmp, "tcp-routed.log")) as f:
                print(f.read()[-3000:])
        except OSError:
            pass
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    rc = main()
    print(f"{len(failures)} failure(s)")
    sys.exit(rc)
