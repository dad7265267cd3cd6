#!/usr/bin/python3
"""make_malformed.py — write tests/data/malformed.pcap: valid traffic plus one frame per parser
drop reason exercised by tests/replay/malformed/.

Run with /usr/bin/python3 (needs scapy); the output is byte-for-byte reproducible (fixed MACs,
addresses, ports, sequence numbers and timestamps). Frames, in order (see include/tcpr/packet/
parser.hpp for the checks and include/tcpr/abi/drop_reason.h for the names):

  #  what                                                         expected verdict
  1  TCP SYN          10.99.1.1:40000 -> 10.99.1.2:80             pass (flow A)
  2  TCP SYN/ACK      10.99.1.2:80 -> 10.99.1.1:40000             pass (flow A)
  3  IPv4 IHL = 4                                                 drop ipv4_bad_ihl
  4  TCP ACK                                                      pass (flow A)
  5  IPv4 total length 1000, frame carries 40 bytes of IP        drop ipv4_bad_total_length
  6  TCP data offset 4                                            drop tcp_bad_data_offset
  7  TCP PSH/ACK "GET / HTTP/1.1" (client -> server)              pass (flow A)
  8  IPv6 + 9 extension headers + UDP                             drop ipv6_ext_chain_too_long
  9  IPv6 + 8 extension headers + UDP [fd99:1::1]:5000 -> :6000   pass (flow B; limit is 8)
 10  10-byte frame (shorter than an Ethernet header)              drop l2_truncated
 11  Ethernet type 0x8100 and only 2 bytes of the 4-byte tag      drop vlan_truncated
 12  TCP ACK          10.99.1.2:80 -> 10.99.1.1:40000             pass (flow A)

So: 12 packets, 6 dropped (one per reason above), 6 leave, 2 flows (A: 5 packets, B: 1).
"""
import os
import sys

from scapy.all import (  # scapy is only on the system interpreter
    IP, TCP, UDP, Ether, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, Raw, RawPcapWriter)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "malformed.pcap")
T0 = 1700000000  # capture seconds of frame 1; frame i is at T0 + i ms
MAC_C, MAC_S = "02:00:0a:63:01:01", "02:00:0a:63:01:02"
CLI, SRV = "10.99.1.1", "10.99.1.2"


def c2s(l4):
    return Ether(src=MAC_C, dst=MAC_S) / IP(src=CLI, dst=SRV, ttl=64, id=1) / l4


def s2c(l4):
    return Ether(src=MAC_S, dst=MAC_C) / IP(src=SRV, dst=CLI, ttl=64, id=2) / l4


def v6_chain(n, sport, dport):
    """IPv6 with n extension headers (hop-by-hop first, then destination options) and UDP."""
    pkt = Ether(src=MAC_C, dst=MAC_S) / IPv6(src="fd99:1::1", dst="fd99:1::2", hlim=64)
    pkt = pkt / IPv6ExtHdrHopByHop()
    for _ in range(n - 1):
        pkt = pkt / IPv6ExtHdrDestOpt()
    return pkt / UDP(sport=sport, dport=dport) / Raw(b"ext-chain")


def frames():
    http = b"GET / HTTP/1.1\r\nHost: 10.99.1.2\r\n\r\n"
    isn_c, isn_s = 1000, 5000
    yield c2s(TCP(sport=40000, dport=80, flags="S", seq=isn_c, window=64240))
    yield s2c(TCP(sport=80, dport=40000, flags="SA", seq=isn_s, ack=isn_c + 1, window=65160))
    # IHL 4: 16-byte header claimed; the bytes are a normal 20-byte header.
    yield (Ether(src=MAC_C, dst=MAC_S) / IP(src="10.99.1.3", dst=SRV, ihl=4, id=3)
           / TCP(sport=40001, dport=80, flags="S"))
    yield c2s(TCP(sport=40000, dport=80, flags="A", seq=isn_c + 1, ack=isn_s + 1))
    # Total length 1000, but the frame holds 20 + 20 bytes of IP.
    yield (Ether(src=MAC_C, dst=MAC_S) / IP(src="10.99.1.4", dst=SRV, len=1000, id=4)
           / TCP(sport=40002, dport=80, flags="S"))
    # Data offset 4 (16 bytes) is below the 20-byte minimum.
    yield (Ether(src=MAC_C, dst=MAC_S) / IP(src="10.99.1.5", dst=SRV, id=5)
           / TCP(sport=40003, dport=80, flags="S", dataofs=4))
    yield c2s(TCP(sport=40000, dport=80, flags="PA", seq=isn_c + 1, ack=isn_s + 1) / Raw(http))
    yield v6_chain(9, 5001, 6001)
    yield v6_chain(8, 5000, 6000)
    yield Raw(bytes.fromhex("02000a63010202000a63"))  # 10 bytes: the MACs only, cut short
    yield Raw(bytes.fromhex("02000a63010202000a630101" "8100" "0064"))  # 16 bytes, tag cut
    yield s2c(TCP(sport=80, dport=40000, flags="A", seq=isn_s + 1, ack=isn_c + 1 + len(http)))


def main():
    raw = [bytes(f) for f in frames()]
    # Raw bytes through RawPcapWriter: the file is LINKTYPE_ETHERNET (1) even for the frames
    # that are not valid Ethernet, and timestamps are exact integers (no float rounding).
    w = RawPcapWriter(OUT, linktype=1, snaplen=65535)
    w.write_header(None)
    for i, b in enumerate(raw):
        w.write_packet(b, sec=T0, usec=i * 1000)
    w.close()
    print(f"wrote {OUT}: {len(raw)} frames, {sum(len(b) for b in raw)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
