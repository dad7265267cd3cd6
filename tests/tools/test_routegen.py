#!/usr/bin/python3
"""test_routegen.py — end-to-end checks of tcp-routegen against tshark and the protocol specs.

Usage: /usr/bin/python3 tests/tools/test_routegen.py PATH/TO/tcp-routegen

Every expectation comes from a specification or from tshark's own analysis, never from the
generator's output: the pcap format (libpcap file format), IPv4/TCP/UDP checksums (tshark with
checksum validation on), TCP sequence analysis (tshark's expert info), HTTP/1.1 framing incl.
chunked coding (RFC 9112), JSON (RFC 8259), Server-Sent Events (WHATWG HTML §9.2), WebSocket
(RFC 6455), HTTP/2 + HPACK (RFC 9113, RFC 7541) and gRPC framing (tshark with decode-as, and
python3-hpack when installed), TLS records and ClientHello GREASE (RFC 8446, RFC 8701), SSH
(RFC 4253, tshark), MCP/A2A JSON-RPC 2.0 and the LLM API paths the vendors document.

Each conversation's content class and risk tags are decided here, independently, from the
decoded bytes with the rules of DESIGN.md and the task spec (LLM API paths and SNIs, MCP/A2A
methods, secret and shell-command formats), and compared with the label; the label's sni, host,
method and path are compared with what tshark decodes. Negative controls corrupt a capture and
check that the checks notice. Exits non-zero with one message on the first failure.
"""
import base64
import collections
import functools
import hashlib
import ipaddress
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
from urllib.parse import unquote_plus

CHECKSUM_PREFS = ['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
                  '-o', 'udp.check_checksum:TRUE']
# tshark decodes a TCP payload with the dissector registered on the lower port, so ports it does
# not know as the protocol the README documents on them need decode-as: gRPC's h2c with prior
# knowledge (no heuristic), SSH on 2222, HTTP on ports left to heuristics or registered to other
# protocols (9999 tplink-smarthome, 10000 ndmp).
H2C_PORTS = (50051, 9090)
HTTP_PORTS = (3000, 4000, 8000, 8765, 9999, 10000, 11434)
DECODE_AS = ([a for port in H2C_PORTS for a in ('-d', f'tcp.port=={port},http2')] +
             [a for port in HTTP_PORTS for a in ('-d', f'tcp.port=={port},http')] +
             ['-d', 'tcp.port==2222,ssh'])
EXTRA_DECODE_AS = {}  # capture -> decode-as for its gRPC clients' ports that tshark registers
PI_WARN = 0x00600000          # epan/proto.h: expert severity "Warning"
CHECKSUM_GOOD = '1'           # epan: PROTO_CHECKSUM_E_GOOD
PCAP_MAGIC_USEC = 0xa1b2c3d4  # classic pcap, microsecond timestamps
LINKTYPE_ETHERNET = 1
TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = 0x01, 0x02, 0x04, 0x10
TCP_MSS_WITH_TIMESTAMPS = 1460 - 12  # RFC 7323 option on every segment
LABEL_KEYS = ['proto', 'client', 'server', 'scenario', 'class', 'tags', 'sni', 'host', 'method',
              'path', 'first_ts', 'last_ts', 'packets', 'bytes']
# tshark 4.0's SSH dissector decodes host-key signatures of type ssh-rsa/ssh-dss only and warns
# on every other (ed25519, ecdsa, rsa-sha2-*) KEX reply, real OpenSSH ones included
# (tests/data/ssh.pcap shows it too). Tolerated on SSH KEX replies (message code 31) only.
TSHARK_SSH_SIGNATURE_WARNING = re.compile(r'^Decoded \d+ bytes, but packet legnth is \d+ bytes$')
# tshark 4.0 also "decrypts" the packet length of chacha20-poly1305 SSH packets without keys; when
# that garbage length happens to be <= 32768 (about 1 segment in 130,000) it reads past the
# segment and reports a malformed packet. Tolerated on encrypted SSH segments (no cleartext
# message code) only.
SSH_PORTS = (22, 2222)

# DESIGN.md's content classes and risk tags, and the README's scenario kinds.
CLASSES = {'llm.api', 'mcp', 'a2a', 'grpc', 'websocket', 'http', 'tls', 'ssh', 'dns'}
TAGS = {'secret', 'shell'}
CLASS_OF = {'http_json': {'http'}, 'http_get': {'http'}, 'http_chunked': {'http'},
            'http_nearmiss': {'http'}, 'tls_hello': {'tls'}, 'dns_query': {'dns'},
            'llm_http': {'llm.api'}, 'llm_tls': {'llm.api'}, 'mcp': {'mcp'}, 'a2a': {'a2a'},
            'grpc': {'grpc'}, 'websocket': {'websocket'}, 'ssh': {'ssh'},
            'secret_leak': {'http', 'llm.api', 'mcp'}, 'shell_cmd': {'http', 'llm.api', 'mcp'}}

# The task spec: LLM API endpoints (request paths) and provider API host names (SNI).
LLM_PATHS = [re.compile(p) for p in (
    r'^/v1/(chat/completions|completions|responses|embeddings|messages)$',   # OpenAI, Anthropic
    r'^/v1beta/models/[^/:?]+:(generateContent|streamGenerateContent)(\?.*)?$',  # Gemini
    r'^/v2/chat$',                                                          # Cohere
    r'^/api/(chat|generate)$',                                              # Ollama
    r'^/model/[^/]+/invoke$')]                                              # Bedrock
LLM_SNI = re.compile(r'^(api\.openai\.com|api\.anthropic\.com|generativelanguage\.googleapis\.com'
                     r'|api\.mistral\.ai|api\.groq\.com|api\.together\.xyz|api\.cohere\.com'
                     r'|openrouter\.ai|api\.deepseek\.com|[a-z0-9-]+\.openai\.azure\.com'
                     r'|bedrock-runtime\.[a-z0-9-]+\.amazonaws\.com)$')
CREDENTIAL_HEADERS = {'authorization', 'x-api-key', 'x-goog-api-key', 'x-amz-security-token'}
MCP_METHODS = {'initialize', 'notifications/initialized', 'tools/list', 'tools/call',
               'resources/list', 'resources/read', 'prompts/get'}
A2A_METHODS = {'message/send', 'message/stream', 'tasks/get'}
A2A_CARDS = {'/.well-known/agent.json', '/.well-known/agent-card.json'}
SECRET_PATTERNS = [re.compile(p) for p in (
    r'(?<![0-9A-Z])AKIA[0-9A-Z]{16}(?![0-9A-Z])',                    # AWS access key id
    r'(?i:aws_secret_access_key)["\'\s:=]{1,6}[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])',
    r'-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----',                       # PEM (RFC 7468)
    r'\bghp_[A-Za-z0-9]{36}\b', r'\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b',
    r'\bglpat-[A-Za-z0-9_-]{20}(?![A-Za-z0-9_-])', r'\bxox[bp]-[0-9]+-[0-9]+-[0-9A-Za-z-]+',
    r'\bsk-[A-Za-z0-9_-]{20,}')]
JWT = re.compile(r'\b(eyJ[A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)')
SHELL_PATTERNS = [re.compile(p) for p in (
    r'\bsh -c\b', r'\bcurl\b[^|\n"]*\|\s*(ba)?sh\b', r'\bwget\b[^|\n"]*\|\s*(ba)?sh\b',
    r'\bnc\b[^|\n]*\s-e\s', r'\bbase64 -d\s*\|\s*(ba)?sh\b', r'\bpython3? -c\b.*(socket|subprocess)',
    r'\brm -rf /(?=[\s"\']|$)')]
H2_PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
WS_GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as error:
        raise Failure(f'cannot run {cmd[0]}: {error}') from error


def generate(binary, out, *args):
    proc = run([binary, '-o', out, *args])
    check(proc.returncode == 0, f'{" ".join(args)}: exit {proc.returncode}: {proc.stderr.strip()}')
    return out


@functools.lru_cache(maxsize=None)
def registered_tcp_ports():
    out = run(['tshark', '-G', 'decodes']).stdout
    return {int(f[1]) for f in (line.split('\t') for line in out.splitlines())
            if len(f) > 2 and f[0] == 'tcp.port' and f[1].isdigit()}


def extra_decode_as(path):
    """A gRPC client's ephemeral port below 50051 with a dissector of its own (44321 is PCP's)
    would win over the server port: decode it as HTTP/2 too. Our other servers' ports are below
    the ephemeral range, so they win anyway."""
    if path not in EXTRA_DECODE_AS:
        labels = read_labels(path) if os.path.exists(path + '.labels.jsonl') else []
        registered = registered_tcp_ports()
        ports = sorted({int(l['client'].rsplit(':', 1)[1]) for l in labels
                        if int(l['server'].rsplit(':', 1)[1]) in H2C_PORTS} & registered)
        EXTRA_DECODE_AS[path] = [a for p in ports for a in ('-d', f'tcp.port=={p},http2')]
    return EXTRA_DECODE_AS[path]


def tshark(path, *args):
    proc = run(['tshark', '-r', path, *CHECKSUM_PREFS, *DECODE_AS, *extra_decode_as(path), *args])
    check(proc.returncode == 0, f'tshark {" ".join(args)} failed: {proc.stderr.strip()}')
    return proc.stdout


def tshark_fields(path, fields, display_filter=None):
    args = ['-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=|']
    if display_filter:
        args += ['-Y', display_filter]
    for field in fields:
        args += ['-e', field]
    out = tshark(path, *args)
    return [dict(zip(fields, line.split('\t'))) for line in out.splitlines()]


def read_labels(pcap):
    with open(pcap + '.labels.jsonl', encoding='utf-8') as f:
        return [json.loads(line) for line in f]


def endpoints(label):
    cip, cport = label['client'].rsplit(':', 1)
    sip, sport = label['server'].rsplit(':', 1)
    return (cip, int(cport), sip, int(sport)), (sip, int(sport), cip, int(cport))


# --- an independent pcap/Ethernet/IPv4/TCP/UDP reader ------------------------------------------

def read_pcap(path):
    """Returns [(ts_us, frame)] after checking the file structure."""
    with open(path, 'rb') as f:
        data = f.read()
    check(len(data) >= 24, f'{path}: shorter than a pcap header')
    magic, major, minor, _, _, snaplen, linktype = struct.unpack('<IHHiIII', data[:24])
    check(magic == PCAP_MAGIC_USEC, f'{path}: magic {magic:#x}, want microsecond pcap')
    check((major, minor) == (2, 4), f'{path}: pcap version {major}.{minor}')
    check(linktype == LINKTYPE_ETHERNET, f'{path}: link type {linktype}, want Ethernet')
    packets, at = [], 24
    while at < len(data):
        check(at + 16 <= len(data), f'{path}: truncated record header at {at}')
        sec, usec, incl, orig = struct.unpack('<IIII', data[at:at + 16])
        check(usec < 1_000_000, f'{path}: record at {at} has usec {usec}')
        check(incl == orig and 0 < incl <= snaplen, f'{path}: record at {at} caplen {incl}/{orig}')
        check(at + 16 + incl <= len(data), f'{path}: truncated record at {at}')
        packets.append((sec * 1_000_000 + usec, data[at + 16:at + 16 + incl]))
        at += 16 + incl
    times = [ts for ts, _ in packets]
    check(times == sorted(times), f'{path}: timestamps are not in order')
    return packets


def parse_frame(frame):
    """Ethernet II + IPv4 + TCP/UDP -> dict, or None for anything else."""
    if len(frame) < 34 or frame[12:14] != b'\x08\x00':
        return None
    ihl = (frame[14] & 0x0f) * 4
    total = struct.unpack('!H', frame[16:18])[0]
    proto = frame[23]
    src, dst = str(ipaddress.IPv4Address(frame[26:30])), str(ipaddress.IPv4Address(frame[30:34]))
    l4 = frame[14 + ihl:14 + total]
    pkt = {'proto': proto, 'src': src, 'dst': dst}
    if proto == 6:
        sport, dport, seq, ack, off, flags = struct.unpack('!HHIIBB', l4[:14])
        pkt.update(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags,
                   payload=l4[(off >> 4) * 4:])
    elif proto == 17:
        sport, dport = struct.unpack('!HH', l4[:4])
        pkt.update(sport=sport, dport=dport, payload=l4[8:])
    else:
        return None
    return pkt


def tcp_streams(packets):
    """Reassembles each direction of each TCP connection, checking sequence continuity."""
    isn, segments = {}, {}
    for _, frame in packets:
        p = parse_frame(frame)
        if p is None or p['proto'] != 6:
            continue
        key = (p['src'], p['sport'], p['dst'], p['dport'])
        if p['flags'] & TCP_SYN:
            isn[key] = p['seq']
        elif p['payload']:
            segments.setdefault(key, []).append((p['seq'], p['payload']))
    streams = {}
    for key, segs in segments.items():
        check(key in isn, f'{key}: data without a SYN')
        expected, parts = (isn[key] + 1) & 0xffffffff, []
        for seq, payload in segs:
            check(seq == expected, f'{key}: segment at seq {seq}, expected {expected}')
            check(len(payload) <= TCP_MSS_WITH_TIMESTAMPS,
                  f'{key}: segment of {len(payload)} bytes')
            parts.append(payload)
            expected = (expected + len(payload)) & 0xffffffff
        streams[key] = b''.join(parts)
    return streams


# --- independent decoders: HTTP/1.1, chunked coding, SSE, WebSocket frames, HPACK prefixes ------

Msg = collections.namedtuple('Msg', 'start headers fields body chunked')


def dechunk(data, where):
    """RFC 9112 §7.1: chunked body -> (decoded body, bytes after it)."""
    body = []
    while True:
        line, sep, data = data.partition(b'\r\n')
        check(sep and re.fullmatch(rb'[0-9a-fA-F]+', line), f'{where}: bad chunk size {line[:20]!r}')
        size = int(line, 16)
        if size == 0:
            check(data.startswith(b'\r\n'), f'{where}: trailers after the last chunk')
            return b''.join(body), data[2:]
        check(len(data) >= size + 2 and data[size:size + 2] == b'\r\n', f'{where}: bad chunk')
        body.append(data[:size])
        data = data[size + 2:]


def parse_http(data, where, responses):
    """An HTTP/1.1 byte stream -> ([Msg], bytes after an Upgrade/101, where framing ends)."""
    messages = []
    while data:
        head, sep, rest = data.partition(b'\r\n\r\n')
        check(sep, f'{where}: HTTP head without an empty line')
        lines = head.decode('latin-1').split('\r\n')
        if responses:
            check(re.fullmatch(r'HTTP/1\.1 \d{3} .+', lines[0]), f'{where}: status {lines[0]!r}')
        else:
            check(re.fullmatch(r'[A-Z]+ \S+ HTTP/1\.1', lines[0]), f'{where}: request {lines[0]!r}')
        fields = []
        for line in lines[1:]:
            name, colon, value = line.partition(':')
            check(colon and name == name.strip(), f'{where}: bad header line {line!r}')
            fields.append((name.lower(), value.strip()))
        headers = dict(fields)
        status = int(lines[0].split()[1]) if responses else 0
        chunked = 'chunked' in headers.get('transfer-encoding', '')
        if responses and (status < 200 or status in (204, 304)):
            body = b''
        elif chunked:
            body, rest = dechunk(rest, where)
        else:
            check('content-length' in headers or not responses, f'{where}: unframed response')
            length = int(headers.get('content-length', '0'))
            check(len(rest) >= length, f'{where}: body shorter than Content-Length')
            body, rest = rest[:length], rest[length:]
        messages.append(Msg(lines[0], headers, fields, body, chunked))
        data = rest
        if status == 101 or (not responses and 'upgrade' in headers):
            return messages, data
    return messages, b''


def parse_sse(body, where):
    """WHATWG HTML §9.2 event stream -> [{'event':…, 'data':…, 'id':…}]."""
    text = body.decode('utf-8')
    check(text.endswith('\n\n'), f'{where}: event stream does not end with a blank line')
    events = []
    for block in text[:-2].split('\n\n'):
        event = {'data': []}
        for line in block.split('\n'):
            name, colon, value = line.partition(':')
            check(colon and name in ('event', 'data', 'id', 'retry'), f'{where}: SSE line {line!r}')
            value = value[1:] if value.startswith(' ') else value
            if name == 'data':
                event['data'].append(value)
            else:
                event[name] = value
        check(event['data'], f'{where}: SSE event without data')
        event['data'] = '\n'.join(event['data'])
        events.append(event)
    return events


def parse_ws_frames(data, where, from_client):
    """RFC 6455 §5.2 frames -> [(opcode, unmasked payload)]; client frames must be masked."""
    frames = []
    while data:
        check(len(data) >= 2, f'{where}: truncated WebSocket header')
        fin, opcode, masked, length = data[0] >> 7, data[0] & 0x0f, data[1] >> 7, data[1] & 0x7f
        at = 2
        if length == 126:
            length, at = struct.unpack('!H', data[2:4])[0], 4
        elif length == 127:
            length, at = struct.unpack('!Q', data[2:10])[0], 10
        check(fin == 1 and data[0] & 0x70 == 0, f'{where}: fragmented or RSV bits set')
        check(masked == (1 if from_client else 0),
              f'{where}: {"client" if from_client else "server"} frame mask bit {masked}')
        key = data[at:at + 4] if masked else b'\0\0\0\0'
        at += 4 if masked else 0
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(data[at:at + length]))
        check(len(payload) == length, f'{where}: truncated WebSocket payload')
        frames.append((opcode, payload))
        data = data[at + length:]
    return frames


def hpack_string_flags(block):
    """RFC 7541 §6: the Huffman (H) bit of every string literal in a header block."""
    def integer(at, prefix):
        value = block[at] & ((1 << prefix) - 1)
        at += 1
        if value == (1 << prefix) - 1:
            shift = 0
            while True:
                value += (block[at] & 0x7f) << shift
                shift += 7
                at += 1
                if not block[at - 1] & 0x80:
                    break
        return value, at

    def string(at):
        huffman = bool(block[at] & 0x80)
        length, at = integer(at, 7)
        flags.append(huffman)
        return at + length

    flags, at = [], 0
    while at < len(block):
        first = block[at]
        if first & 0x80:                       # indexed header field
            _, at = integer(at, 7)
        elif first & 0xe0 == 0x20:             # dynamic table size update
            _, at = integer(at, 5)
        else:                                  # literal: with (6-bit) or without/never (4-bit)
            index, at = integer(at, 6 if first & 0x40 else 4)
            if index == 0:
                at = string(at)
            at = string(at)
    check(at == len(block), 'HPACK block does not end on a field boundary')
    return flags


def json_rpc_methods(msg):
    """The JSON-RPC 2.0 methods of a request body (one object, or a batch array)."""
    if 'application/json' not in msg.headers.get('content-type', ''):
        return []
    try:
        doc = json.loads(msg.body)
    except ValueError:
        return []
    items = doc if isinstance(doc, list) else [doc]
    return [d['method'] for d in items
            if isinstance(d, dict) and d.get('jsonrpc') == '2.0' and 'method' in d]


def is_llm_path(target):
    return any(p.match(target) for p in LLM_PATHS)


def check_tls_records(data, where):
    """The stream must be a whole number of well-formed TLS records (RFC 8446 §5.1)."""
    types, at = [], 0
    while at < len(data):
        check(at + 5 <= len(data), f'{where}: truncated TLS record header')
        ctype, version, length = struct.unpack('!BHH', data[at:at + 5])
        check(ctype in (20, 21, 22, 23), f'{where}: record type {ctype}')
        check(version in (0x0301, 0x0303), f'{where}: record version {version:#x}')
        check(0 < length <= 2 ** 14 + 256, f'{where}: record length {length}')
        check(at + 5 + length <= len(data), f'{where}: truncated TLS record')
        types.append(ctype)
        at += 5 + length
    return types


# --- the independent classifier: content class and risk tags from decoded bytes ----------------

def risk_tags(text):
    """Risk tags of request text, per the formats the issuers document (task spec)."""
    tags = set()
    if any(p.search(text) for p in SECRET_PATTERNS):
        tags.add('secret')
    for m in JWT.finditer(text):  # three base64url parts, the first a JSON header
        try:
            header = json.loads(base64.urlsafe_b64decode(m.group(1) + '=' * (-len(m.group(1)) % 4)))
        except ValueError:
            continue
        if isinstance(header, dict) and 'alg' in header:
            tags.add('secret')
    if any(p.search(text) for p in SHELL_PATTERNS):
        tags.add('shell')
    return tags


def request_text(requests):
    """What a request carries, decoded: target (percent-decoded), header fields (without the
    credential header of an LLM API call, where a key belongs), body (form-decoded)."""
    parts = []
    for msg in requests:
        target = msg.start.split(' ')[1]
        parts.append(unquote_plus(target))
        llm = is_llm_path(target)
        parts += [f'{n}: {v}' for n, v in msg.fields if not (llm and n in CREDENTIAL_HEADERS)]
        body = msg.body.decode('utf-8', 'replace')
        if 'x-www-form-urlencoded' in msg.headers.get('content-type', ''):
            body = unquote_plus(body)
        parts.append(body)
    return '\n'.join(parts)


class Flow:
    """One TCP conversation decoded here: class, tags and the label fields it implies."""

    def __init__(self, label, streams, sni_of, h2_of):
        up_key, down_key = endpoints(label)
        self.label = label
        self.up, self.down = streams.get(up_key, b''), streams.get(down_key, b'')
        self.requests, self.responses = [], []
        self.up_tail = self.down_tail = b''
        self.tags, self.sni, self.host, self.method, self.path = set(), None, None, None, None
        where = label['client']
        if self.up.startswith(b'SSH-2.0-'):
            self.cls = 'ssh'
        elif self.up.startswith(H2_PREFACE):
            headers = h2_of.get(label['client'], {})
            self.cls = 'grpc' if headers.get('content-type') == 'application/grpc' else 'http'
            self.host, self.method, self.path = (headers.get(':authority'),
                                                 headers.get(':method'), headers.get(':path'))
        elif self.up[:1] == b'\x16':  # a TLS handshake record
            self.sni = sni_of.get(label['client'])
            self.cls = 'llm.api' if self.sni and LLM_SNI.match(self.sni) else 'tls'
        else:
            self.requests, self.up_tail = parse_http(self.up, where, False)
            self.responses, self.down_tail = parse_http(self.down, label['server'], True)
            check(self.requests, f'{where}: no HTTP request')
            self.cls = self.http_class()
            self.tags = risk_tags(request_text(self.requests))
            first = self.requests[0]
            self.method, self.path = first.start.split(' ')[:2]
            self.host = first.headers.get('host')
            rpc = json_rpc_methods(first)
            if self.cls in ('mcp', 'a2a') and rpc:
                self.method = rpc[0]  # DESIGN.md: "method (HTTP or JSON-RPC method)"

    def http_class(self):
        first = self.requests[0]
        if first.headers.get('upgrade', '').lower() == 'websocket':
            return 'websocket'
        targets = [m.start.split(' ')[1] for m in self.requests]
        methods = {m for msg in self.requests for m in json_rpc_methods(msg)}
        if any(t in A2A_CARDS for t in targets) or methods & A2A_METHODS:
            return 'a2a'
        accepts_both = all('application/json' in m.headers.get('accept', '') and
                           'text/event-stream' in m.headers.get('accept', '')
                           for m in self.requests if m.start.startswith('POST'))
        if methods & MCP_METHODS and accepts_both:
            return 'mcp'
        if any(is_llm_path(t) for t in targets):
            return 'llm.api'
        return 'http'


def first_h2_headers(path):
    """tshark: the first client HEADERS of each h2c connection, as {name: value}, by client."""
    first = {}
    rows = tshark_fields(path, ['ip.src', 'tcp.srcport', 'http2.header.name',
                                'http2.header.value', 'http2.type'],
                         'http2.type == 1 && http2.headers.method')
    for r in rows:
        client = f'{r["ip.src"]}:{r["tcp.srcport"]}'
        if client not in first:
            names, values = r['http2.header.name'].split('|'), r['http2.header.value'].split('|')
            check(len(names) == len(values), f'{client}: header names and values differ')
            headers = {}
            for n, v in zip(names, values):
                headers.setdefault(n, v)
            first[client] = headers
    return first


def client_hellos(path):
    rows = tshark_fields(path, ['ip.src', 'tcp.srcport', 'tls.handshake.extensions_server_name',
                                'tls.handshake.extensions_alpn_str', 'tls.handshake.length',
                                'tls.handshake.extension.type', 'tls.handshake.ciphersuite',
                                'tls.handshake.extensions_supported_group',
                                'tls.handshake.extensions.supported_version',
                                'tls.handshake.extensions_key_share_group'],
                         'tls.handshake.type == 1')
    return {f'{r["ip.src"]}:{r["tcp.srcport"]}': r for r in rows}


# --- checks --------------------------------------------------------------------------------------

def check_tshark_clean(path):
    """No TCP analysis flags, no malformed packet, no expert warning or error but tshark's own
    SSH signature limitation, every checksum verified good (gRPC ports decoded as HTTP/2)."""
    flagged = tshark_fields(path, ['frame.number', 'tcp.analysis.flags', '_ws.malformed',
                                   '_ws.expert.message', '_ws.expert.severity', 'ssh.message_code',
                                   'frame.protocols', 'tcp.srcport', 'tcp.dstport'],
                            f'tcp.analysis.flags || _ws.expert.severity >= {PI_WARN:#x}'
                            ' || _ws.malformed')
    for row in flagged:
        where = f'{path}: frame {row["frame.number"]}'
        check(not row['tcp.analysis.flags'], f'{where}: {row}')
        ssh_port = {int(row['tcp.srcport']), int(row['tcp.dstport'])} & set(SSH_PORTS)
        if row['_ws.malformed']:
            check(ssh_port and row['frame.protocols'].endswith(':ssh') and
                  not row['ssh.message_code'], f'{where}: malformed {row}')
            continue
        warnings = [m for m, s in zip(row['_ws.expert.message'].split('|'),
                                      row['_ws.expert.severity'].split('|')) if int(s) >= PI_WARN]
        check(all(TSHARK_SSH_SIGNATURE_WARNING.match(m) for m in warnings) and
              '31' in row['ssh.message_code'].split('|'), f'{where}: tshark flags {row}')
    rows = tshark_fields(path, ['frame.number', 'ip.proto', 'ip.checksum.status',
                                'tcp.checksum.status', 'udp.checksum.status'])
    check(rows, f'{path}: tshark read no packets')
    for row in rows:
        status = {'6': row['tcp.checksum.status'], '17': row['udp.checksum.status']}
        check(row['ip.checksum.status'] == CHECKSUM_GOOD,
              f'frame {row["frame.number"]}: IP checksum')
        check(status.get(row['ip.proto']) == CHECKSUM_GOOD,
              f'frame {row["frame.number"]}: L4 checksum status {status.get(row["ip.proto"])!r}')


def conversations(path):
    """Unordered endpoint pairs -> total frames, from tshark's conversation tables."""
    out = tshark(path, '-q', '-z', 'conv,tcp', '-z', 'conv,udp')
    convs, proto = {}, None
    for line in out.splitlines():
        if line.startswith(('TCP Conversations', 'UDP Conversations')):
            proto = line[:3].lower()
        m = re.match(r'^(\S+)\s+<->\s+(\S+)\s+(.*)$', line)
        if m:
            sizes = re.findall(r'(\d+)\s+[\d,.]+\s+(?:bytes|kB|MB|GB)', m.group(3))
            check(len(sizes) == 3, f'unexpected conversation line: {line}')
            key = (proto, frozenset((m.group(1), m.group(2))))
            check(key not in convs, f'conversation listed twice: {line}')
            convs[key] = int(sizes[2])
    return convs


def check_labels(path, packets, labels):
    """Labels have the documented schema and agree with the capture, conversation by
    conversation."""
    per_conv = {}
    for ts, frame in packets:
        p = parse_frame(frame)
        check(p is not None, f'{path}: a frame that is not IPv4 TCP/UDP')
        key = ({6: 'tcp', 17: 'udp'}[p['proto']],
               frozenset((f'{p["src"]}:{p["sport"]}', f'{p["dst"]}:{p["dport"]}')))
        first, last, count, size = per_conv.get(key, (ts, ts, 0, 0))
        per_conv[key] = (first, ts, count + 1, size + len(frame))
    check(len(labels) == len(per_conv),
          f'{len(labels)} labels for {len(per_conv)} conversations in the capture')
    for label in labels:
        check(list(label) == LABEL_KEYS, f'label keys {list(label)}')
        check(label['class'] in CLASS_OF.get(label['scenario'], ()), f'label {label}')
        check(set(label['tags']) <= TAGS and len(set(label['tags'])) == len(label['tags']),
              f'tags of {label}')
        key = (label['proto'], frozenset((label['client'], label['server'])))
        check(key in per_conv, f'label without a conversation: {label}')
        first, last, count, size = per_conv[key]
        check((label['packets'], label['bytes']) == (count, size), f'counts differ: {label}')
        check(round(label['first_ts'] * 1e6) == first and round(label['last_ts'] * 1e6) == last,
              f'times differ: {label}')
        # README: conversations of the built-in kinds last under 2 s (--duration must exceed it).
        check(last - first < 2_000_000, f'conversation longer than 2 s: {label}')
    return per_conv


def check_tcp_lifecycle(path):
    """Every TCP conversation: one SYN from the client, a SYN-ACK, a FIN each way, no RST."""
    rows = tshark_fields(path, ['tcp.stream', 'ip.src', 'tcp.srcport', 'tcp.flags'], 'tcp')
    streams = {}
    for row in rows:
        flags = int(row['tcp.flags'], 16)
        streams.setdefault(row['tcp.stream'], []).append((f'{row["ip.src"]}:{row["tcp.srcport"]}',
                                                           flags))
    for stream, pkts in streams.items():
        client, first = pkts[0]
        check(first & (TCP_SYN | TCP_ACK) == TCP_SYN, f'stream {stream}: does not open with a SYN')
        server = next((src for src, f in pkts if src != client), None)
        check(server is not None, f'stream {stream}: the server never answers')
        check(sum(1 for _, f in pkts if f & TCP_SYN) == 2, f'stream {stream}: SYN count')
        check(any(src == server and f & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK
                  for src, f in pkts), f'stream {stream}: no SYN-ACK from {server}')
        for side in (client, server):
            check(any(src == side and f & TCP_FIN for src, f in pkts),
                  f'stream {stream}: no FIN from {side}')
        check(not any(f & TCP_RST for _, f in pkts), f'stream {stream}: RST')
        check(pkts[-1][1] & (TCP_FIN | TCP_SYN) == 0, f'stream {stream}: no final ACK')
    return len(streams)


def check_http_json(path, streams, labels):
    """http_json: POSTs of JSON, 200 JSON answers, as tshark and our own parser see them."""
    http = [l for l in labels if l['scenario'] == 'http_json']
    check(http, f'{path}: no http_json conversations to check')
    clients = {l['client'] for l in http}
    requests = [r for r in tshark_fields(path, ['ip.src', 'tcp.srcport', 'frame.protocols',
                                                'http.request.method', 'http.host',
                                                'http.request.uri', 'http.content_type'],
                                         'http.request')
                if f'{r["ip.src"]}:{r["tcp.srcport"]}' in clients]
    first = {}
    for r in requests:
        check(r['http.request.method'] == 'POST', f'request method {r["http.request.method"]}')
        check(r['frame.protocols'].endswith(':http:json'),
              f'request body not decoded as JSON: {r["frame.protocols"]}')
        check(r['http.content_type'] == 'application/json',
              f'content type {r["http.content_type"]}')
        first.setdefault(f'{r["ip.src"]}:{r["tcp.srcport"]}', r)
    responses = [r for r in tshark_fields(path, ['ip.dst', 'tcp.dstport', 'frame.protocols',
                                                 'http.response.code'], 'http.response')
                 if f'{r["ip.dst"]}:{r["tcp.dstport"]}' in clients]
    check(len(responses) == len(requests), f'{len(requests)} requests, {len(responses)} responses')
    for r in responses:
        check(r['http.response.code'] == '200' and r['frame.protocols'].endswith(':http:json'),
              f'response {r}')
    for label in http:
        r = first.get(label['client'])
        check(r is not None, f'tshark decoded no HTTP request for {label["client"]}')
        check((r['http.host'], r['http.request.uri'], 'POST') ==
              (label['host'], label['path'], label['method']), f'label {label} vs tshark {r}')
        up, down = endpoints(label)
        ups, _ = parse_http(streams[up], label['client'], False)
        downs, _ = parse_http(streams[down], label['server'], True)
        check(len(ups) == len(downs),
              f'{label["client"]}: {len(ups)} requests, {len(downs)} replies')
        for msg in ups + downs:
            check(msg.headers.get('content-type') == 'application/json', f'{msg.start}: type')
            check(isinstance(json.loads(msg.body), dict), f'{msg.start}: body is not an object')
    return len(requests)


def check_tls(path, streams, labels, hellos):
    """Every TLS conversation: ClientHello with the label's SNI, TLS 1.3 offered and chosen,
    well-formed records; across hellos, browser-like GREASE (RFC 8701) and padding (RFC 7685)."""
    tls = [l for l in labels if l['sni'] is not None]
    check(tls, f'{path}: no tls conversations to check')
    servers = {f'{r["ip.dst"]}:{r["tcp.dstport"]}' for r in tshark_fields(
        path, ['ip.dst', 'tcp.dstport'],
        'tls.handshake.type == 2 && tls.handshake.extensions.supported_version == 0x0304')}

    def grease(values):  # RFC 8701 §2: 0x0A0A, 0x1A1A, ..., 0xFAFA
        numbers = [int(v, 0) for v in values if v]
        return [n for n in numbers if n & 0x0f0f == 0x0a0a and n >> 12 == (n >> 4) & 0xf]

    seen = collections.Counter()
    for label in tls:
        hello = hellos.get(label['client'])
        check(hello is not None, f'no ClientHello decoded for {label}')
        check(hello['tls.handshake.extensions_server_name'] == label['sni'], f'SNI: {hello}')
        alpn = hello['tls.handshake.extensions_alpn_str'].split('|')
        check('http/1.1' in alpn, f'ALPN: {hello}')
        exts = hello['tls.handshake.extension.type'].split('|')
        check('43' in exts and '51' in exts, f'no supported_versions/key_share: {hello}')
        check('0x0304' in hello['tls.handshake.extensions.supported_version'].split('|'),
              f'TLS 1.3 not offered: {hello}')
        check('29' in hello['tls.handshake.extensions_key_share_group'].split('|'),
              f'no x25519 key share: {hello}')
        check(label['client'] in servers, f'no TLS 1.3 ServerHello to {label["client"]}')
        if grease(exts):
            seen['grease'] += 1
            check(len(grease(exts)) == 2 and grease(hello['tls.handshake.ciphersuite'].split('|'))
                  and grease(hello['tls.handshake.extensions_supported_group'].split('|'))
                  and grease(hello['tls.handshake.extensions.supported_version'].split('|')),
                  f'GREASE in extensions but not in suites/groups/versions: {hello}')
        if '21' in exts:  # padded: BoringSSL and NSS pad a 256..511-byte hello to 512 bytes
            seen['padding'] += 1
            check(int(hello['tls.handshake.length']) + 4 == 512, f'padded to {hello}')
        seen['h2'] += 'h2' in alpn
        up, down = endpoints(label)
        up_types = check_tls_records(streams[up], label['client'])
        down_types = check_tls_records(streams[down], label['server'])
        check(up_types[0] == 22 and down_types[0] == 22, f'{label["client"]}: handshake not first')
        check(23 in up_types and 23 in down_types, f'{label["client"]}: no application data')
    return seen


def check_dns(path, labels, server_net):
    dns = [l for l in labels if l['class'] == 'dns']
    check(dns, f'{path}: no dns conversations to check')
    rows = tshark_fields(path, ['ip.src', 'udp.srcport', 'ip.dst', 'udp.dstport', 'dns.id',
                                'dns.flags.response', 'dns.flags.rcode', 'dns.qry.name',
                                'dns.qry.type', 'dns.a'], 'dns')
    queries = {(f'{r["ip.src"]}:{r["udp.srcport"]}', r['dns.id']): r
               for r in rows if r['dns.flags.response'] == '0'}
    answers = {(f'{r["ip.dst"]}:{r["udp.dstport"]}', r['dns.id']): r
               for r in rows if r['dns.flags.response'] == '1'}
    check(set(queries) == set(answers), 'DNS queries and responses do not pair up by id')
    for label in dns:
        check(label['server'].endswith(':53'), f'DNS label {label}')
        mine = [q for (client, _), q in queries.items() if client == label['client']]
        check(mine and all(q['dns.qry.name'] == label['host'] for q in mine), f'queries: {label}')
        a_answers = [answers[k] for k, q in queries.items()
                     if k[0] == label['client'] and q['dns.qry.type'] == '1']
        check(len(a_answers) == 1, f'{label["client"]}: {len(a_answers)} A answers')
        check(a_answers[0]['dns.flags.rcode'] == '0', f'rcode of {a_answers[0]}')
        address = a_answers[0]['dns.a']
        check(address and ipaddress.IPv4Address(address) in server_net, f'A record {address}')


def write_pcap(path, packets, template):
    """Writes `packets` with the global header of `template`."""
    with open(template, 'rb') as f:
        header = f.read(24)
    with open(path, 'wb') as f:
        f.write(header)
        for ts, frame in packets:
            f.write(struct.pack('<IIII', ts // 1_000_000, ts % 1_000_000, len(frame), len(frame)))
            f.write(frame)


def decode_flows(path, streams, labels, hellos):
    sni_of = {c: h['tls.handshake.extensions_server_name'] for c, h in hellos.items()}
    h2_of = first_h2_headers(path)
    return {l['client']: Flow(l, streams, sni_of, h2_of) for l in labels if l['proto'] == 'tcp'}


def check_flows(flows):
    """Class, tags, sni, host, method and path of every TCP label equal what the capture,
    decoded here, says."""
    for flow in flows.values():
        label = flow.label
        decoded = {'class': flow.cls, 'tags': sorted(flow.tags), 'sni': flow.sni,
                   'host': flow.host, 'method': flow.method, 'path': flow.path}
        got = {k: sorted(label[k]) if k == 'tags' else label[k] for k in decoded}
        check(got == decoded, f'{label["client"]} ({label["scenario"]}): label {got}, '
                              f'capture says {decoded}')


def check_tshark_agreement(path, flows, labels):
    """The label's host/method/path against tshark's HTTP and HTTP/2 decodes, and a JSON-RPC
    label method against the method member tshark's JSON dissector finds in the first body."""
    first = {}
    for r in tshark_fields(path, ['ip.src', 'tcp.srcport', 'http.request.method', 'http.host',
                                  'http.request.uri', 'json.member_with_value'], 'http.request'):
        first.setdefault(f'{r["ip.src"]}:{r["tcp.srcport"]}', r)
    checked = collections.Counter()
    for label in labels:
        cls = label['class']
        if cls in ('http', 'mcp', 'a2a', 'websocket') or (cls == 'llm.api' and not label['sni']):
            r = first.get(label['client'])
            check(r is not None, f'tshark decoded no HTTP request for {label}')
            method = r['http.request.method']
            rpc = [m[len('method:'):] for m in r['json.member_with_value'].split('|')
                   if m.startswith('method:')]
            if cls in ('mcp', 'a2a') and rpc:
                method = rpc[0]
            check((r['http.host'], r['http.request.uri'], method) ==
                  (label['host'], label['path'], label['method']), f'label {label} vs tshark {r}')
            checked['http'] += 1
    h2 = first_h2_headers(path)
    for label in (l for l in labels if l['class'] == 'grpc'):
        headers = h2.get(label['client'], {})
        check((headers.get(':authority'), headers.get(':method'), headers.get(':path')) ==
              (label['host'], label['method'], label['path']), f'label {label} vs tshark {headers}')
        checked['grpc'] += 1
    return checked


def check_bodies(flows):
    """Every body parses as its Content-Type says: JSON, NDJSON lines, SSE events whose data are
    JSON (OpenAI's closing "[DONE]" aside), HTML; counts chunked and streamed messages."""
    seen = collections.Counter()
    for flow in flows.values():
        for msg in flow.requests + flow.responses:
            where = f'{flow.label["client"]} {msg.start}'
            ctype = msg.headers.get('content-type', '')
            seen['chunked request' if msg in flow.requests and msg.chunked else 'chunked'] += \
                msg.chunked
            if ctype.startswith('application/json'):
                json.loads(msg.body)
            elif ctype.startswith('application/x-ndjson'):
                lines = msg.body.decode().split('\n')
                check(lines[-1] == '' and all(json.loads(l) is not None for l in lines[:-1]), where)
                seen['ndjson'] += 1
            elif ctype.startswith('text/event-stream'):
                events = parse_sse(msg.body, where)
                datas = [e['data'] for e in events]
                if datas[-1] == '[DONE]':  # OpenAI's end of stream
                    datas.pop()
                    seen['sse [DONE]'] += 1
                check(all(isinstance(json.loads(d), (dict, list)) for d in datas), where)
                seen['sse'] += 1
                seen['sse named events'] += any('event' in e for e in events)
            elif ctype.startswith('text/html'):
                check(msg.body.lstrip().lower().startswith((b'<!doctype html', b'<html')), where)
    return seen


def rpc_objects(body, where):
    doc = json.loads(body)
    items = doc if isinstance(doc, list) else [doc]
    check(items and all(isinstance(d, dict) and d.get('jsonrpc') == '2.0' for d in items),
          f'{where}: not JSON-RPC 2.0')
    return items


def response_rpc(msg, where):
    """The JSON-RPC messages of a response: a JSON body, or the data of its SSE events."""
    if msg.headers.get('content-type', '').startswith('text/event-stream'):
        return [o for e in parse_sse(msg.body, where) for o in rpc_objects(e['data'], where)]
    return rpc_objects(msg.body, where)


def check_mcp(flow, seen):
    where, path = flow.label['client'], flow.label['path']
    check(len(flow.requests) == len(flow.responses), f'{where}: requests and responses differ')
    session = None
    for i, (req, res) in enumerate(zip(flow.requests, flow.responses)):
        method, target = req.start.split(' ')[:2]
        check(target == path and method in ('POST', 'DELETE'), f'{where}: {req.start}')
        if i > 0 or 'mcp-session-id' in req.headers:
            check(req.headers.get('mcp-session-id') == session or session is None,
                  f'{where}: Mcp-Session-Id changed')
            session = req.headers.get('mcp-session-id')
            check(session, f'{where}: request {i} without Mcp-Session-Id')
        if method == 'DELETE':
            seen['mcp DELETE'] += 1
            continue
        check('application/json' in req.headers.get('accept', '') and
              'text/event-stream' in req.headers.get('accept', ''), f'{where}: Accept')
        calls = rpc_objects(req.body, where)
        seen['mcp batch'] += req.body.startswith(b'[')
        for call in calls:
            check(call['method'] in MCP_METHODS, f'{where}: method {call["method"]}')
            seen['mcp ' + call['method']] += 1
        if calls[0]['method'] == 'initialize':
            check('mcp-session-id' not in req.headers, f'{where}: session id before initialize')
            session = res.headers.get('mcp-session-id')
            check(session, f'{where}: initialize answered without Mcp-Session-Id')
        ids = {c['id'] for c in calls if 'id' in c}
        if not ids:  # notifications only: 202 Accepted, no body (MCP Streamable HTTP)
            check(res.start.startswith('HTTP/1.1 202') and not res.body, f'{where}: {res.start}')
            continue
        answers = response_rpc(res, where)
        seen['mcp sse'] += res.headers.get('content-type', '').startswith('text/event-stream')
        tokens = {c.get('params', {}).get('_meta', {}).get('progressToken') for c in calls}
        for note in (a for a in answers if a.get('method') == 'notifications/progress'):
            check(note['params']['progressToken'] in tokens - {None},
                  f'{where}: progress for a token no request asked for')
            seen['mcp progress'] += 1
        check({a['id'] for a in answers if 'result' in a or 'error' in a} == ids,
              f'{where}: response ids differ from request ids {ids}')


def check_a2a(flow, seen):
    where = flow.label['client']
    check(len(flow.requests) == len(flow.responses), f'{where}: requests and responses differ')
    for req, res in zip(flow.requests, flow.responses):
        method, target = req.start.split(' ')[:2]
        if method == 'GET':
            check(target in A2A_CARDS, f'{where}: {req.start}')
            card = json.loads(res.body)
            check({'name', 'url', 'skills', 'capabilities'} <= set(card), f'{where}: card')
            seen['a2a card'] += 1
            continue
        (call,) = rpc_objects(req.body, where)
        check(call['method'] in A2A_METHODS, f'{where}: method {call["method"]}')
        seen['a2a ' + call['method']] += 1
        answers = response_rpc(res, where)
        check(all(a['id'] == call['id'] and 'result' in a for a in answers), f'{where}: ids')
        kinds = [a['result']['kind'] for a in answers]
        check(set(kinds) <= {'task', 'status-update', 'artifact-update'}, f'{where}: {kinds}')
        if call['method'] == 'message/stream':
            check(res.headers['content-type'].startswith('text/event-stream') and
                  answers[-1]['result'].get('final') is True, f'{where}: stream not final')


def check_websocket(path, flows):
    ws = [f for f in flows.values() if f.cls == 'websocket']
    check(ws, f'{path}: no websocket conversations')
    rows = tshark_fields(path, ['ip.src', 'tcp.srcport', 'ip.dst', 'tcp.dstport',
                                'websocket.mask'], 'websocket')
    masks = collections.defaultdict(list)  # by (source, destination)
    for r in rows:
        masks[(f'{r["ip.src"]}:{r["tcp.srcport"]}', f'{r["ip.dst"]}:{r["tcp.dstport"]}')] += \
            r['websocket.mask'].split('|')
    for flow in ws:
        where = flow.label['client']
        req, res = flow.requests[0], flow.responses[0]
        key = req.headers.get('sec-websocket-key', '')
        check(len(base64.b64decode(key)) == 16 and req.headers.get('sec-websocket-version') == '13'
              and req.headers.get('connection', '').lower() == 'upgrade', f'{where}: {req}')
        accept = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
        check(res.start.startswith('HTTP/1.1 101') and
              res.headers.get('sec-websocket-accept') == accept, f'{where}: accept {res}')
        up = parse_ws_frames(flow.up_tail, where, True)
        down = parse_ws_frames(flow.down_tail, flow.label['server'], False)
        for opcode, payload in up + down:
            if opcode == 1:
                check(isinstance(json.loads(payload), dict), f'{where}: text frame not JSON')
            check(opcode in (1, 8, 9, 10), f'{where}: opcode {opcode}')
        check(up[-1][0] == 8 and down[-1][0] == 8 and
              struct.unpack('!H', up[-1][1][:2])[0] == 1000, f'{where}: closing handshake')
        pings = [p for o, p in down if o == 9]
        check(pings == [p for o, p in up if o == 10], f'{where}: pongs do not echo pings')
        # tshark: every client frame masked, no server frame masked (RFC 6455 §5.1)
        server = flow.label['server']
        up_masks, down_masks = masks[(where, server)], masks[(server, where)]
        check(up_masks == ['1'] * len(up) and down_masks == ['0'] * len(down),
              f'{where}: tshark masks {up_masks} / {down_masks}')
    return len(ws)


def check_grpc(path, flows):
    grpc = {c: f for c, f in flows.items() if f.cls == 'grpc'}
    check(grpc, f'{path}: no grpc conversations')
    h2 = first_h2_headers(path)
    huffman = collections.Counter()
    blocks = collections.defaultdict(list)  # per direction, in order: for python3-hpack
    for r in tshark_fields(path, ['ip.src', 'tcp.srcport', 'ip.dst', 'tcp.dstport',
                                  'http2.headers', 'http2.header.name', 'http2.header.value'],
                           'http2.type == 1'):
        src, dst = f'{r["ip.src"]}:{r["tcp.srcport"]}', f'{r["ip.dst"]}:{r["tcp.dstport"]}'
        client = src if src in grpc else dst
        if client not in grpc:
            continue
        for block in r['http2.headers'].split('|'):
            flags = hpack_string_flags(bytes.fromhex(block))
            huffman[(client, src == client)] += sum(flags)
            blocks[(src, dst)].append(bytes.fromhex(block))
        if src != client:
            check('grpc-status' in r['http2.header.name'].split('|') or
                  ':status' in r['http2.header.name'].split('|'), f'{client}: server headers')
    trailers = {f'{r["ip.dst"]}:{r["tcp.dstport"]}' for r in tshark_fields(
        path, ['ip.dst', 'tcp.dstport'], 'http2.type == 1 && http2.flags.end_stream == 1 && '
                                         'http2.header.name == "grpc-status"')}
    messages = collections.Counter()
    for r in tshark_fields(path, ['ip.src', 'tcp.srcport', 'ip.dst', 'tcp.dstport'], 'grpc'):
        messages[f'{r["ip.src"]}:{r["tcp.srcport"]}'] += 1
        messages[f'{r["ip.dst"]}:{r["tcp.dstport"]}'] += 1
    for client, flow in grpc.items():
        headers = h2[client]
        check(flow.up.startswith(H2_PREFACE), f'{client}: no HTTP/2 client preface')
        check((headers[':method'], headers[':scheme'], headers['content-type'], headers['te']) ==
              ('POST', 'http', 'application/grpc', 'trailers'), f'{client}: headers {headers}')
        check(re.fullmatch(r'/[\w.]+/\w+', headers[':path']), f'{client}: :path {headers}')
        check(huffman[(client, True)] > 0, f'{client}: no Huffman-coded string in its HEADERS')
        check(client in trailers, f'{client}: no trailers with grpc-status and END_STREAM')
        check(messages[client] > 0, f'{client}: no gRPC message decoded')
    check(sum(v for (c, up), v in huffman.items() if not up) > 0, 'servers never use Huffman')
    try:
        import hpack  # python3-hpack: a second, independent HPACK decoder
    except ImportError:
        print('test_routegen: note: python3-hpack not installed, HPACK cross-check skipped')
        return len(grpc)
    first_path = {}
    for (src, dst), direction in blocks.items():
        decoder = hpack.Decoder()
        for block in direction:
            fields = dict(decoder.decode(block))
            if src in grpc and src not in first_path:
                first_path[src] = fields.get(':path')
    for client, flow in grpc.items():
        check(first_path.get(client) == flow.label['path'], f'{client}: hpack says '
                                                            f'{first_path.get(client)}')
    return len(grpc)


def check_ssh(path, labels):
    ssh = [l for l in labels if l['class'] == 'ssh']
    check(ssh, f'{path}: no ssh conversations')
    rows = tshark_fields(path, ['ip.src', 'tcp.srcport', 'ip.dst', 'tcp.dstport', 'ssh.protocol',
                                'ssh.kex_algorithms', 'ssh.server_host_key_algorithms',
                                'ssh.message_code'], 'ssh')
    by = collections.defaultdict(lambda: collections.defaultdict(set))  # (source, destination)
    for r in rows:
        side = by[(f'{r["ip.src"]}:{r["tcp.srcport"]}', f'{r["ip.dst"]}:{r["tcp.dstport"]}')]
        for field in ('ssh.protocol', 'ssh.kex_algorithms', 'ssh.server_host_key_algorithms',
                      'ssh.message_code'):
            side[field].update(v for v in r[field].split('|') if v)
    sk_listed = 0
    for label in ssh:
        client = by[(label['client'], label['server'])]
        server = by[(label['server'], label['client'])]
        for side, who in ((client, 'client'), (server, 'server')):
            check(any(p.startswith('SSH-2.0-') for p in side['ssh.protocol']),
                  f'{label["client"]}: no {who} SSH-2.0 banner')
            check({'20', '21'} <= side['ssh.message_code'], f'{label["client"]}: {who} codes')
            kex = ','.join(side['ssh.kex_algorithms']).split(',')
            check('curve25519-sha256' in kex or 'curve25519-sha256@libssh.org' in kex,
                  f'{label["client"]}: {who} KEXINIT {kex}')
        check('30' in client['ssh.message_code'] and '31' in server['ssh.message_code'],
              f'{label["client"]}: no ECDH key exchange')
        keys = ','.join(client['ssh.server_host_key_algorithms']).split(',')
        sk_listed += 'sk-ecdsa-sha2-nistp256@openssh.com' in keys
    check(sk_listed > 0, 'no client KEXINIT lists sk-ecdsa-sha2-nistp256@openssh.com')
    return len(ssh)


def check_risk_places(flows):
    """Where secrets and shell commands sit: the spec's placements all occur, and near misses
    (which must carry no tag) are what they claim to be."""
    places = collections.Counter()
    for flow in flows.values():
        label, where = flow.label, flow.label['client']
        if 'secret' in flow.tags:
            places[f'secret in {flow.cls}'] += 1
            for msg in flow.requests:
                target = msg.start.split(' ')[1]
                ctype = msg.headers.get('content-type', '')
                places['secret in query'] += bool(risk_tags(unquote_plus(target.partition('?')[2])))
                for name, value in msg.fields:
                    if risk_tags(value):
                        places[f'secret in {"Authorization to a non-LLM API" if name == "authorization" else "a header"}'] += 1
                if risk_tags(msg.body.decode('utf-8', 'replace')) or \
                        risk_tags(unquote_plus(msg.body.decode('utf-8', 'replace'))):
                    kind = ('form' if 'urlencoded' in ctype else 'multipart' if 'multipart' in
                            ctype else 'json' if 'json' in ctype else ctype)
                    places[f'secret in a {kind} body'] += 1
        if 'shell' in flow.tags:
            places[f'shell in {flow.cls}'] += 1
        if label['scenario'] == 'http_nearmiss':
            check(flow.cls == 'http' and not flow.tags, f'{where}: near miss {label}')
            body = flow.requests[0].body.decode()
            doc = json.loads(body)
            if doc.get('method') == 'tools/callback':
                check(flow.path != '/mcp', f'{where}: tools/callback on an MCP path')
                places['near miss tools/callback'] += 1
            if re.search(r'(?<![0-9A-Z])AKIA[0-9A-Z]{1,15}(?![0-9A-Z])', body):
                places['near miss short AKIA'] += 1
            if any('/v1/chat/completions' in v for v in doc.values() if isinstance(v, str)):
                check(not is_llm_path(flow.path), f'{where}: LLM path')
                places['near miss LLM path in JSON'] += 1
    wanted = ['secret in http', 'secret in llm.api', 'secret in mcp', 'secret in query',
              'secret in a header', 'secret in Authorization to a non-LLM API',
              'secret in a form body', 'secret in a multipart body', 'secret in a json body',
              'shell in http', 'shell in llm.api', 'shell in mcp', 'near miss tools/callback',
              'near miss short AKIA', 'near miss LLM path in JSON']
    missing = [w for w in wanted if not places[w]]
    check(not missing, f'never generated: {missing}')
    return places


def check_negative_controls(tmp, path, packets):
    """The clean-capture check must notice a corrupted byte and a retransmitted segment."""
    index = next(i for i, (_, f) in enumerate(packets)
                 if (p := parse_frame(f)) and p['proto'] == 6 and len(p['payload']) > 100)
    ts, frame = packets[index]
    flipped = frame[:-1] + bytes([frame[-1] ^ 0x5a])
    retransmitted = packets[:index + 1] + [(ts + 50_000, frame)] + packets[index + 1:]
    for name, corrupt in (('flipped', packets[:index] + [(ts, flipped)] + packets[index + 1:]),
                          ('retransmitted', retransmitted)):
        bad = os.path.join(tmp, f'{name}.pcap')
        write_pcap(bad, sorted(corrupt, key=lambda p: p[0]), path)
        try:
            check_tshark_clean(bad)
        except Failure:
            continue
        raise Failure(f'negative control "{name}": the checks did not notice the damage')


def client_ips(path):
    rows = tshark_fields(path, ['ip.src'],
                         '(tcp.flags.syn == 1 && tcp.flags.ack == 0) || dns.flags.response == 0')
    return {row['ip.src'] for row in rows}


def check_cli_errors(binary, tmp):
    out = os.path.join(tmp, 'err.pcap')
    cases = [['--agents', '0'], ['--agents', '10', '--flows', '5'], ['--servers', '0'],
             ['--duration', '0'], ['--duration', 'soon'], ['--flows', 'many'],
             ['--agent-subnet', '10.1.0.0/33'], ['--agent-subnet', '10.1.0.1/16'],
             ['--agent-subnet', '10.2.0.0/24'], ['--server-subnet', '10.2.0'],
             ['--agents', '300', '--flows', '300', '--agent-subnet', '10.9.0.0/24'],
             ['--mix', 'bogus=1'], ['--mix', 'http_json=x'], ['--mix', 'http_json=0'],
             ['--mix', 'http_json=1,http_json=2'], ['--seed', '-1'], ['--frobnicate']]
    for args in cases:
        proc = run([binary, '-o', out, *args])
        lines = proc.stderr.strip().splitlines()
        check(proc.returncode != 0, f'{args}: accepted')
        check(len(lines) == 1 and lines[0].startswith('tcp-routegen'),
              f'{args}: want one error line, got {proc.stderr!r}')
        check(not os.path.exists(out), f'{args}: wrote {out} anyway')
    proc = run([binary, '--agents', '5'])
    check(proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1,
          'missing -o accepted')
    proc = run([binary, '-o', os.path.join(tmp, 'no', 'such', 'dir.pcap')])
    check(proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1,
          f'unwritable output: exit {proc.returncode}, {proc.stderr!r}')


def digest(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def all_kinds(binary):
    proc = run([binary, '--list-scenarios'])
    check(proc.returncode == 0, f'--list-scenarios: exit {proc.returncode}')
    kinds = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    check(set(kinds) == set(CLASS_OF), f'--list-scenarios {kinds}, README documents {set(CLASS_OF)}')
    return kinds


def check_everything(binary, tmp):
    """A capture of every kind (--mix name=1 for all): every class and tag, each protocol
    decoded by tshark and here, every label field checked."""
    mix = ','.join(f'{k}=1' for k in all_kinds(binary))
    path = generate(binary, os.path.join(tmp, 'every.pcap'), '--agents', '20', '--servers', '8',
                    '--flows', '600', '--duration', '6', '--seed', '11', '--mix', mix)
    packets, labels = read_pcap(path), read_labels(path)
    check_tshark_clean(path)
    check_labels(path, packets, labels)
    check(len(conversations(path)) == 600, 'conversation count')
    check_tcp_lifecycle(path)
    streams = tcp_streams(packets)
    hellos = client_hellos(path)
    flows = decode_flows(path, streams, labels, hellos)
    check_flows(flows)
    seen = check_bodies(flows)
    for what in ('chunked', 'chunked request', 'ndjson', 'sse', 'sse [DONE]', 'sse named events'):
        check(seen[what] > 0, f'no {what} message in the capture')
    agents = collections.Counter()
    for flow in flows.values():
        if flow.cls == 'mcp':
            check_mcp(flow, agents)
        elif flow.cls == 'a2a':
            check_a2a(flow, agents)
    missing = [w for w in ['mcp ' + m for m in MCP_METHODS] + ['a2a ' + m for m in A2A_METHODS] +
               ['mcp batch', 'mcp sse', 'mcp progress', 'mcp DELETE', 'a2a card']
               if not agents[w]]
    check(not missing, f'never generated: {missing}')
    tls_seen = check_tls(path, streams, labels, hellos)
    check(tls_seen['grease'] and tls_seen['padding'] and tls_seen['h2'], f'TLS: {tls_seen}')
    check_dns(path, labels, ipaddress.IPv4Network('10.2.0.0/16'))
    check_http_json(path, streams, labels)
    check_grpc(path, flows)
    check_websocket(path, flows)
    check_ssh(path, labels)
    check_risk_places(flows)
    checked = check_tshark_agreement(path, flows, labels)
    classes = {l['class'] for l in labels}
    tags = {t for l in labels for t in l['tags']}
    check(classes == CLASSES and tags == TAGS, f'classes {classes}, tags {tags}')
    check({l['scenario'] for l in labels} == set(CLASS_OF), 'not every kind generated')
    llm = [l for l in labels if l['class'] == 'llm.api']
    check(any(l['sni'] for l in llm) and any(l['path'] for l in llm), 'LLM over TLS and HTTP')
    return checked


def main():
    if len(sys.argv) != 2:
        print('usage: test_routegen.py PATH/TO/tcp-routegen', file=sys.stderr)
        return 2
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        # The default mix, checked in depth.
        main_pcap = generate(binary, os.path.join(tmp, 'main.pcap'), '--agents', '12',
                             '--servers', '6', '--flows', '120', '--duration', '4', '--seed', '7')
        packets = read_pcap(main_pcap)
        labels = read_labels(main_pcap)
        check_tshark_clean(main_pcap)
        check_negative_controls(tmp, main_pcap, packets)
        per_conv = check_labels(main_pcap, packets, labels)
        convs = conversations(main_pcap)
        check(len(convs) == 120, f'--flows 120 gave {len(convs)} conversations in tshark')
        for key, frames in convs.items():
            check(per_conv.get(key, (0, 0, -1))[2] == frames, f'frames of {set(key[1])} differ')
        tcp_count = check_tcp_lifecycle(main_pcap)
        check(tcp_count == sum(1 for l in labels if l['proto'] == 'tcp'), 'TCP stream count')
        streams = tcp_streams(packets)
        check(max(len(p) for p in streams.values()) > TCP_MSS_WITH_TIMESTAMPS,
              'no message long enough to show MSS segmentation')
        hellos = client_hellos(main_pcap)
        check_flows(decode_flows(main_pcap, streams, labels, hellos))
        check_http_json(main_pcap, streams, labels)
        check_tls(main_pcap, streams, labels, hellos)
        check_dns(main_pcap, labels, ipaddress.IPv4Network('10.2.0.0/16'))

        # Every kind, every class and tag, every protocol decoded.
        check_everything(binary, tmp)

        # Determinism.
        again = generate(binary, os.path.join(tmp, 'again.pcap'), '--agents', '12', '--servers',
                         '6', '--flows', '120', '--duration', '4', '--seed', '7')
        check(digest(again) == digest(main_pcap), 'same --seed, different pcap')
        check(digest(again + '.labels.jsonl') == digest(main_pcap + '.labels.jsonl'),
              'same --seed, different labels')
        other = generate(binary, os.path.join(tmp, 'other.pcap'), '--agents', '12', '--servers',
                         '6', '--flows', '120', '--duration', '4', '--seed', '8')
        check(digest(other) != digest(main_pcap), '--seed 8 and --seed 7 give the same pcap')

        # --agents: exactly N distinct client addresses, all in the agent subnet.
        net = ipaddress.IPv4Network('192.168.50.0/24')
        for n, flows in ((7, 40), (25, 25)):
            agents = generate(binary, os.path.join(tmp, f'agents{n}.pcap'), '--agents', str(n),
                              '--flows', str(flows), '--agent-subnet', str(net))
            ips = client_ips(agents)
            check(len(ips) == n and all(ipaddress.IPv4Address(ip) in net for ip in ips),
                  f'--agents {n} --flows {flows} in {net}: clients {sorted(ips)}')

        # --flows: total conversations (TCP connections + UDP exchanges); default 500.
        for args, want in ((['--agents', '3', '--flows', '37'], 37), ([], 500)):
            path = generate(binary, os.path.join(tmp, f'flows{want}.pcap'), *args)
            got = len(conversations(path))
            check(got == want and len(read_labels(path)) == want, f'{args}: {got} conversations')
            if not args:
                check(len(client_ips(path)) == 50, 'default run: not 50 agents')

        # --duration: every packet within D seconds of the first, and the span is used.
        path = generate(binary, os.path.join(tmp, 'duration.pcap'), '--flows', '200',
                        '--duration', '2.5')
        times = [ts for ts, _ in read_pcap(path)]
        check(times[-1] - times[0] <= 2_500_000, f'--duration 2.5 spans {times[-1] - times[0]} us')
        check(times[-1] - times[0] >= 1_250_000,
              f'--duration 2.5 spans only {times[-1] - times[0]} us')

        # --mix: only the kinds asked for.
        path = generate(binary, os.path.join(tmp, 'mix.pcap'), '--flows', '60',
                        '--mix', 'dns_query=1,http_json=0')
        check({l['scenario'] for l in read_labels(path)} == {'dns_query'}, '--mix dns_query=1')
        check(not any(k[0] == 'tcp' for k in conversations(path)), '--mix dns_query=1 has TCP')
        path = generate(binary, os.path.join(tmp, 'mix2.pcap'), '--agents', '10', '--flows', '40',
                        '--mix', 'grpc=1,ssh=1')
        check({l['class'] for l in read_labels(path)} == {'grpc', 'ssh'}, '--mix grpc=1,ssh=1')

        check_cli_errors(binary, tmp)
    print('test_routegen: all checks passed')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (Failure, ValueError, KeyError, IndexError) as failure:  # a decode that failed, too
        print(f'test_routegen: FAIL: {failure}', file=sys.stderr)
        sys.exit(1)
