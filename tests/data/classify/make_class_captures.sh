#!/usr/bin/env bash
# make_class_captures.sh — ground truth for the content classifier: captures of real programs, and
# one label per conversation that says what the program sent (root, Linux, netns).
#
#   make_class_captures.sh [NAME...]        make the listed captures (default: all nine below)
#   make_class_captures.sh --existing-labels  only (re)write ../ssh.pcap.labels.jsonl and
#                                           ../dns.pcap.labels.jsonl (no root needed)
#   TCPR_KEEP_TMP=1 keeps the work directory (captures, run logs, server logs) for a post-mortem.
#
#     tcpr-cls-cli-PID                               tcpr-cls-srv-PID
#     [ curl, python clients, openssl s_client,      [ llm_mock.py :8080 :11434, web_mock.py :8081,
#       node MCP SDK client, grpcio, websockets,       a2a_mock.py :8082, mcp/server.mjs :3000,
#       nghttp, split_sender.py ]                      openssl s_server :443 (-rev) :4443 (-WWW),
#     veth tcprcls0 10.98.0.1/24 ──────────────────    grpc_echo.py :50051, nghttpd :8083,
#                                                      ws_echo.py :8765 ]  veth tcprcls1 10.98.0.2/24
#                                                    tcpdump -i tcprcls1 -s 0 -U -w NAME.pcap PORTS
#
#   llm_http.pcap       curl + python http.client → llm_mock: OpenAI (chat, stream, completions,
#                       responses, embeddings), Anthropic, Gemini (one key in the URL: secret),
#                       Mistral, Groq, OpenRouter, Azure, vLLM-style, Cohere, Ollama, Bedrock
#   llm_tls.pcap        openssl s_client with 11 LLM and 6 other SNIs, curl https, python ssl
#   mcp.pcap            MCP TypeScript SDK client ↔ SDK server: Streamable HTTP and legacy SSE
#                       sessions; curl JSON-RPC batch and lone tools/call
#   a2a.pcap            agent cards, message/send, message/stream (SSE), tasks/get, tasks/cancel
#   grpc.pcap           grpcio over h2c (4 RPC kinds) + nghttp → nghttpd (HTTP/2 and h2c Upgrade)
#   websocket.pcap      python3-websockets client ↔ server, 3 connections
#   http_misc.pcap      ordinary HTTP and near misses (nothing to tag)
#   secrets_shell.pcap  every secret kind in body / URL / multipart / header, every shell kind
#   split.pcap          TLS SNI, MCP method, AKIA key, request line, `| sh` cut across segments
#
# Each NAME.pcap gets NAME.pcap.labels.jsonl (one JSON line per conversation: proto, client,
# server, class, tags, sni, host, method, path, note), written by write_labels.py from the run log
# the clients kept while they made the connections; write_labels.py refuses a capture with a
# conversation it has no label for, or a label without its conversation.
#
# Nothing outside the namespaces is touched: no route in the root namespace, no eth0, no file
# outside tests/data/classify/ and a mktemp directory (captures replace the committed ones only
# when every step succeeded). Every program runs under `timeout`; the EXIT trap kills what was
# started, by PID, and deletes the namespaces. CI does not run this script: the .pcap and
# .labels.jsonl files are committed. Needs: iproute2 ethtool tcpdump tshark curl openssl node
# (npm ci in mcp/) nghttp2-client nghttp2-server python3-grpcio python3-websockets.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DATA="$(cd "$HERE/.." && pwd)"
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ next to the committed helpers
ALL=(llm_http llm_tls mcp a2a grpc websocket http_misc secrets_shell split)
MAX_BYTES=$((300 * 1024))

# --- labels of the captures make_captures.sh made (tests/data/ssh.pcap, dns.pcap) ---------------
# Those programs picked ephemeral ports; what each connection was is known from make_captures.sh
# (one ssh login attempt to sshd :2222; dig UDP A, UDP AAAA, then TCP A to dnsmasq :53), and
# write_labels.py joins it with the capture's conversations in order.
existing_labels() {
  local tmp
  tmp="$(mktemp -d /tmp/tcpr-cls-labels.XXXXXX)"
  cat >"$tmp/ssh.run" <<'EOF'
{"kind": "conv", "proto": "tcp", "client": null, "server": "10.99.0.2:2222", "class": "ssh", "tags": [], "note": "OpenSSH ssh -> sshd (make_captures.sh): key exchange, auth refused"}
EOF
  cat >"$tmp/dns.run" <<'EOF'
{"kind": "conv", "proto": "udp", "client": null, "server": "10.99.0.2:53", "class": "dns", "tags": [], "note": "dig api.openai.com A over UDP -> dnsmasq"}
{"kind": "conv", "proto": "udp", "client": null, "server": "10.99.0.2:53", "class": "dns", "tags": [], "note": "dig api.openai.com AAAA over UDP -> dnsmasq"}
{"kind": "conv", "proto": "tcp", "client": null, "server": "10.99.0.2:53", "class": "dns", "tags": [], "note": "dig +tcp api.openai.com A -> dnsmasq"}
EOF
  "$PY" "$HERE/write_labels.py" "$DATA/ssh.pcap" "$tmp/ssh.run"
  "$PY" "$HERE/write_labels.py" "$DATA/dns.pcap" "$tmp/dns.run"
  rm -rf "$tmp"
}

if [[ "${1:-}" == "--existing-labels" ]]; then
  existing_labels
  exit 0
fi

WANT=("$@")
[[ ${#WANT[@]} -gt 0 ]] || WANT=("${ALL[@]}")
for w in "${WANT[@]}"; do
  [[ " ${ALL[*]} " == *" $w "* ]] || { echo "make_class_captures: unknown capture $w" >&2; exit 2; }
done
[[ $EUID -eq 0 ]] || { echo "make_class_captures: must run as root" >&2; exit 1; }
for tool in ip ethtool tcpdump tshark curl openssl node nghttp nghttpd timeout; do
  command -v "$tool" >/dev/null || { echo "make_class_captures: missing $tool" >&2; exit 1; }
done
[[ -d "$HERE/mcp/node_modules/@modelcontextprotocol/sdk" ]] ||
  { echo "make_class_captures: run 'npm ci' in $HERE/mcp first" >&2; exit 1; }

NS_C="tcpr-cls-cli-$$"
NS_S="tcpr-cls-srv-$$"
IF_C=tcprcls0
IF_S=tcprcls1
MAC_C=02:00:0a:62:00:01
MAC_S=02:00:0a:62:00:02
C_IP=10.98.0.1
S_IP=10.98.0.2
TMP="$(mktemp -d /tmp/tcpr-cls.XXXXXX)"
CAP_DIR="$TMP/captures"  # moved into tests/data/classify/ at the very end
PIDS=()
SRV_PIDS=()

cleanup() {
  local rc=$?
  set +e
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  ip netns del "$NS_C" 2>/dev/null
  ip netns del "$NS_S" 2>/dev/null
  if [[ $rc -ne 0 ]]; then
    echo "make_class_captures: failed; server logs:" >&2
    tail -n 20 "$TMP"/*.log >&2 2>/dev/null
  fi
  if [[ "${TCPR_KEEP_TMP:-}" == 1 ]]; then
    echo "make_class_captures: kept $TMP" >&2
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_c() { ip netns exec "$NS_C" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }

# Wait (bounded) until something listens on TCP PORT in the server namespace. Polls ss rather
# than connecting, so the probe leaves no packets in a capture.
wait_listen() {
  local port=$1
  for _ in $(seq 1 100); do
    if in_s ss -Hlnt "sport = :$port" | grep -q .; then return 0; fi
    sleep 0.1
  done
  echo "make_class_captures: nothing listening on tcp/$port" >&2
  exit 1
}

# start_srv NAME CMD...: a server in the server namespace, under timeout, logging to $TMP/NAME.log.
start_srv() {
  local name=$1
  shift
  # `ip netns exec` itself, not in_s: $! must be the process (ip execs timeout), not a subshell.
  ip netns exec "$NS_S" timeout 300 "$@" >"$TMP/$name.log" 2>&1 &
  PIDS+=("$!")
  SRV_PIDS+=("$!")
}

stop_pid() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

stop_srvs() {
  local pid
  for pid in "${SRV_PIDS[@]}"; do stop_pid "$pid"; done
  SRV_PIDS=()
}

# start_capture NAME FILTER: tcpdump in the server namespace; sets CAP_PID once it is listening.
start_capture() {
  local file="$CAP_DIR/$1.pcap" filter=$2
  : >"$TMP/tcpdump.err"
  # --immediate-mode: with TPACKET_V3 a SIGINT would otherwise lose the last partly filled
  # block; -Z root: the file stays root's like the rest of the tree.
  ip netns exec "$NS_S" timeout 300 tcpdump -n --immediate-mode -Z root -i "$IF_S" -s 0 -U -w "$file" "$filter" \
    2>"$TMP/tcpdump.err" &
  CAP_PID=$!
  PIDS+=("$CAP_PID")
  for _ in $(seq 1 100); do
    grep -q "listening on" "$TMP/tcpdump.err" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "make_class_captures: tcpdump did not start: $(cat "$TMP/tcpdump.err")" >&2
  exit 1
}

stop_capture() {
  sleep 1  # let the last ACK of a teardown reach the wire
  kill -INT "$CAP_PID"
  wait "$CAP_PID" || true
  grep -v "^listening on" "$TMP/tcpdump.err" >&2 || true
}

# finish NAME: labels from the run log, and the size limit.
finish() {
  local name=$1 size
  "$PY" "$HERE/write_labels.py" "$CAP_DIR/$name.pcap" "$TMP/$name.run"
  size=$(stat -c %s "$CAP_DIR/$name.pcap")
  [[ $size -lt $MAX_BYTES ]] ||
    { echo "make_class_captures: $name.pcap is $size bytes (limit $MAX_BYTES)" >&2; exit 1; }
}

# --- namespaces, veth, addresses ----------------------------------------------------------------
mkdir "$CAP_DIR"
ip netns add "$NS_C"
ip netns add "$NS_S"
for ns in "$NS_C" "$NS_S"; do
  # IPv4 only: no IPv6 link-local, MLD or router solicitation can reach a capture.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
  ip -n "$ns" link set lo up
done
ip -n "$NS_C" link add "$IF_C" address "$MAC_C" type veth \
  peer name "$IF_S" address "$MAC_S" netns "$NS_S"
in_c ethtool -K "$IF_C" tso off gso off gro off tx off rx off >/dev/null
in_s ethtool -K "$IF_S" tso off gso off gro off tx off rx off >/dev/null
ip -n "$NS_C" addr add "$C_IP/24" dev "$IF_C"
ip -n "$NS_S" addr add "$S_IP/24" dev "$IF_S"
ip -n "$NS_C" link set "$IF_C" up
ip -n "$NS_S" link set "$IF_S" up
# Static neighbours: no ARP in any capture.
ip -n "$NS_C" neigh replace "$S_IP" lladdr "$MAC_S" dev "$IF_C" nud permanent
ip -n "$NS_S" neigh replace "$C_IP" lladdr "$MAC_C" dev "$IF_S" nud permanent

# Clients must not pick up proxies from the caller's environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

# TLS server material and the -WWW document root.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=tcpr-mock -keyout "$TMP/tls.key" -out "$TMP/tls.crt" 2>/dev/null
mkdir -p "$TMP/www/v1" "$TMP/www/docs"
printf '{"object":"list","data":[{"id":"gpt-4o","object":"model"}]}\n' >"$TMP/www/v1/models"
printf '<!doctype html>\n<title>docs</title>\n<p>HTTP/2 docs page.</p>\n' \
  >"$TMP/www/docs/index.html"

srv_llm() {
  start_srv llm "$PY" "$HERE/llm_mock.py" "$S_IP:8080" "$S_IP:11434"
  wait_listen 8080
  wait_listen 11434
}
srv_web() { start_srv web "$PY" "$HERE/web_mock.py" "$S_IP:8081"; wait_listen 8081; }
srv_a2a() { start_srv a2a "$PY" "$HERE/a2a_mock.py" "$S_IP:8082"; wait_listen 8082; }
srv_mcp() { start_srv mcp node "$HERE/mcp/server.mjs" "$S_IP" 3000; wait_listen 3000; }
srv_tls_rev() {
  # -rev: answer each line reversed; serves connections one after the other until killed.
  start_srv s_server openssl s_server -accept "$S_IP:443" -cert "$TMP/tls.crt" \
    -key "$TMP/tls.key" -rev </dev/null
  wait_listen 443
}

# run_clients NAME CMD...: a client program in the client namespace, bounded in time.
run_clients() {
  local name=$1
  shift
  in_c timeout 180 "$@"
  echo "make_class_captures: $name: clients done" >&2
}

# --- the captures -------------------------------------------------------------------------------
cap_llm_http() {
  srv_llm
  start_capture llm_http "tcp port 8080 or tcp port 11434"
  run_clients llm_http "$PY" "$HERE/clients.py" llm_http "$TMP/llm_http.run"
  stop_capture
  stop_srvs
  finish llm_http
}

cap_llm_tls() {
  srv_tls_rev
  # -WWW: a minimal HTTPS file server (GET /v1/models) for curl and python's ssl; it serves its
  # working directory.
  # shellcheck disable=SC2016  # $1 and $@ are expanded by the inner sh
  start_srv s_server_www sh -c 'cd "$1" && shift && exec "$@"' sh "$TMP/www" \
    openssl s_server -accept "$S_IP:4443" -cert "$TMP/tls.crt" -key "$TMP/tls.key" -WWW
  wait_listen 4443
  start_capture llm_tls "tcp port 443 or tcp port 4443"
  run_clients llm_tls "$PY" "$HERE/clients.py" llm_tls "$TMP/llm_tls.run"
  stop_capture
  stop_srvs
  finish llm_tls
}

cap_mcp() {
  srv_mcp
  start_capture mcp "tcp port 3000"
  run_clients mcp "$PY" "$HERE/clients.py" mcp "$TMP/mcp.run"
  stop_capture
  stop_srvs
  finish mcp
}

cap_a2a() {
  srv_a2a
  start_capture a2a "tcp port 8082"
  run_clients a2a "$PY" "$HERE/clients.py" a2a "$TMP/a2a.run"
  stop_capture
  stop_srvs
  finish a2a
}

cap_grpc() {
  start_srv grpc "$PY" "$HERE/grpc_echo.py" serve "$S_IP:50051"
  start_srv nghttpd nghttpd --no-tls --address="$S_IP" -d "$TMP/www" 8083
  wait_listen 50051
  wait_listen 8083
  start_capture grpc "tcp port 50051 or tcp port 8083"
  run_clients grpc "$PY" "$HERE/grpc_echo.py" call "$S_IP:50051" "$TMP/grpc.run"
  run_clients grpc "$PY" "$HERE/clients.py" h2_plain "$TMP/grpc.run"
  stop_capture
  stop_srvs
  finish grpc
}

cap_websocket() {
  start_srv ws "$PY" "$HERE/ws_echo.py" serve "$S_IP" 8765
  wait_listen 8765
  start_capture websocket "tcp port 8765"
  run_clients websocket "$PY" "$HERE/ws_echo.py" call "$S_IP" 8765 "$TMP/websocket.run"
  stop_capture
  stop_srvs
  finish websocket
}

cap_http_misc() {
  srv_web
  start_capture http_misc "tcp port 8081"
  run_clients http_misc "$PY" "$HERE/clients.py" http_misc "$TMP/http_misc.run"
  stop_capture
  stop_srvs
  finish http_misc
}

cap_secrets_shell() {
  srv_web
  srv_llm
  srv_a2a
  srv_mcp
  start_capture secrets_shell "tcp port 8081 or tcp port 8080 or tcp port 8082 or tcp port 3000"
  run_clients secrets_shell "$PY" "$HERE/clients.py" secrets_shell "$TMP/secrets_shell.run"
  stop_capture
  stop_srvs
  finish secrets_shell
}

cap_split() {
  srv_tls_rev
  srv_web
  srv_llm
  srv_mcp
  start_capture split "tcp port 443 or tcp port 8081 or tcp port 8080 or tcp port 3000"
  run_clients split "$PY" "$HERE/split_sender.py" "$TMP/split.run"
  stop_capture
  stop_srvs
  finish split
}

for w in "${WANT[@]}"; do
  echo "make_class_captures: --- $w" >&2
  "cap_$w"
done

# Only a complete run replaces the committed captures.
chmod 644 "$CAP_DIR"/*
mv "$CAP_DIR"/* "$HERE"/
existing_labels
ls -l "$HERE"/*.pcap
