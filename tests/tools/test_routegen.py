#!/usr/bin/python3
"""test_routegen.py — end-to-end checks of tcp-routegen against tshark and the protocol specs.

Usage: /usr/bin/python3 tests/tools/test_routegen.py PATH/TO/tcp-routegen

Every expectation comes from a specification or from tshark's own analysis, never from the
generator's output: the pcap format (libpcap file format), IPv4/TCP/UDP checksums (tshark with
checksum validation on), TCP sequence analysis (tshark's expert info), HTTP/1.1 framing and
JSON (RFC 9112, RFC 8259, parsed here from reassembled streams), TLS record framing (RFC 8446)
and the options' documented meaning. Two negative controls corrupt a capture and check that the
checks notice. Exits non-zero with one message on the first failure.
"""
import hashlib
import ipaddress
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

CHECKSUM_PREFS = ['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
                  '-o', 'udp.check_checksum:TRUE']
PI_WARN = 0x00600000          # epan/proto.h: expert severity "Warning"
CHECKSUM_GOOD = '1'           # epan: PROTO_CHECKSUM_E_GOOD
PCAP_MAGIC_USEC = 0xa1b2c3d4  # classic pcap, microsecond timestamps
LINKTYPE_ETHERNET = 1
TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = 0x01, 0x02, 0x04, 0x10
TCP_MSS_WITH_TIMESTAMPS = 1460 - 12  # RFC 7323 option on every segment
LABEL_KEYS = ['proto', 'client', 'server', 'scenario', 'class', 'tags', 'sni', 'host', 'method',
              'path', 'first_ts', 'last_ts', 'packets', 'bytes']
CLASS_OF = {'http_json': 'http', 'tls_hello': 'tls', 'dns_query': 'dns'}


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


def tshark(path, *args):
    proc = run(['tshark', '-r', path, *CHECKSUM_PREFS, *args])
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


def parse_http_messages(data, where):
    """Splits an HTTP/1.1 byte stream into (start line, headers, body) using Content-Length."""
    messages = []
    while data:
        head, sep, rest = data.partition(b'\r\n\r\n')
        check(sep, f'{where}: HTTP head without an empty line')
        lines = head.decode('ascii').split('\r\n')
        headers = {}
        for line in lines[1:]:
            name, colon, value = line.partition(':')
            check(colon, f'{where}: bad header line {line!r}')
            headers[name.strip().lower()] = value.strip()
        check('content-length' in headers, f'{where}: no Content-Length')
        length = int(headers['content-length'])
        check(len(rest) >= length, f'{where}: body shorter than Content-Length')
        messages.append((lines[0], headers, rest[:length]))
        data = rest[length:]
    return messages


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


# --- checks --------------------------------------------------------------------------------------

def check_tshark_clean(path):
    """No TCP analysis flags, no expert warnings or errors, every checksum verified good."""
    flagged = tshark(path, '-Y', f'tcp.analysis.flags || _ws.expert.severity >= {PI_WARN:#x}'
                                 ' || _ws.malformed')
    check(not flagged.strip(), f'{path}: tshark flags packets:\n{flagged[:2000]}')
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
        check(label['class'] == CLASS_OF.get(label['scenario']), f'label {label}')
        key = (label['proto'], frozenset((label['client'], label['server'])))
        check(key in per_conv, f'label without a conversation: {label}')
        first, last, count, size = per_conv[key]
        check((label['packets'], label['bytes']) == (count, size), f'counts differ: {label}')
        check(round(label['first_ts'] * 1e6) == first and round(label['last_ts'] * 1e6) == last,
              f'times differ: {label}')
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


def check_http(path, streams, labels):
    http = [l for l in labels if l['class'] == 'http']
    check(http, f'{path}: no http conversations to check')
    requests = tshark_fields(path, ['tcp.stream', 'ip.src', 'tcp.srcport', 'frame.protocols',
                                    'http.request.method', 'http.host', 'http.request.uri',
                                    'http.content_type'], 'http.request')
    first = {}
    for r in requests:
        check(r['http.request.method'] == 'POST', f'request method {r["http.request.method"]}')
        check(r['frame.protocols'].endswith(':http:json'),
              f'request body not decoded as JSON: {r["frame.protocols"]}')
        check(r['http.content_type'] == 'application/json',
              f'content type {r["http.content_type"]}')
        first.setdefault(f'{r["ip.src"]}:{r["tcp.srcport"]}', r)
    responses = tshark_fields(path, ['frame.protocols', 'http.response.code'], 'http.response')
    check(len(responses) == len(requests), f'{len(requests)} requests, {len(responses)} responses')
    for r in responses:
        check(r['http.response.code'] == '200' and r['frame.protocols'].endswith(':http:json'),
              f'response {r}')
    for label in http:
        r = first.get(label['client'])
        check(r is not None, f'tshark decoded no HTTP request for {label["client"]}')
        check((r['http.host'], r['http.request.uri'], 'POST') ==
              (label['host'], label['path'], label['method']), f'label {label} vs tshark {r}')
        cip, cport = label['client'].rsplit(':', 1)
        sip, sport = label['server'].rsplit(':', 1)
        ups = parse_http_messages(streams[(cip, int(cport), sip, int(sport))], label['client'])
        downs = parse_http_messages(streams[(sip, int(sport), cip, int(cport))], label['server'])
        check(len(ups) == len(downs),
              f'{label["client"]}: {len(ups)} requests, {len(downs)} replies')
        for start, headers, body in ups + downs:
            check(headers.get('content-type') == 'application/json', f'{start}: content type')
            check(isinstance(json.loads(body), dict), f'{start}: body is not a JSON object')
    return len(requests)


def check_tls(path, streams, labels):
    tls = [l for l in labels if l['class'] == 'tls']
    check(tls, f'{path}: no tls conversations to check')
    hellos = {}
    for r in tshark_fields(path, ['ip.src', 'tcp.srcport', 'tls.handshake.extensions_server_name',
                                  'tls.handshake.extensions_alpn_str'], 'tls.handshake.type == 1'):
        hellos[f'{r["ip.src"]}:{r["tcp.srcport"]}'] = r
    servers = {f'{r["ip.dst"]}:{r["tcp.dstport"]}' for r in tshark_fields(
        path, ['ip.dst', 'tcp.dstport'],
        'tls.handshake.type == 2 && tls.handshake.extensions.supported_version == 0x0304')}
    for label in tls:
        hello = hellos.get(label['client'])
        check(hello is not None, f'no ClientHello decoded for {label}')
        check(hello['tls.handshake.extensions_server_name'] == label['sni'], f'SNI: {hello}')
        check('http/1.1' in hello['tls.handshake.extensions_alpn_str'].split('|'), f'ALPN: {hello}')
        check(label['client'] in servers, f'no TLS 1.3 ServerHello to {label["client"]}')
        cip, cport = label['client'].rsplit(':', 1)
        sip, sport = label['server'].rsplit(':', 1)
        up = check_tls_records(streams[(cip, int(cport), sip, int(sport))], label['client'])
        down = check_tls_records(streams[(sip, int(sport), cip, int(cport))], label['server'])
        check(up[0] == 22 and down[0] == 22, f'{label["client"]}: handshake does not come first')
        check(23 in up and 23 in down, f'{label["client"]}: no application data')


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


def main():
    if len(sys.argv) != 2:
        print('usage: test_routegen.py PATH/TO/tcp-routegen', file=sys.stderr)
        return 2
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        # One mixed capture, checked in depth.
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
        check_http(main_pcap, streams, labels)
        check_tls(main_pcap, streams, labels)
        check_dns(main_pcap, labels, ipaddress.IPv4Network('10.2.0.0/16'))

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

        check_cli_errors(binary, tmp)
    print('test_routegen: all checks passed')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except Failure as failure:
        print(f'test_routegen: FAIL: {failure}', file=sys.stderr)
        sys.exit(1)
