#!/usr/bin/python3
"""Writes the captures that test/interop/parse-pcap.test.ts feeds to both
`ovs-ofctl parse-pcap` and `ovsim parse-pcap`.

Usage: gen_pcaps.py OUTDIR        (the interop corpus)
       gen_pcaps.py --sample FILE (examples/captures/sample.pcap)

Every frame comes from scapy; the pcap/pcapng containers are written by hand so
that byte order, timestamp resolution and link type can be chosen. Deterministic:
the fuzzed variants use a fixed seed.
"""
import os
import random
import struct
import sys

from scapy.all import (ARP, ICMP, IP, SCTP, TCP, UDP, Dot1AD, Dot1Q, Dot3,
                       Ether, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA,
                       ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptMTU,
                       ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, LLC, SNAP, Raw)
from scapy.contrib.igmp import IGMP
from scapy.contrib.mpls import MPLS

try:
    from scapy.contrib.nsh import NSH
except ImportError:  # older scapy: NSH frames are simply left out
    NSH = None

M1 = "00:11:22:33:44:55"
M2 = "66:77:88:99:aa:bb"


def eth(**kw):
    return Ether(src=M1, dst=M2, **kw)


def protocol_frames():
    """One or more frames per protocol and header variant."""
    f = []
    ip = IP(src="10.0.0.1", dst="10.0.0.2", ttl=17, tos=0xb9)
    f.append(eth() / ip / UDP(sport=1234, dport=53) / b"payload")
    f.append(Ether(src=M1, dst="ff:ff:ff:ff:ff:ff") / IP(src="192.168.1.1", dst="224.0.0.1") / UDP() / b"x")
    for flags in ["", "S", "SA", "A", "F", "FA", "R", "RA", "P", "PA", "U", "E", "C", "SEC", "FSRPAUEC"]:
        f.append(eth() / ip / TCP(sport=40000, dport=80, flags=flags))
    f.append(eth() / ip / TCP(sport=1, dport=2, flags=0x1ff))  # NS bit
    raw_tcp = bytes(TCP(sport=3, dport=4))
    f.append(eth() / IP(src="1.1.1.1", dst="2.2.2.2", proto=6) / (raw_tcp[:12] + b"\x5e\xff" + raw_tcp[14:]))
    f.append(eth() / ip / TCP(sport=5, dport=6, options=[("MSS", 1460), ("NOP", None), ("WScale", 7)]))
    f.append(eth() / ip / SCTP(sport=5000, dport=6000))
    f.append(eth() / ip / ICMP(type=8, code=0) / b"ping")
    f.append(eth() / ip / ICMP(type=3, code=4) / bytes(IP() / UDP()))
    f.append(eth() / IP(src="10.1.1.1", dst="224.0.0.22") / IGMP(type=0x16, gaddr="239.1.2.3"))
    f.append(eth() / IP(src="10.1.1.1", dst="224.0.0.1", proto=2) / bytes.fromhex("1164eeee00000000"))
    f.append(eth() / IP(src="10.0.0.1", dst="10.0.0.2", options=[b"\x94\x04\x00\x00"]) / UDP(sport=7, dport=8))
    f.append(eth() / IP(src="10.0.0.1", dst="10.0.0.2", ihl=15) / (b"\x01" * 40) / UDP())
    f.append(eth() / IP(flags="MF", frag=0, proto=17) / UDP(sport=9, dport=10) / (b"a" * 16))
    f.append(eth() / IP(flags="MF", frag=185, proto=17) / (b"a" * 16))
    f.append(eth() / IP(frag=370, proto=6) / (b"b" * 16))
    f.append(eth() / IP(flags="DF") / TCP())
    f.append(eth() / IP(proto=47) / b"\x00\x00\x08\x00")
    f.append(eth() / IP(proto=89) / b"ospf")
    # IPv6 and its extension headers.
    v6 = IPv6(src="2001:db8::1", dst="2001:db8:0:1::2", tc=0xb9, fl=0xabcde, hlim=9)
    f.append(eth() / v6 / UDP(sport=546, dport=547) / b"dhcp")
    f.append(eth() / v6 / TCP(sport=22, dport=2222, flags="PA"))
    f.append(eth() / v6 / SCTP(sport=1, dport=2))
    f.append(eth() / v6 / IPv6ExtHdrHopByHop() / UDP())
    f.append(eth() / v6 / IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting(addresses=["2001:db8::5"]) / IPv6ExtHdrDestOpt() / TCP())
    f.append(eth() / v6 / IPv6ExtHdrFragment(offset=0, m=1, nh=17) / UDP(sport=1, dport=2) / (b"z" * 8))
    f.append(eth() / v6 / IPv6ExtHdrFragment(offset=100, m=1, nh=17) / (b"z" * 8))
    f.append(eth() / v6 / IPv6ExtHdrFragment(offset=200, m=0, nh=6) / (b"z" * 8))
    f.append(eth() / v6 / IPv6ExtHdrFragment(offset=0, m=0, nh=6) / TCP())
    f.append(eth() / v6 / IPv6ExtHdrDestOpt() / IPv6ExtHdrFragment(offset=0, m=1) / ICMPv6EchoRequest())
    f.append(eth() / IPv6(src="::1", dst="::ffff:1.2.3.4", nh=51) / bytes.fromhex("11020000000000010000000100000000") / UDP())
    f.append(eth() / IPv6(nh=59))
    f.append(eth() / IPv6(src="fe80::1", dst="ff02::1") / ICMPv6EchoRequest(id=1, seq=2))
    f.append(eth() / IPv6(src="::", dst="::2") / ICMPv6EchoReply())
    f.append(eth() / IPv6(src="fe80::1", dst="ff02::1:ff00:2") / ICMPv6ND_NS(tgt="fe80::2") / ICMPv6NDOptSrcLLAddr(lladdr=M1))
    f.append(eth() / IPv6(src="fe80::2", dst="fe80::1") / ICMPv6ND_NA(tgt="fe80::2", R=1, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=M2))
    f.append(eth() / IPv6() / ICMPv6ND_NS(tgt="2001:db8::9"))
    f.append(eth() / IPv6() / ICMPv6ND_NS(tgt="::9") / ICMPv6NDOptMTU() / ICMPv6NDOptSrcLLAddr(lladdr=M2) / ICMPv6NDOptDstLLAddr(lladdr=M1))
    f.append(eth() / IPv6() / ICMPv6ND_NA(tgt="::9") / ICMPv6NDOptSrcLLAddr(lladdr=M1) / ICMPv6NDOptSrcLLAddr(lladdr=M2))
    f.append(eth() / IPv6() / ICMPv6ND_NA(tgt="::9") / ICMPv6NDOptSrcLLAddr(lladdr="00:00:00:00:00:00") / ICMPv6NDOptSrcLLAddr(lladdr=M2))
    f.append(eth() / IPv6() / ICMPv6ND_NS(tgt="::9", code=1))
    # ARP and RARP.
    f.append(eth() / ARP(op=1, hwsrc=M1, psrc="10.0.0.1", pdst="10.0.0.2"))
    f.append(eth() / ARP(op=2, hwsrc=M2, hwdst=M1, psrc="10.0.0.2", pdst="10.0.0.1"))
    f.append(eth() / ARP(op=0x1ff, psrc="1.2.3.4"))
    f.append(eth() / ARP(op=1, hwlen=8, psrc="1.2.3.4"))
    f.append(Ether(src=M1, dst=M2, type=0x8035) / ARP(op=3, hwsrc=M1, hwdst=M1))
    # VLANs: 802.1Q, QinQ with both TPIDs, three tags (only two are parsed).
    f.append(eth() / Dot1Q(vlan=10, prio=3) / ip / UDP())
    f.append(eth() / Dot1Q(vlan=0, prio=0) / ARP())
    f.append(eth() / Dot1AD(vlan=100, prio=5) / Dot1Q(vlan=200, prio=1) / ip / TCP(flags="S"))
    f.append(eth() / Dot1Q(vlan=4095, prio=7, id=1) / Dot1Q(vlan=1) / IPv6() / UDP())
    f.append(eth() / Dot1AD(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / ip / UDP())
    # MPLS: one, two, three and four labels, unicast and multicast.
    f.append(eth() / MPLS(label=16, cos=5, ttl=64) / ip / UDP())
    f.append(eth() / MPLS(label=100, s=0, ttl=3) / MPLS(label=200, ttl=4) / ip)
    f.append(eth() / MPLS(label=1, s=0) / MPLS(label=2, s=0) / MPLS(label=3, cos=7, ttl=255) / b"data")
    f.append(eth() / MPLS(label=1, s=0) / MPLS(label=2, s=0) / MPLS(label=3, s=0) / MPLS(label=4) / b"data")
    f.append(Ether(src=M1, dst="01:00:5e:00:00:01", type=0x8848) / MPLS(label=1048575) / b"m")
    f.append(eth() / Dot1Q(vlan=7) / MPLS(label=7) / ip)
    # 802.3 with LLC, LLC/SNAP with an Ethernet OUI, and with another OUI.
    f.append(Dot3(src=M1, dst="01:80:c2:00:00:00") / LLC(dsap=0x42, ssap=0x42, ctrl=3) / (b"\x00" * 35))
    f.append(Dot3(src=M1, dst=M2) / LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0800) / ip / UDP())
    f.append(Dot3(src=M1, dst=M2) / LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0806) / ARP())
    f.append(Dot3(src=M1, dst=M2) / LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0x00000c, code=0x2000) / b"cdp")
    f.append(Dot3(src=M1, dst=M2) / LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0100) / b"short")
    # Other EtherTypes.
    f.append(Ether(src=M1, dst="01:80:c2:00:00:02", type=0x8809) / (b"\x01\x01" + b"\x00" * 40))
    f.append(Ether(src=M1, dst=M2, type=0x88cc) / b"lldp")
    f.append(Ether(src=M1, dst=M2, type=0x0600) / b"min")
    if NSH is not None:
        f.append(eth() / NSH(mdtype=1, nextproto=1, spi=0x123, si=255, context_header=b"\x00\x00\x00\x01" * 4) / ip / UDP())
        f.append(eth() / NSH(mdtype=2, nextproto=3, spi=5, si=4, ttl=7) / b"md2")
        f.append(Ether(src=M1, dst=M2, type=0x894f) / bytes.fromhex("0fc6010300000aff00000001000000020000000300000004"))
    return [bytes(p) for p in f]


def tcp_flag_frames():
    """Every combination of the 12 TCP flag bits, over IPv4 and IPv6."""
    out = []
    for flags in range(4096):
        out.append(bytes(eth() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=flags, dport=80, flags=flags)))
        out.append(bytes(eth() / IPv6(src="::1", dst="::2") / TCP(sport=80, dport=flags, flags=flags)))
    return out


def malformed_frames():
    """Frames that break a rule OVS checks: each shows what OVS keeps."""
    good4 = bytes(eth() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / b"12345678")
    good6 = bytes(eth() / IPv6(src="::1", dst="::2") / UDP(sport=1, dport=2) / b"12345678")
    out = []

    def patch(b, off, val):
        return b[:off] + val + b[off + len(val):]

    out.append(patch(good4, 14, b"\x44"))  # IHL 4
    out.append(patch(good4, 14, b"\x4f"))  # IHL 15 > size
    out.append(patch(good4, 16, b"\x00\x13"))  # tot_len < IHL
    out.append(patch(good4, 16, b"\x05\xdc"))  # tot_len > size
    out.append(good4 + b"\x00" * 255)  # padding 255: kept
    out.append(good4 + b"\x00" * 256)  # padding 256: rejected
    out.append(patch(good4, 16, b"\x00\x1b"))  # tot_len leaves 7 bytes of UDP
    out.append(patch(good6, 18, b"\x00\x07"))  # plen leaves 7 bytes of UDP
    out.append(patch(good6, 18, b"\x05\x00"))  # plen > size
    out.append(good6 + b"\x00" * 255)
    out.append(good6 + b"\x00" * 256)
    out.append(bytes(eth() / IPv6(nh=0) / (b"\x11\x05" + b"\x00" * 10)))  # HBH longer than data
    out.append(bytes(eth() / IPv6(nh=0) / (b"\x11\x00" + b"\x00" * 4)))  # HBH < 8 bytes
    out.append(bytes(eth() / IPv6(nh=44) / b"\x11\x00\x00\x01"))  # fragment header cut
    out.append(bytes(eth() / IPv6(nh=51) / (b"\x11\x09" + b"\x00" * 10)))  # AH too long
    out.append(bytes(eth() / IPv6() / ICMPv6ND_NS(tgt="::1") / (b"\x01\x00" + b"\x00" * 6)))  # option len 0
    out.append(bytes(eth() / IPv6() / ICMPv6ND_NS(tgt="::1") / (b"\x01\x02" + b"\x00" * 6)))  # option past end
    out.append(bytes(eth() / IPv6() / ICMPv6ND_NS(tgt="::1") / (b"\x01\x02" + b"\x00" * 14)))  # 16-byte SLL
    out.append(bytes(eth() / IPv6(nh=58) / (b"\x87\x00\x00\x00\x00\x00\x00\x00" + b"\x00" * 8)))  # target cut
    out.append(bytes(eth() / IPv6(nh=58) / b"\x87\x00\x00\x00"))  # ICMPv6 < 8 bytes
    out.append(bytes(eth() / IP(proto=1) / b"\x08\x00\x00"))  # ICMP < 8 bytes... OVS needs 8
    out.append(bytes(eth() / IP(proto=2) / b"\x11\x00\x00\x00\x00\x00"))  # IGMP < 8 bytes
    out.append(bytes(eth() / IP(proto=132) / (b"\x00" * 11)))  # SCTP < 12
    out.append(bytes(eth() / IP(proto=6) / (b"\x00" * 19)))  # TCP < 20
    out.append(bytes(eth() / ARP())[:14 + 27])  # ARP one byte short
    out.append(bytes(Ether(src=M1, dst=M2, type=0x0800)))  # no IP at all
    out.append(bytes(Ether(src=M1, dst=M2, type=0x8100) / b"\x00\x05"))  # VLAN tag without type
    out.append(bytes(Ether(src=M1, dst=M2, type=0x8100) / b"\x00\x05\x08"))  # and 1 byte of it
    out.append(bytes(Ether(src=M1, dst=M2, type=0x8847) / b"\x00\x01\x00"))  # partial label
    out.append(bytes(Ether(src=M1, dst=M2, type=0x894f) / bytes.fromhex("4fc60103")))  # NSH too short
    out.append(bytes(Ether(src=M1, dst=M2, type=0x894f) / (bytes.fromhex("0fc50103000001ff") + b"\x00" * 16)))  # MD1 bad len
    out.append(bytes(Ether(src=M1, dst=M2, type=0x894f) / (bytes.fromhex("4fc60103000001ff") + b"\x00" * 16)))  # version 1
    return out


def fuzzed(frames, n, seed):
    """Copies of `frames` with a few random bytes changed (deterministic)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        b = bytearray(frames[i % len(frames)])
        for _ in range(rng.randint(1, 4)):
            # Mostly hit the headers: that is where the parser's decisions are.
            pos = rng.randrange(min(len(b), 80)) if rng.random() < 0.9 else rng.randrange(len(b))
            b[pos] = rng.randrange(256)
        if rng.random() < 0.3:
            del b[rng.randrange(1, len(b) + 1):]
        out.append(bytes(b))
    return out


def write_pcap(path, frames, endian="<", nsec=False, linktype=1):
    magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
    with open(path, "wb") as fh:
        fh.write(struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype))
        for i, frame in enumerate(frames):
            sec, frac = 1700000000 + i, (i * 1000 + 7) % (1000000000 if nsec else 1000000)
            fh.write(struct.pack(endian + "IIII", sec, frac, len(frame), len(frame) + (i % 3)))
            fh.write(frame)


def to_sll(frame):
    """The Linux cooked-capture form of an Ethernet frame (what tcpdump -i any writes)."""
    if len(frame) < 14:
        return None
    return struct.pack(">HHH", 0, 1, 6) + frame[6:12] + b"\x00\x00" + frame[12:]


def write_pcapng(path, frames):
    def block(btype, body):
        pad = (-len(body)) % 4
        total = 12 + len(body) + pad
        return struct.pack("<II", btype, total) + body + b"\x00" * pad + struct.pack("<I", total)

    with open(path, "wb") as fh:
        fh.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        fh.write(block(1, struct.pack("<HHI", 1, 0, 65535)))
        for i, frame in enumerate(frames):
            ts = (1700000000 + i) * 1000000
            body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame)) + frame
            body += b"\x00" * ((-len(frame)) % 4)
            fh.write(block(6, body))


def truncations(frames):
    """Every frame cut at every length from 1 to its full size (OVS reads a
    zero-length record as the end of the file)."""
    return [f[:n] for f in frames for n in range(1, len(f) + 1)]


def sample_frames():
    """The README's example: a short, varied capture."""
    f = [
        eth() / ARP(op=1, hwsrc=M1, psrc="10.0.0.1", pdst="10.0.0.2"),
        Ether(src=M2, dst=M1) / ARP(op=2, hwsrc=M2, hwdst=M1, psrc="10.0.0.2", pdst="10.0.0.1"),
        eth() / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=8) / b"ping",
        Ether(src=M2, dst=M1) / IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(type=0) / b"ping",
        eth() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=43210, dport=80, flags="S"),
        Ether(src=M2, dst=M1) / IP(src="10.0.0.2", dst="10.0.0.1") / TCP(sport=80, dport=43210, flags="SA"),
        eth() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=43210, dport=80, flags="A"),
        eth() / Dot1Q(vlan=10, prio=5) / IP(src="10.0.10.1", dst="8.8.8.8", tos=0xb8) / UDP(sport=5353, dport=53) / b"q",
        eth() / IPv6(src="fe80::1", dst="ff02::1:ff00:2") / ICMPv6ND_NS(tgt="fe80::2") / ICMPv6NDOptSrcLLAddr(lladdr=M1),
        eth() / IPv6(src="2001:db8::1", dst="2001:db8::2", fl=0x12345) / TCP(sport=22, dport=50000, flags="PA"),
        eth() / MPLS(label=100, ttl=64) / IP(src="10.9.9.9", dst="10.8.8.8") / UDP(sport=4789, dport=4789),
        eth() / IP(src="10.0.0.1", dst="10.0.0.2", flags="MF") / UDP(sport=1, dport=2) / b"frag",
    ]
    return [bytes(p) for p in f]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--sample":
        write_pcap(sys.argv[2], sample_frames())
        return
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    protos = protocol_frames()
    bad = malformed_frames()
    write_pcap(os.path.join(out, "protocols.pcap"), protos)
    write_pcap(os.path.join(out, "malformed.pcap"), bad)
    write_pcap(os.path.join(out, "truncated.pcap"), truncations(protos + bad))
    write_pcap(os.path.join(out, "fuzzed.pcap"), fuzzed(protos + bad, 20000, 2026))
    write_pcap(os.path.join(out, "tcp-flags.pcap"), tcp_flag_frames())
    write_pcap(os.path.join(out, "big-endian.pcap"), protos, endian=">")
    write_pcap(os.path.join(out, "nanosecond.pcap"), protos, nsec=True)
    write_pcap(os.path.join(out, "nanosecond-big-endian.pcap"), protos, endian=">", nsec=True)
    write_pcap(os.path.join(out, "sll.pcap"), [s for s in map(to_sll, protos) if s], linktype=113)
    write_pcap(os.path.join(out, "empty.pcap"), [])
    write_pcapng(os.path.join(out, "protocols.pcapng"), protos)


if __name__ == "__main__":
    main()
