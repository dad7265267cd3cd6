#!/usr/bin/python3
"""test_routegen_behavior.py — tcp-routegen --behavior checked against tshark and our own decoder.

Usage: /usr/bin/python3 tests/tools/test_routegen_behavior.py PATH/TO/tcp-routegen

Behaviour mode writes agents acting over time, some turning anomalous at an onset, and
OUT.pcap.agents.jsonl saying who and when. Every expectation here is the task spec's, measured on
the capture with tshark (checksums, TCP analysis, SYN times) and the independent pcap/TCP/HTTP
decoder of test_routegen.py (payloads); the agents file only says whom to measure. Checked: the
file names each agent once; each anomalous agent opens a connection at exactly its onset and has
its kind's shape from then on and not before; normal agents show none of it (no agent-subnet
peers, no secrets); same seed, same bytes; bad options give one error line and exit 2. Negative
controls check that the checks notice a wrong onset, a mislabelled agent and a corrupted packet.
Exits non-zero with one message on the first failure.
"""
import hashlib
import ipaddress
import json
import os
import re
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_routegen as base  # noqa: E402  (the shared decoder and tshark helpers)

from test_routegen import Failure, check  # noqa: E402

AGENT_NET = ipaddress.IPv4Network('10.1.0.0/16')
KINDS = ['exfil_burst', 'port_scan', 'syn_flood', 'tool_storm', 'beacon', 'secret_leak', 'lateral',
         'prompt_flood']
PROFILES = {'llm', 'tools', 'mixed'}
AGENT_KEYS = ['agent', 'role', 'kind', 'onset', 'profile']
LABEL_KEYS = base.LABEL_KEYS
SECRET = re.compile(rb'AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----')
HTTP_METHOD = re.compile(rb'^[A-Z]+ \S+ HTTP/1\.1\r\n')
EPOCH = 1_700_000_000


def to_us(seconds):
    """Capture seconds (a JSON number or tshark's frame.time_epoch text) -> integer µs."""
    whole, _, frac = f'{seconds:.6f}'.partition('.') if isinstance(seconds, float) \
        else seconds.partition('.')
    return int(whole) * 1_000_000 + int((frac + '000000')[:6])


def generate(binary, out, *args):
    proc = base.run([binary, '-o', out, '--behavior', *args])
    check(proc.returncode == 0, f'{" ".join(args)}: exit {proc.returncode}: {proc.stderr.strip()}')
    return out


def read_agents(path):
    with open(path + '.agents.jsonl', encoding='utf-8') as f:
        return [json.loads(line) for line in f]


def digest(*paths):
    h = hashlib.md5()
    for path in paths:
        with open(path, 'rb') as f:
            h.update(f.read())
    return h.hexdigest()


# --- what the capture shows ---------------------------------------------------------------------

TSHARK_FIELDS = ['frame.number', 'frame.time_epoch', 'ip.src', 'ip.dst', 'ip.proto',
                 'ip.checksum.status', 'tcp.checksum.status', 'udp.checksum.status', 'tcp.flags',
                 'tcp.srcport', 'tcp.dstport', 'tcp.analysis.flags', '_ws.malformed',
                 '_ws.expert.message', '_ws.expert.severity', 'ssh.message_code',
                 'frame.protocols']


def tshark_rows(path):
    """One tshark pass over every packet, checksum validation on."""
    return base.tshark_fields(path, TSHARK_FIELDS)


def check_clean(path, rows):
    """tshark: every checksum good, no TCP analysis flag, no malformed packet, no warning but a
    RST's "Connection reset" (scans and refused connections have them) and tshark's own SSH
    limitations (test_routegen.py explains them)."""
    check(rows, f'{path}: tshark read no packets')
    resets = 0
    for row in rows:
        where = f'{path}: frame {row["frame.number"]}'
        l4 = {'6': row['tcp.checksum.status'], '17': row['udp.checksum.status']}
        check(row['ip.checksum.status'] == base.CHECKSUM_GOOD and
              l4.get(row['ip.proto']) == base.CHECKSUM_GOOD, f'{where}: bad checksum {row}')
        check(not row['tcp.analysis.flags'], f'{where}: TCP analysis flags {row}')
        ssh = {int(row['tcp.srcport'] or 0), int(row['tcp.dstport'] or 0)} & set(base.SSH_PORTS)
        if row['_ws.malformed']:
            check(ssh and row['frame.protocols'].endswith(':ssh') and not row['ssh.message_code'],
                  f'{where}: malformed {row}')
            continue
        for message, severity in zip(row['_ws.expert.message'].split('|'),
                                     row['_ws.expert.severity'].split('|')):
            if not severity or int(severity) < base.PI_WARN:
                continue
            if message == 'Connection reset (RST)' and int(row['tcp.flags'], 16) & base.TCP_RST:
                resets += 1
                continue
            check(base.TSHARK_SSH_SIGNATURE_WARNING.match(message) and
                  '31' in row['ssh.message_code'].split('|'), f'{where}: tshark flags {row}')
    return resets


class Capture:
    """One behaviour capture, decoded: packets, SYNs (tshark), client streams and their requests."""

    def __init__(self, path, rows=None):
        self.path = path
        rows = rows if rows is not None else tshark_rows(path)
        self.packets = base.read_pcap(path)  # also checks that timestamps never go back
        self.agents = read_agents(path)
        self.labels = base.read_labels(path)
        self.first_ts = self.packets[0][0]
        self.last_ts = self.packets[-1][0]
        # Connection openings as tshark sees them: (µs, source, destination, destination port).
        self.syns = [(to_us(r['frame.time_epoch']), r['ip.src'], r['ip.dst'], int(r['tcp.dstport']))
                     for r in rows if r['tcp.flags'] and
                     int(r['tcp.flags'], 16) & (base.TCP_SYN | base.TCP_ACK) == base.TCP_SYN]
        self.syn_ts = {}   # (src, sport, dst, dport) -> SYN time
        self.sent = {}     # source ip -> [(ts, dst ip, payload bytes)]
        for ts, frame in self.packets:
            p = base.parse_frame(frame)
            check(p is not None, f'{path}: a frame that is not IPv4 TCP/UDP')
            if p['proto'] == 6 and p['flags'] & base.TCP_SYN and not p['flags'] & base.TCP_ACK:
                self.syn_ts[(p['src'], p['sport'], p['dst'], p['dport'])] = ts
            # Replies to a connection another host opened are not the sender's own doing.
            reply = p['proto'] == 6 and (p['dst'], p['dport'], p['src'], p['sport']) in self.syn_ts
            self.sent.setdefault(p['src'], []).append((ts, p['dst'], len(p['payload']), reply))
        self.streams = base.tcp_streams(self.packets)
        self.requests = {}  # connection key -> [Msg] (client streams that are HTTP/1.1)
        for key, data in self.streams.items():
            if key in self.syn_ts and HTTP_METHOD.match(data):
                msgs, _ = base.parse_http(data, f'{path} {key}', False)
                self.requests[key] = msgs

    def connections(self, agent):
        """(SYN time, key) of the TCP connections an agent opened, in time order."""
        return sorted((ts, k) for k, ts in self.syn_ts.items() if k[0] == agent)


def check_agents_file(cap, agents_wanted, onset_s, counts):
    agents = cap.agents
    check(len(agents) == agents_wanted, f'{len(agents)} agent lines for --agents {agents_wanted}')
    ips = [a['agent'] for a in agents]
    want = [str(AGENT_NET.network_address + 10 + i) for i in range(agents_wanted)]
    check(ips == want, f'agents not named once each, in agent order: {ips[:5]}...')
    # Whoever opens a conversation from the agent subnet is a named agent (lateral targets only
    # answer). An agent may be silent: its Poisson process can have no arrival in a short capture.
    openers = {k[0] for k in cap.syn_ts} | {l['client'].rsplit(':', 1)[0] for l in cap.labels}
    strangers = {ip for ip in openers if in_agent_net(ip)} - set(ips)
    check(not strangers, f'conversations opened by hosts not in the agents file: {strangers}')
    check(len(openers & set(ips)) >= agents_wanted * 3 // 4, 'most agents are silent')
    for a in agents:
        check(list(a)[:len(AGENT_KEYS)] == AGENT_KEYS, f'agent keys {list(a)}')
        check(a['profile'] in PROFILES, f'profile {a}')
        if a['role'] == 'normal':
            check(a['kind'] is None and a['onset'] is None, f'normal agent with an anomaly: {a}')
        else:
            check(a['role'] == 'anomalous' and a['kind'] in KINDS, f'anomalous agent: {a}')
            onset = to_us(a['onset'])
            low = (EPOCH + onset_s) * 1_000_000
            check(low <= onset < low + 500_000, f'onset {a["onset"]} not in [T, T + 0.5 s): {a}')
    got = {k: sum(1 for a in agents if a['kind'] == k) for k in KINDS}
    check(got == counts, f'anomaly counts {got}, want {counts}')


def check_labels(cap):
    """The per-conversation labels: one per conversation of the capture, same keys as the plain
    mode."""
    convs = set()
    for _, frame in cap.packets:
        p = base.parse_frame(frame)
        convs.add(({6: 'tcp', 17: 'udp'}[p['proto']],
                   frozenset((f'{p["src"]}:{p["sport"]}', f'{p["dst"]}:{p["dport"]}'))))
    for label in cap.labels:
        check(list(label) == LABEL_KEYS, f'label keys {list(label)}')
    labelled = {(l['proto'], frozenset((l['client'], l['server']))) for l in cap.labels}
    check(len(labelled) == len(cap.labels) == len(convs) and labelled == convs,
          f'{len(cap.labels)} labels for {len(convs)} conversations')


def in_agent_net(ip):
    return ipaddress.IPv4Address(ip) in AGENT_NET


def rate_ratio(times, onset, end, first):
    """Events a second after the onset over events a second before it (before: at least one)."""
    before = sum(1 for t in times if t < onset)
    after = sum(1 for t in times if t >= onset)
    ratio = (after / ((end - onset) / 1e6)) / (max(before, 1) / ((onset - first) / 1e6))
    return ratio, before, after


def check_anomaly(cap, a, seen):
    """The spec's shape of each kind, measured on the capture."""
    ip, kind, onset = a['agent'], a['kind'], to_us(a['onset'])
    end = cap.last_ts + 1
    conns = cap.connections(ip)
    at_onset = [k for ts, k in conns if ts == onset]
    where = f'{kind} agent {ip}'
    check(at_onset, f'{where}: no connection opened at its onset {a["onset"]}')
    syns = [(ts, dst, port) for ts, src, dst, port in cap.syns if src == ip]
    reqs = lambda key: cap.requests.get(key, [])  # noqa: E731
    # Nothing in the agent-subnet before the onset, whatever the kind.
    check(not any(in_agent_net(dst) and not reply for ts, dst, _, reply in cap.sent[ip]
                  if ts < onset), f'{where}: contacts the agent subnet before its onset')

    if kind == 'port_scan':
        after = {port for ts, _, port in syns if ts >= onset}
        before = {port for ts, _, port in syns if ts < onset}
        check(len(after) >= 200 and len(before) < 5,
              f'{where}: {len(after)} ports after the onset, {len(before)} before')
        key = at_onset[0]
        check(key not in cap.streams, f'{where}: a scan probe carries data')
        seen[kind] = f'{len(after)} ports after, {len(before)} before'
    elif kind == 'syn_flood':
        first_second = sum(1 for ts, _, _ in syns if onset <= ts < onset + 1_000_000)
        check(first_second >= 500, f'{where}: {first_second} SYNs in the first second')
        before = sum(1 for ts, _, _ in syns if ts < onset)
        check(before < 10, f'{where}: {before} SYNs before the onset')
        check(at_onset[0] not in cap.streams, f'{where}: the first flood SYN carries data')
        seen[kind] = f'{first_second} SYN/s after, {before} SYNs before'
    elif kind == 'beacon':
        first = reqs(at_onset[0])
        check(first, f'{where}: the onset connection carries no HTTP request')
        line = first[0].start
        dst = (at_onset[0][2], at_onset[0][3])
        starts = [ts for ts, k in conns if (k[2], k[3]) == dst and reqs(k) and
                  reqs(k)[0].start == line and ts >= onset]
        check(len(starts) >= 5, f'{where}: {len(starts)} beacons')
        gaps = [b - x for x, b in zip(starts, starts[1:])]
        cv = statistics.pstdev(gaps) / statistics.mean(gaps)
        check(cv < 0.02 and 200_000 * 0.99 <= statistics.mean(gaps) <= 1_000_000 * 1.01,
              f'{where}: intervals mean {statistics.mean(gaps):.0f} us, CV {cv:.4f}')
        check(not any(reqs(k) and reqs(k)[0].start == line for ts, k in conns if ts < onset),
              f'{where}: the beacon request before the onset')
        seen[kind] = (f'{len(starts)} beacons, period {statistics.mean(gaps) / 1e3:.1f} ms, '
                      f'CV {cv:.4f}')
    elif kind == 'lateral':
        after = {dst for ts, dst, _ in syns if ts >= onset and in_agent_net(dst)}
        check(len(after) >= 20, f'{where}: {len(after)} agent-subnet peers after the onset')
        check(in_agent_net(at_onset[0][2]), f'{where}: onset connection to {at_onset[0][2]}')
        seen[kind] = f'{len(after)} agent-subnet peers after, 0 before'
    elif kind == 'secret_leak':
        leaks = sorted(ts for ts, k in conns if SECRET.search(cap.streams.get(k, b'')))
        check(leaks and leaks[0] == onset, f'{where}: secret first sent at {leaks[:1]}, not onset')
        check(any(SECRET.search(cap.streams.get(k, b'')) for k in at_onset),
              f'{where}: the onset connection carries no secret')
        seen[kind] = f'secret in {len(leaks)} connection(s), first at the onset'
    elif kind == 'exfil_burst':
        first = reqs(at_onset[0])
        check(first and first[0].start.startswith('POST ') and
              first[0].headers.get('content-type') == 'application/octet-stream' and
              len(first[0].body) >= 200_000, f'{where}: onset connection is not an upload')
        up_before = sum(n for ts, _, n, _ in cap.sent[ip] if ts < onset)
        up_after = sum(n for ts, _, n, _ in cap.sent[ip] if ts >= onset)
        check(up_after >= 20 * max(up_before, 1),
              f'{where}: {up_after} B up after, {up_before} before')
        seen[kind] = f'{up_after} B uploaded after, {up_before} B before'
    elif kind in ('tool_storm', 'prompt_flood'):
        if kind == 'tool_storm':
            is_call = lambda m: 'tools/call' in base.json_rpc_methods(m)  # noqa: E731
        else:
            is_call = lambda m: base.is_llm_path(m.start.split(' ')[1])  # noqa: E731
        first = reqs(at_onset[0])
        check(first and is_call(first[0]), f'{where}: onset connection {first[:1]}')
        if kind == 'prompt_flood':
            check(len(first[0].body) >= 8_000, f'{where}: prompt of {len(first[0].body)} bytes')
        times = [ts for ts, k in conns for m in reqs(k) if is_call(m)]
        ratio, before, after = rate_ratio(times, onset, end, cap.first_ts)
        check(ratio >= 10,
              f'{where}: request rate ratio {ratio:.1f} ({before} before, {after} after)')
        seen[kind] = f'{after} requests after, {before} before (rate x{ratio:.0f})'


def check_capture(cap, agents_wanted, onset_s, counts):
    check_agents_file(cap, agents_wanted, onset_s, counts)
    check_labels(cap)
    seen = {}
    anomalous = [a for a in cap.agents if a['role'] == 'anomalous']
    for a in anomalous:
        check_anomaly(cap, a, seen)
    leakers = {a['agent'] for a in anomalous if a['kind'] == 'secret_leak'}
    lateral = {a['agent'] for a in anomalous if a['kind'] == 'lateral'}
    for a in cap.agents:
        if a['role'] == 'normal':
            # To the agent subnet a normal agent only answers the lateral agents' connections.
            for _, dst, _, reply in cap.sent[a['agent']]:
                check(not in_agent_net(dst) or (reply and dst in lateral),
                      f'normal agent {a["agent"]} sends to {dst} in the agent subnet')
        if a['agent'] not in leakers:
            check(not any(SECRET.search(data) for k, data in cap.streams.items()
                          if k[0] == a['agent']), f'agent {a["agent"]} sends a secret')
    return seen


def check_negative_controls(cap):
    """The checks must notice a wrong onset and a normal agent passed off as anomalous."""
    anomalous = next(a for a in cap.agents if a['kind'] == 'port_scan')
    normal = next(a for a in cap.agents if a['role'] == 'normal')
    late = dict(anomalous, onset=(to_us(anomalous['onset']) + 1_000) / 1e6)
    for name, agent in (('onset 1 ms late', late),
                        ('normal agent as beacon', dict(normal, role='anomalous', kind='beacon',
                                                        onset=anomalous['onset']))):
        try:
            check_anomaly(cap, agent, {})
        except Failure:
            continue
        raise Failure(f'negative control "{name}": the checks did not notice')


def check_clean_notices(cap, tmp):
    """The clean-capture check must notice one flipped payload byte (a bad TCP checksum)."""
    index = next(i for i, (_, f) in enumerate(cap.packets)
                 if (p := base.parse_frame(f)) and p['proto'] == 6 and len(p['payload']) > 100)
    ts, frame = cap.packets[index]
    packets = list(cap.packets)
    packets[index] = (ts, frame[:-1] + bytes([frame[-1] ^ 0x5a]))
    bad = os.path.join(tmp, 'flipped.pcap')
    base.write_pcap(bad, packets, cap.path)
    try:
        check_clean(bad, tshark_rows(bad))
    except Failure:
        return
    raise Failure('negative control "flipped byte": the clean-capture check did not notice')


def check_cli_errors(binary, tmp):
    out = os.path.join(tmp, 'err.pcap')
    cases = [['--behavior', '--flows', '100'], ['--behavior', '--mix', 'dns_query=1'],
             ['--rate', '1'], ['--anomalies', 'all=1'], ['--onset', '5'],
             ['--behavior', '--anomalies', 'bogus=1'], ['--behavior', '--anomalies', 'beacon=x'],
             ['--behavior', '--anomalies', 'beacon=1,beacon=2'],
             ['--behavior', '--agents', '4', '--anomalies', 'all=1'],
             ['--behavior', '--agents', '10', '--anomalies', 'port_scan=8,beacon=3'],
             ['--behavior', '--onset', '2'], ['--behavior', '--duration', '10', '--onset', '9'],
             ['--behavior', '--agents', '20', '--duration', '4'],
             ['--behavior', '--rate', '-1'], ['--behavior', '--rate', 'fast'],
             ['--behavior', '--duration', '0'],
             ['--behavior', '--agents', '3', '--agent-subnet', '10.9.0.0/28',
              '--anomalies', 'lateral=1']]
    for args in cases:
        proc = base.run([binary, '-o', out, *args])
        lines = proc.stderr.strip().splitlines()
        check(proc.returncode == 2, f'{args}: exit {proc.returncode}, want 2')
        check(len(lines) == 1 and lines[0].startswith('tcp-routegen: error'),
              f'{args}: want one error line, got {proc.stderr!r}')
        check(not os.path.exists(out), f'{args}: wrote {out} anyway')
    return len(cases)


def main():
    if len(sys.argv) != 2:
        print('usage: test_routegen_behavior.py PATH/TO/tcp-routegen', file=sys.stderr)
        return 2
    binary = sys.argv[1]
    all_one = {k: 1 for k in KINDS}
    with tempfile.TemporaryDirectory() as tmp:
        common = ['--agents', '24', '--duration', '12', '--onset', '4']
        for seed in ('5', '9'):
            path = generate(binary, os.path.join(tmp, f's{seed}.pcap'), *common, '--seed', seed)
            rows = tshark_rows(path)
            resets = check_clean(path, rows)
            check(resets > 0, f'{path}: no RST (port_scan and syn_flood have them)')
            cap = Capture(path, rows)
            check(cap.last_ts - cap.first_ts < 12_000_000, f'{path}: longer than --duration')
            seen = check_capture(cap, 24, 4, all_one)
            check_negative_controls(cap)
            if seed == '5':
                check_clean_notices(cap, tmp)
            print(f'seed {seed}: {len(cap.packets)} packets, {len(cap.labels)} conversations')
            for kind in KINDS:
                print(f'  {kind:<13} {seen[kind]}')

        # Defaults: all=1 at 16 agents or more, onset 0.6 x duration; none below 16 agents.
        path = generate(binary, os.path.join(tmp, 'default.pcap'), '--agents', '16',
                        '--duration', '10', '--seed', '3')
        cap = Capture(path)
        check_agents_file(cap, 16, 6, all_one)
        path = generate(binary, os.path.join(tmp, 'few.pcap'), '--agents', '15', '--duration', '3')
        check(all(a['role'] == 'normal' for a in read_agents(path)), '15 agents: anomalies')
        path = generate(binary, os.path.join(tmp, 'two.pcap'), '--agents', '30', '--duration', '10',
                        '--anomalies', 'all=2,secret_leak=0', '--onset', '3.5', '--seed', '4')
        rows = tshark_rows(path)
        check_clean(path, rows)
        want = {k: 2 for k in KINDS} | {'secret_leak': 0}
        check_capture(Capture(path, rows), 30, 3.5, want)

        # Same options, same bytes; another seed, other bytes.
        a = os.path.join(tmp, 's5.pcap')
        again = generate(binary, os.path.join(tmp, 'again.pcap'), *common, '--seed', '5')
        check(digest(a, a + '.agents.jsonl', a + '.labels.jsonl') ==
              digest(again, again + '.agents.jsonl', again + '.labels.jsonl'),
              'same --seed, different files')
        check(digest(a) != digest(os.path.join(tmp, 's9.pcap')), '--seed 5 and 9: same pcap')
        print(f'determinism: md5 {digest(a)} twice; seed 9 differs')

        print(f'CLI errors: {check_cli_errors(binary, tmp)} cases, one line and exit 2 each')
    print('test_routegen_behavior: all checks passed')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (Failure, ValueError, KeyError, IndexError) as failure:
        print(f'test_routegen_behavior: FAIL: {failure}', file=sys.stderr)
        sys.exit(1)
