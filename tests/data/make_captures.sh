#!/usr/bin/env bash
# make_captures.sh — regenerate the real-program captures in tests/data/ (root, Linux, netns).
#
# Builds two network namespaces joined by a veth pair and records, with tcpdump in the server
# namespace, what real clients and servers put on the wire:
#
#     tcpr-cap-cli-PID                          tcpr-cap-srv-PID
#     [ curl, openssl s_client, ssh, dig ]      [ python http server, openssl s_server,
#     veth tcprc0 10.99.0.1/24 fd99::1/64 ───── veth tcprs0 10.99.0.2/24 fd99::2/64 ]
#                                                 tcpdump --immediate-mode -i tcprs0 -s 0 -U -w FILE
#
#   curl_http.pcap    3 HTTP/1.x connections to :8080 (IPv4 GET, IPv4 POST with JSON, IPv6 GET)
#   openssl_tls.pcap  1 TLS connection to :4433, SNI api.openai.com, one line each way
#   ssh.pcap          1 SSH connection to :2222 (key exchange, then auth fails: expected)
#   dns.pcap          dnsmasq on :53; UDP A, UDP AAAA, TCP A for api.openai.com (answers
#                     10.99.0.50 and fd99::50)
#   mixed.pcap        the four above merged by timestamp (mergecap -F pcap)
#
# Derived bad captures (no root needed; `--derived-only` rebuilds just these from curl_http.pcap):
#   truncated.pcap    curl_http.pcap cut in the middle of the data of its 6th record
#   curl_http.pcapng  curl_http.pcap rewritten as pcapng (editcap -F pcapng)
#   rawip.pcap        curl_http.pcap without Ethernet headers, link type RAW (101)
#
# Only TCP/UDP of the service under test is in a capture: neighbours are static (no ARP/NDP), RS
# and DAD are off, and each tcpdump has a port filter (so no MLD or other stray frames either).
# Offloads are off on both veth ends, so tcpdump sees wire-sized frames with real checksums.
#
# Nothing outside the namespaces is touched: no route in the root namespace, no eth0, no file
# outside tests/data/ and a mktemp directory (captures are made there and replace the committed
# ones only when every step succeeded); sshd's /run/sshd lives on a tmpfs in a private
# mount namespace. The EXIT trap kills what was started, by PID, and deletes the namespaces.
# CI does not run this script: the resulting .pcap files are committed.
set -euo pipefail

OUT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=/usr/bin/python3

derive_bad_captures() {
  local src="$OUT_DIR/curl_http.pcap"
  [[ -s "$src" ]] || { echo "make_captures: $src missing; run as root first" >&2; exit 1; }
  # Cut inside the 6th record's data: 24-byte file header, then 16-byte record headers.
  "$PY" - "$src" "$OUT_DIR/truncated.pcap" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
off = 24
for _ in range(5):
    incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
    off += 16 + incl
incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
assert incl > 2, incl
open(sys.argv[2], "wb").write(data[:off + 16 + incl // 2])
EOF
  editcap -F pcapng "$src" "$OUT_DIR/curl_http.pcapng"
  # -C 14 chops the Ethernet header off every frame; -T rawip labels the file LINKTYPE_RAW.
  editcap -F pcap -C 14 -T rawip "$src" "$OUT_DIR/rawip.pcap"
}

if [[ "${1:-}" == "--derived-only" ]]; then
  derive_bad_captures
  exit 0
fi

[[ $EUID -eq 0 ]] || { echo "make_captures: must run as root" >&2; exit 1; }
for tool in ip ethtool tcpdump mergecap editcap curl openssl /usr/sbin/sshd ssh ssh-keygen \
            dnsmasq dig timeout unshare; do
  command -v "$tool" >/dev/null || { echo "make_captures: missing $tool" >&2; exit 1; }
done

NS_C="tcpr-cap-cli-$$"
NS_S="tcpr-cap-srv-$$"
IF_C=tcprc0
IF_S=tcprs0
MAC_C=02:00:0a:63:00:01
MAC_S=02:00:0a:63:00:02
TMP="$(mktemp -d /tmp/tcpr-cap.XXXXXX)"
CAP_DIR="$TMP/captures"  # moved into tests/data/ at the very end
PIDS=()

cleanup() {
  local rc=$?
  set +e
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  ip netns del "$NS_C" 2>/dev/null
  ip netns del "$NS_S" 2>/dev/null
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_c() { ip netns exec "$NS_C" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }

# Wait (bounded) until something listens on PROTO PORT in the server namespace. Polls ss rather
# than connecting, so the probe leaves no packets in a capture.
wait_listen() {
  local proto=$1 port=$2
  for _ in $(seq 1 100); do
    if in_s ss -Hln"${proto:0:1}" "sport = :$port" | grep -q .; then return 0; fi
    sleep 0.1
  done
  echo "make_captures: nothing listening on $proto/$port" >&2
  exit 1
}

# start_capture FILE FILTER: tcpdump in the server namespace; sets CAP_PID once it is listening.
start_capture() {
  local file=$1 filter=$2
  rm -f "$file"
  # --immediate-mode: with TPACKET_V3 a SIGINT would otherwise lose the last partly filled
  # block; -Z root: the file stays root's like the rest of the tree.
  ip netns exec "$NS_S" timeout 60 tcpdump -n --immediate-mode -Z root -i "$IF_S" -s 0 -U \
    -w "$file" "$filter" 2>"$TMP/tcpdump.err" &
  CAP_PID=$!
  PIDS+=("$CAP_PID")
  for _ in $(seq 1 100); do
    grep -q "listening on" "$TMP/tcpdump.err" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "make_captures: tcpdump did not start: $(cat "$TMP/tcpdump.err")" >&2
  exit 1
}

stop_capture() {
  sleep 1  # let the last ACK of a teardown reach the wire
  kill -INT "$CAP_PID"
  wait "$CAP_PID" || true
  cat "$TMP/tcpdump.err" >&2
}

stop_pid() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# --- namespaces, veth, addresses ----------------------------------------------------------------
mkdir "$CAP_DIR"
ip netns add "$NS_C"
ip netns add "$NS_S"
for ns in "$NS_C" "$NS_S"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_ra=0 \
    net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.default.dad_transmits=0
  ip -n "$ns" link set lo up
done
ip -n "$NS_C" link add "$IF_C" address "$MAC_C" type veth \
  peer name "$IF_S" address "$MAC_S" netns "$NS_S"
in_c ethtool -K "$IF_C" tso off gso off gro off tx off rx off >/dev/null
in_s ethtool -K "$IF_S" tso off gso off gro off tx off rx off >/dev/null
ip -n "$NS_C" addr add 10.99.0.1/24 dev "$IF_C"
ip -n "$NS_S" addr add 10.99.0.2/24 dev "$IF_S"
ip -n "$NS_C" -6 addr add fd99::1/64 dev "$IF_C" nodad
ip -n "$NS_S" -6 addr add fd99::2/64 dev "$IF_S" nodad
ip -n "$NS_C" link set "$IF_C" up
ip -n "$NS_S" link set "$IF_S" up
# Static neighbours: no ARP or neighbour discovery in any capture.
ip -n "$NS_C" neigh replace 10.99.0.2 lladdr "$MAC_S" dev "$IF_C" nud permanent
ip -n "$NS_C" neigh replace fd99::2 lladdr "$MAC_S" dev "$IF_C" nud permanent
ip -n "$NS_S" neigh replace 10.99.0.1 lladdr "$MAC_C" dev "$IF_S" nud permanent
ip -n "$NS_S" neigh replace fd99::1 lladdr "$MAC_C" dev "$IF_S" nud permanent
sleep 2  # let link-up MLD reports go by (they are filtered out anyway)

# Clients must not pick up proxies or agents from the caller's environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY \
  SSH_AUTH_SOCK

# --- curl_http.pcap -----------------------------------------------------------------------------
cat >"$TMP/http_server.py" <<'EOF'
# Tiny HTTP/1.0 server, dual-stack on [::]:8080: GET → JSON, POST → echoes the body length.
import json, socket, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def _reply(self, obj):
        body = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._reply({"object": "list", "path": self.path})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        req = json.loads(self.rfile.read(n) or b"{}")
        self._reply({"id": "chatcmpl-1", "object": "chat.completion", "model": req.get("model"),
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}]})

    def log_message(self, fmt, *args):
        sys.stderr.write("http_server: " + fmt % args + "\n")

class DualStack(HTTPServer):
    address_family = socket.AF_INET6
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()

DualStack(("::", 8080), Handler).serve_forever()
EOF
ip netns exec "$NS_S" timeout 120 "$PY" "$TMP/http_server.py" 2>"$TMP/http_server.log" &
HTTP_PID=$!
PIDS+=("$HTTP_PID")
wait_listen tcp 8080
start_capture "$CAP_DIR/curl_http.pcap" "tcp port 8080"
in_c timeout 10 curl -sS --noproxy '*' -o /dev/null http://10.99.0.2:8080/v1/models
in_c timeout 10 curl -sS --noproxy '*' -o /dev/null -X POST \
  -H 'Content-Type: application/json' \
  --data '{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}' \
  http://10.99.0.2:8080/v1/chat/completions
in_c timeout 10 curl -sS --noproxy '*' -o /dev/null -g 'http://[fd99::2]:8080/'
stop_capture
stop_pid "$HTTP_PID"
cat "$TMP/http_server.log" >&2

# --- openssl_tls.pcap ---------------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=api.openai.com -keyout "$TMP/tls.key" -out "$TMP/tls.crt" 2>/dev/null
# -rev: answer each line reversed (no stdin needed); -naccept 1: exit after one connection.
ip netns exec "$NS_S" timeout 60 openssl s_server -accept 10.99.0.2:4433 \
  -cert "$TMP/tls.crt" -key "$TMP/tls.key" -naccept 1 -rev </dev/null >"$TMP/s_server.log" 2>&1 &
TLS_PID=$!
PIDS+=("$TLS_PID")
wait_listen tcp 4433
start_capture "$CAP_DIR/openssl_tls.pcap" "tcp port 4433"
# One line, a second for the reply, then EOF: s_client sends close_notify and closes.
{ printf 'hello from agent\n'; sleep 1; } |
  in_c timeout 10 openssl s_client -connect 10.99.0.2:4433 -servername api.openai.com \
    >"$TMP/s_client.log" 2>&1
stop_capture
stop_pid "$TLS_PID"
grep -q "tnega morf olleh" "$TMP/s_client.log" || { cat "$TMP/s_client.log" >&2; exit 1; }

# --- ssh.pcap -----------------------------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -f "$TMP/ssh_host_ed25519_key"
cat >"$TMP/sshd_config" <<EOF
Port 2222
ListenAddress 10.99.0.2
HostKey $TMP/ssh_host_ed25519_key
PidFile $TMP/sshd.pid
AuthorizedKeysFile none
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
StrictModes no
EOF
# sshd insists on /run/sshd; give it one on a tmpfs in its own mount namespace.
# shellcheck disable=SC2016  # $1 is expanded by the inner sh
ip netns exec "$NS_S" unshare -m sh -c 'mount -t tmpfs tcpr-cap-run /run &&
  mkdir -m 755 /run/sshd && exec timeout 60 /usr/sbin/sshd -D -e -f "$1"' \
  sh "$TMP/sshd_config" 2>"$TMP/sshd.log" &
SSHD_PID=$!
PIDS+=("$SSHD_PID")
wait_listen tcp 2222
start_capture "$CAP_DIR/ssh.pcap" "tcp port 2222"
in_c timeout 15 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
  -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=5 \
  -p 2222 10.99.0.2 true 2>"$TMP/ssh.log" &&
  { echo "make_captures: ssh login succeeded?" >&2; exit 1; }
grep -q "Permission denied" "$TMP/ssh.log" || { cat "$TMP/ssh.log" "$TMP/sshd.log" >&2; exit 1; }
stop_capture
stop_pid "$SSHD_PID"

# --- dns.pcap -----------------------------------------------------------------------------------
ip netns exec "$NS_S" timeout 60 dnsmasq --conf-file=/dev/null --no-daemon --no-resolv --no-hosts \
  --listen-address=10.99.0.2 --bind-interfaces --address=/api.openai.com/10.99.0.50 \
  --address=/api.openai.com/fd99::50 --port 53 \
  --pid-file="$TMP/dnsmasq.pid" --dhcp-leasefile="$TMP/dnsmasq.leases" --log-queries \
  2>"$TMP/dnsmasq.log" &
DNS_PID=$!
PIDS+=("$DNS_PID")
wait_listen udp 53
wait_listen tcp 53
start_capture "$CAP_DIR/dns.pcap" "port 53"
in_c timeout 10 dig @10.99.0.2 api.openai.com A +tries=1 +time=3 >"$TMP/dig.log"
in_c timeout 10 dig @10.99.0.2 api.openai.com AAAA +tries=1 +time=3 >>"$TMP/dig.log"
in_c timeout 10 dig +tcp @10.99.0.2 api.openai.com A +tries=1 +time=3 >>"$TMP/dig.log"
[[ $(grep -c "IN[[:space:]]*A[[:space:]]*10.99.0.50" "$TMP/dig.log") -eq 2 &&
   $(grep -c "IN[[:space:]]*AAAA[[:space:]]*fd99::50" "$TMP/dig.log") -eq 1 ]] ||
  { cat "$TMP/dig.log" >&2; exit 1; }
stop_capture
stop_pid "$DNS_PID"

# --- mixed.pcap ---------------------------------------------------------------------------------
mergecap -F pcap -w "$CAP_DIR/mixed.pcap" "$CAP_DIR/curl_http.pcap" "$CAP_DIR/openssl_tls.pcap" \
  "$CAP_DIR/ssh.pcap" "$CAP_DIR/dns.pcap"

# Only a complete run replaces the committed captures.
chmod 644 "$CAP_DIR"/*.pcap
mv "$CAP_DIR"/*.pcap "$OUT_DIR"/

derive_bad_captures
ls -l "$OUT_DIR"/*.pcap "$OUT_DIR"/*.pcapng
