"""leak_packets — which packet of a capture first carries a secret, per agent (for tcpr-eval).

The target for `secret_leak` is detection on "the same packet": the packet that completes the
secret in the agent's byte stream, not the connection's SYN (the labels' onset). This module finds
that packet independently of the router: it reads the capture (classic pcap, µs or ns
timestamps, Ethernet with up to two VLAN tags, IPv4 TCP), follows each TCP connection the given
agents open in sequence order, and returns, per agent, the capture time of the first segment after
which the stream holds a complete match of one of SECRET_PATTERNS — an AWS access key id or a PEM
private-key header, the two carriers tcp-routegen's secret_leak uses (tools/tcp-routegen/README.md).
Standard library only.
"""
import ipaddress
import re
import struct

SECRET_PATTERNS = [re.compile(rb'AKIA[0-9A-Z]{16}'),
                   re.compile(rb'-----BEGIN [A-Z ]*PRIVATE KEY-----')]
# A match is at most this long; the stream kept per connection is its tail of this many bytes
# plus the newest segment, so memory stays bounded whatever the upload size.
KEEP = 64

ETH_VLAN = (0x8100, 0x88a8)


class CaptureError(Exception):
    pass


def _records(path):
    with open(path, 'rb') as f:
        header = f.read(24)
        if len(header) < 24:
            raise CaptureError(f'{path}: not a pcap file (too short)')
        magic = header[:4]
        formats = {b'\xd4\xc3\xb2\xa1': ('<', 1e-6), b'\xa1\xb2\xc3\xd4': ('>', 1e-6),
                   b'\x4d\x3c\xb2\xa1': ('<', 1e-9), b'\xa1\xb2\x3c\x4d': ('>', 1e-9)}
        if magic not in formats:
            raise CaptureError(f'{path}: not a classic pcap file (pcapng is not read here)')
        endian, unit = formats[magic]
        linktype = struct.unpack(endian + 'I', header[20:24])[0]
        if linktype != 1:
            raise CaptureError(f'{path}: link type {linktype}, not Ethernet')
        rec = struct.Struct(endian + 'IIII')
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            sec, frac, caplen, _ = rec.unpack(h)
            data = f.read(caplen)
            if len(data) < caplen:
                return  # truncated last record: nothing more to read
            yield sec, frac, unit, data


def first_secret_packets(path, agents):
    """{agent address text: capture seconds of its first secret-completing packet} for the given
    agents (an agent without one is absent)."""
    wanted = {ipaddress.ip_address(a).packed: a for a in agents}
    found = {}
    streams = {}  # (src, sport, dst, dport) -> [next seq, tail bytes]
    for sec, frac, unit, frame in _records(path):
        off, etype = 12, None
        while len(frame) >= off + 2:
            etype = int.from_bytes(frame[off:off + 2], 'big')
            if etype in ETH_VLAN:
                off += 4
                continue
            break
        off += 2
        if etype != 0x0800 or len(frame) < off + 20:
            continue
        src = frame[off + 12:off + 16]
        agent = wanted.get(src)
        if agent is None or agent in found or frame[off + 9] != 6:
            continue
        ihl = (frame[off] & 0x0f) * 4
        total = int.from_bytes(frame[off + 2:off + 4], 'big')
        tcp = off + ihl
        if len(frame) < tcp + 20:
            continue
        sport, dport, seq = struct.unpack('>HHI', frame[tcp:tcp + 8])
        flags = frame[tcp + 13]
        payload = frame[tcp + (frame[tcp + 12] >> 4) * 4:off + total]
        key = (src, sport, frame[off + 16:off + 20], dport)
        if flags & 0x02:  # SYN: the stream starts after it
            streams[key] = [(seq + 1) & 0xffffffff, b'']
            continue
        state = streams.get(key)
        if state is None or not payload or seq != state[0]:
            continue  # not followed from its SYN, empty, or out of order: ignored
        state[0] = (seq + len(payload)) & 0xffffffff
        window = state[1] + payload
        if any(p.search(window) for p in SECRET_PATTERNS):
            found[agent] = round(sec + frac * unit, 6 if unit == 1e-6 else 9)
            continue
        state[1] = window[-KEEP:]
    return found
