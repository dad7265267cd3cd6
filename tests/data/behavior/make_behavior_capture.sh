#!/usr/bin/env bash
# make_behavior_capture.sh — real programs behaving normally, then some of them anomalously, seen
# from the appliance's capture point; writes real_agents.pcap and real_agents.pcap.agents.jsonl
# next to this script (root, Linux, netns; about a minute).
#
#   tcpr-beh-aNN-PID (NN = 11..20)    tcpr-beh-br-PID      tcpr-beh-srv-PID
#   [ agent.py: curl, dig, nmap,      [ bridge br0 ]       [ dnsmasq         10.77.2.2:53
#     hping3, ssh ]                     │                    llm_mock.py     10.77.2.10:8080
#     a0 10.77.1.NN/24 ───────── bNN ───┤                    mcp/server.mjs  10.77.2.11:3000
#     route 10.77.2.0/24 dev a0         │                    web_mock.py     10.77.2.13:8081
#                                       │                                    10.77.2.14:8081
#     tcpdump -i br0 -s 0 (in br ns) ─▶ │                    sshd :22 on all 20 addresses ]
#                                       └── bsrv ─────────── s0 10.77.2.1-20/24
#                                                            route 10.77.1.0/24 dev s0
#
# Both /24s are on the one bridge with on-link routes (no router, no default route). tcpdump
# runs on the bridge itself: in promiscuous mode a Linux bridge passes up every frame entering a
# port, so each agent↔server (and agent↔agent) frame is captured exactly once, Ethernet, full
# length. Offloads are off on every veth end (wire-sized frames, real checksums); IPv6 is off in
# every namespace and neighbours are static, so the capture holds IPv4 between 10.77.x.x only.
#
# For ~40 s every agent (agent.py) does ordinary work at random intervals: LLM API calls (curl
# POST, Authorization: Bearer sk-…) to ../classify/llm_mock.py, MCP tools/call in a Streamable
# HTTP session (curl POST /mcp) to ../classify/mcp/server.mjs (the official TypeScript SDK), dig
# to dnsmasq. Five agents also misbehave from their onset on (seconds after t0):
#   10.77.1.12  port_scan    20.0  nmap -sS, ports 1-300 of 10.77.2.1-8, --max-rate 500
#   10.77.1.14  syn_flood    22.5  hping3 -S -p 80 -i u500 -c 4000 10.77.2.10
#   10.77.1.16  secret_leak  25.0  one curl POST of an AWS key pair + RSA private key (PEM, made
#                                  by openssl for this run) to web_mock 10.77.2.14:8081
#   10.77.1.18  beacon       27.5  curl GET every 200 ms, 55 times, to web_mock 10.77.2.13:8081
#   10.77.1.20  lateral      30.0  ssh (throwaway key, BatchMode) `true` on 10.77.2.1-16 in turn
# 10.77.1.11, .13, .15, .17, .19 stay normal. label_behavior.py then finds each onset in the
# capture (the first packet of the anomaly), checks the capture (see its docstring) and writes the
# labels: {"agent", "role": "normal"|"anomalous", "kind", "onset": capture seconds | null}.
#
# Nothing outside the namespaces is touched: no route or link in the root namespace, no eth0, no
# file outside tests/data/behavior/ and a mktemp directory (the capture replaces the committed one
# only when every step succeeded); sshd's /run/sshd lives on a tmpfs in a private mount namespace.
# Every program runs under `timeout`; the EXIT trap kills what was started, by PID, and deletes
# the namespaces. TCPR_KEEP_TMP=1 keeps the work directory (plan, agent and server logs).
# Needs: iproute2 ethtool tcpdump tshark curl dig dnsmasq node (npm ci in ../classify/mcp)
# openssl ssh sshd nmap hping3. CI does not run this script: the outputs are committed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLS="$(cd "$HERE/../classify" && pwd)"
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
NAME=real_agents
DURATION=40        # seconds of agent activity after t0
NORMAL_UNTIL=38.5  # ordinary work stops being started after t0 + this
MAX_BYTES=$((15 * 1024 * 1024))

[[ $EUID -eq 0 ]] || { echo "make_behavior_capture: must run as root" >&2; exit 1; }
for tool in ip ethtool tcpdump tshark curl dig dnsmasq node openssl ssh ssh-keygen /usr/sbin/sshd \
            nmap hping3 timeout unshare; do
  command -v "$tool" >/dev/null || { echo "make_behavior_capture: missing $tool" >&2; exit 1; }
done
[[ -d "$CLS/mcp/node_modules/@modelcontextprotocol/sdk" ]] ||
  { echo "make_behavior_capture: run 'npm ci' in $CLS/mcp first" >&2; exit 1; }

AGENT_IDS=(11 12 13 14 15 16 17 18 19 20)
declare -A KIND=([12]=port_scan [14]=syn_flood [16]=secret_leak [18]=beacon [20]=lateral)
declare -A ONSET=([12]=20.0 [14]=22.5 [16]=25.0 [18]=27.5 [20]=30.0)
SRV_IPS=()
for i in $(seq 1 20); do SRV_IPS+=("10.77.2.$i"); done
SRV_MAC=02:00:0a:4d:02:01
NS_BR="tcpr-beh-br-$$"
NS_S="tcpr-beh-srv-$$"
ns_a() { echo "tcpr-beh-a$1-$$"; }
mac_a() { printf '02:00:0a:4d:01:%02x' "$1"; }
TMP="$(mktemp -d /tmp/tcpr-beh.XXXXXX)"
PIDS=()
NAMESPACES=()

cleanup() {
  local rc=$? pid ns
  set +e
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if [[ $rc -ne 0 ]]; then
    echo "make_behavior_capture: failed; logs:" >&2
    tail -n 20 "$TMP"/*.log >&2 2>/dev/null
  fi
  if [[ "${TCPR_KEEP_TMP:-}" == 1 ]]; then
    echo "make_behavior_capture: kept $TMP" >&2
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_s() { ip netns exec "$NS_S" "$@"; }

new_ns() {
  ip netns add "$1"
  NAMESPACES+=("$1")
  # IPv4 only: no IPv6 link-local, MLD or router solicitation can reach the capture.
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
  ip -n "$1" link set lo up
}

# veth NS IF MAC BRIF: a veth pair from NS (IF, MAC) to the bridge namespace (BRIF), offloads off
# on both ends, BRIF enslaved to br0 and up.
veth() {
  local ns=$1 ifname=$2 mac=$3 brif=$4
  ip -n "$ns" link add "$ifname" address "$mac" type veth peer name "$brif" netns "$NS_BR"
  ip netns exec "$ns" ethtool -K "$ifname" tso off gso off gro off tx off rx off >/dev/null
  ip netns exec "$NS_BR" ethtool -K "$brif" tso off gso off gro off tx off rx off >/dev/null
  ip -n "$NS_BR" link set "$brif" master br0 up
  ip -n "$ns" link set "$ifname" up
}

wait_listen() {  # PROTO PORT: bounded wait until something listens in the server namespace
  local proto=$1 port=$2
  for _ in $(seq 1 100); do
    if in_s ss -Hln"${proto:0:1}" "sport = :$port" | grep -q .; then return 0; fi
    sleep 0.1
  done
  echo "make_behavior_capture: nothing listening on $proto/$port" >&2
  exit 1
}

start_srv() {  # NAME CMD...: a server in the server namespace, under timeout, logging to NAME.log
  local name=$1
  shift
  ip netns exec "$NS_S" timeout 300 "$@" >"$TMP/$name.log" 2>&1 &
  PIDS+=("$!")
}

SECONDS=0

# --- namespaces, bridge, veths, addresses ---------------------------------------------------------
new_ns "$NS_BR"
ip -n "$NS_BR" link add br0 type bridge stp_state 0 mcast_snooping 0
ip -n "$NS_BR" link set br0 up
new_ns "$NS_S"
veth "$NS_S" s0 "$SRV_MAC" bsrv
for ip in "${SRV_IPS[@]}"; do echo "addr add $ip/24 dev s0"; done | ip -n "$NS_S" -batch -
ip -n "$NS_S" route add 10.77.1.0/24 dev s0
for id in "${AGENT_IDS[@]}"; do
  ns=$(ns_a "$id")
  new_ns "$ns"
  veth "$ns" a0 "$(mac_a "$id")" "b$id"
  ip -n "$ns" addr add "10.77.1.$id/24" dev a0
  ip -n "$ns" route add 10.77.2.0/24 dev a0
  # Static neighbours both ways: no ARP in the capture.
  for ip in "${SRV_IPS[@]}"; do
    echo "neigh replace $ip lladdr $SRV_MAC dev a0 nud permanent"
  done | ip -n "$ns" -batch -
  ip -n "$NS_S" neigh replace "10.77.1.$id" lladdr "$(mac_a "$id")" dev s0 nud permanent
done

# Clients must not pick up proxies or agents from the caller's environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY \
  SSH_AUTH_SOCK

# --- throwaway keys: sshd's host key, the lateral agent's key, the leaked secret -----------
ssh-keygen -q -t ed25519 -N '' -C tcpr-beh-host -f "$TMP/ssh_host_ed25519_key"
ssh-keygen -q -t ed25519 -N '' -C tcpr-beh-agent -f "$TMP/agent_ed25519"
cp "$TMP/agent_ed25519.pub" "$TMP/authorized_keys"
# openssl 3 writes PKCS#8 ("BEGIN PRIVATE KEY") unless asked for the traditional RSA form.
openssl genrsa -traditional 2048 2>/dev/null >"$TMP/leak_rsa.pem"
grep -q -- "-----BEGIN RSA PRIVATE KEY-----" "$TMP/leak_rsa.pem"
read -r KEY_ID AWS_SECRET < <("$PY" -c '
import secrets, string
b32 = string.ascii_uppercase + "234567"
b64 = string.ascii_letters + string.digits + "/+"
print("AKIA" + "".join(secrets.choice(b32) for _ in range(16)),
      "".join(secrets.choice(b64) for _ in range(40)))')
{
  printf '# backup of ~/.aws/credentials and ~/.ssh/id_rsa from build-agent-16\n'
  printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\nregion = eu-west-1\n\n' \
    "$KEY_ID" "$AWS_SECRET"
  cat "$TMP/leak_rsa.pem"
} >"$TMP/leak_body.txt"

# --- servers ------------------------------------------------------------------------------------
start_srv dnsmasq dnsmasq --conf-file=/dev/null --no-daemon --no-resolv --no-hosts \
  --listen-address=10.77.2.2 --bind-interfaces --port 53 \
  --address=/api.llm.test/10.77.2.10 --address=/mcp.tools.test/10.77.2.11 \
  --address=/docs.internal.test/10.77.2.12 --address=/updates.cdn.test/10.77.2.13 \
  --address=/paste.files.test/10.77.2.14 \
  --pid-file="$TMP/dnsmasq.pid" --dhcp-leasefile="$TMP/dnsmasq.leases"
start_srv llm "$PY" "$CLS/llm_mock.py" 10.77.2.10:8080
start_srv mcp node "$CLS/mcp/server.mjs" 10.77.2.11 3000
start_srv web "$PY" "$CLS/web_mock.py" 10.77.2.13:8081 10.77.2.14:8081
cat >"$TMP/sshd_config" <<EOF
Port 22
ListenAddress 0.0.0.0
HostKey $TMP/ssh_host_ed25519_key
PidFile $TMP/sshd.pid
AuthorizedKeysFile $TMP/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
StrictModes no
MaxStartups 100:30:200
EOF
# sshd insists on /run/sshd; give it one on a tmpfs in its own mount namespace.
# shellcheck disable=SC2016  # $1 is expanded by the inner sh
ip netns exec "$NS_S" unshare -m sh -c 'mount -t tmpfs tcpr-beh-run /run &&
  mkdir -m 755 /run/sshd && exec timeout 300 /usr/sbin/sshd -D -e -f "$1"' \
  sh "$TMP/sshd_config" >"$TMP/sshd.log" 2>&1 &
PIDS+=("$!")
wait_listen udp 53
wait_listen tcp 8080
wait_listen tcp 3000
wait_listen tcp 8081
wait_listen tcp 22

# --- capture ------------------------------------------------------------------------------------
# -B: a 64 MiB kernel buffer, so the SYN flood and the scan are not dropped; --immediate-mode:
# with TPACKET_V3 a SIGINT would otherwise lose the last partly filled block.
ip netns exec "$NS_BR" timeout 300 tcpdump -n --immediate-mode -Z root -i br0 -s 0 -B 65536 -U \
  -w "$TMP/$NAME.pcap" 2>"$TMP/tcpdump.log" &
CAP_PID=$!
PIDS+=("$CAP_PID")
for _ in $(seq 1 100); do
  grep -q "listening on" "$TMP/tcpdump.log" && break
  sleep 0.1
done
grep -q "listening on" "$TMP/tcpdump.log" ||
  { echo "make_behavior_capture: tcpdump did not start" >&2; exit 1; }

# --- the plan, then the agents --------------------------------------------------------------------
T0=$("$PY" -c 'import time; print(f"{time.time() + 2.0:.6f}")')
kinds=""
for id in "${AGENT_IDS[@]}"; do kinds+="$id=${KIND[$id]:-}:${ONSET[$id]:-} "; done
"$PY" - "$TMP/plan.json" "$T0" "$DURATION" "$NORMAL_UNTIL" "$kinds" "$TMP" "$KEY_ID" <<'EOF'
import json, secrets, string, sys
out, t0, duration, normal_until, kinds, tmp, key_id = sys.argv[1:]
alnum = string.ascii_letters + string.digits
llm = {"host": "api.llm.test", "ip": "10.77.2.10", "port": 8080}
web = lambda host, ip: {"host": host, "ip": ip, "port": 8081}  # noqa: E731
anomaly = {
    "port_scan": {"dev": "a0", "targets": "10.77.2.1-8", "ports": "1-300", "max_rate": 500},
    "syn_flood": {"dev": "a0", "target": "10.77.2.10", "port": 80, "interval": "u500",
                  "count": 4000},
    "secret_leak": dict(web("paste.files.test", "10.77.2.14"), key_id=key_id,
                        body_file=f"{tmp}/leak_body.txt",
                        url="http://paste.files.test:8081/api/v1/pastes"),
    "beacon": dict(web("updates.cdn.test", "10.77.2.13"), period=0.2, count=55,
                   url="http://updates.cdn.test:8081/v1/checkin?host=build-agent-18"),
    "lateral": {"user": "root", "key": f"{tmp}/agent_ed25519",
                "hosts": [f"10.77.2.{i}" for i in range(1, 17)]},
}
agents = {}
for item in kinds.split():
    aid, rest = item.split("=")
    kind, onset = rest.split(":")
    agents[f"10.77.1.{aid}"] = {
        "seed": int(aid), "kind": kind or None, "onset": float(onset) if onset else None,
        "anomaly": anomaly.get(kind),
        "api_key": "sk-proj-" + "".join(secrets.choice(alnum) for _ in range(48))}
plan = {"t0": float(t0), "duration": float(duration), "normal_until": float(normal_until),
        "services": {"dns": "10.77.2.2", "llm": llm,
                     "mcp": {"host": "mcp.tools.test", "ip": "10.77.2.11", "port": 3000},
                     "names": {"api.llm.test": "10.77.2.10", "mcp.tools.test": "10.77.2.11",
                               "docs.internal.test": "10.77.2.12"}},
        "agents": agents}
json.dump(plan, open(out, "w"), indent=1)
EOF

AGENT_PIDS=()
for id in "${AGENT_IDS[@]}"; do
  ip netns exec "$(ns_a "$id")" timeout $((DURATION + 40)) "$PY" "$HERE/agent.py" "$TMP/plan.json" \
    "10.77.1.$id" "$TMP/agent-$id.run" >"$TMP/agent-$id.log" 2>&1 &
  PIDS+=("$!")
  AGENT_PIDS+=("$!")
done
echo "make_behavior_capture: 10 agents running until t0+${DURATION}s (t0 = $T0)" >&2
failed=0
for i in "${!AGENT_PIDS[@]}"; do
  wait "${AGENT_PIDS[$i]}" ||
    { echo "make_behavior_capture: agent 10.77.1.${AGENT_IDS[$i]} failed (exit $?)" >&2; failed=1; }
done
sleep 1  # let the last ACK of a teardown reach the wire
kill -INT "$CAP_PID"
wait "$CAP_PID" || true
grep -v "^listening on" "$TMP/tcpdump.log" >&2 || true
grep -q "^0 packets dropped by kernel" "$TMP/tcpdump.log" ||
  { echo "make_behavior_capture: tcpdump dropped packets" >&2; exit 1; }
[[ $failed -eq 0 ]] || exit 1

# --- labels, checks -----------------------------------------------------------------------------
cat "$TMP"/agent-*.run >"$TMP/agents.run"
"$PY" - "$TMP/agents.run" <<'EOF'
import json, sys
from collections import Counter
total, failed = Counter(), Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "done":
        total.update(e["counts"])
    elif e["event"] == "fail":
        failed[e["what"]] += 1
print(f"make_behavior_capture: ordinary work done: {dict(sorted(total.items()))}; "
      f"failures: {dict(failed)}", file=sys.stderr)
ok = sum(v for k, v in total.items() if not k.endswith("_failed"))
bad = sum(v for k, v in total.items() if k.endswith("_failed"))
sys.exit(1 if bad > 0.02 * (ok + bad) else 0)
EOF
"$PY" "$HERE/label_behavior.py" "$TMP/$NAME.pcap" "$TMP/plan.json" "$TMP/agents.run" \
  "$TMP/$NAME.pcap.agents.jsonl"
size=$(stat -c %s "$TMP/$NAME.pcap")
[[ $size -lt $MAX_BYTES ]] ||
  { echo "make_behavior_capture: $NAME.pcap is $size bytes (limit $MAX_BYTES)" >&2; exit 1; }

# Only a complete run replaces the committed capture and labels.
chmod 644 "$TMP/$NAME.pcap" "$TMP/$NAME.pcap.agents.jsonl"
mv "$TMP/$NAME.pcap" "$TMP/$NAME.pcap.agents.jsonl" "$HERE"/
echo "make_behavior_capture: done in ${SECONDS}s; $size bytes" >&2
cat "$HERE/$NAME.pcap.agents.jsonl"
