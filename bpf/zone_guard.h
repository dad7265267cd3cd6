/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zone_guard.h — the zone guard's maps and its verdict, shared by the two XDP programs built from
 * it: zone_guard.bpf.c (permitted frames go on: XDP_PASS) and zone_guard_xsk.bpf.c (permitted
 * frames go to the AF_XDP socket of their queue, for DPDK's net_af_xdp). Every header access is
 * bounds-checked against data_end; loops are bounded.
 *
 * Semantics (README "XDP enforcement"), per frame, by the more severe zone of its source and
 * destination addresses (an address not in tcpr_agents is in the settings' default zone):
 *   ISOLATED     dropped;
 *   QUARANTINED  passed only when the peer is in tcpr_remediation, or it is DHCP (UDP 68 → 67 and
 *                back, if allowed) or DNS (port 53) with a server in tcpr_services; else dropped;
 *   MONITORED    passed and counted (headers sampled to tcpr_samples when enabled);
 *   TRUSTED      passed.
 * Non-IP frames (ARP, …) pass. Malformed IP headers are dropped and counted by drop reason.
 */
#ifndef TCPR_BPF_ZONE_GUARD_H
#define TCPR_BPF_ZONE_GUARD_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "tcpr/abi/xdp.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TCPR_XDP_MAX_AGENTS);
	__type(key, struct tcpr_addr);
	__type(value, struct tcpr_agent_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpr_agents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCPR_XDP_INDEX_SLOTS);
	__type(key, __u32);
	__type(value, struct tcpr_index_slot);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpr_index SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TCPR_XDP_MAX_PREFIXES);
	__type(key, struct tcpr_lpm_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpr_remediation SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCPR_XDP_REMEDY4_WORDS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpr_remedy4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCPR_XDP_MAX_SERVICES);
	__type(key, struct tcpr_addr);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpr_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcpr_settings);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpr_settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCPR_XDP_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpr_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpr_samples SEC(".maps");

#define TCPR_ETH_P_IP 0x0800
#define TCPR_ETH_P_IPV6 0x86DD
#define TCPR_ETH_P_8021Q 0x8100
#define TCPR_ETH_P_8021AD 0x88A8
#define TCPR_MAX_TAGS 2
#define TCPR_MAX_EXT 8

static __always_inline void tcpr_count(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&tcpr_counters, &slot);
	if (c)
		*c += 1;
}

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tcpr_index_slot_of_words reads little-endian words: the guard reads them natively"
#endif

/* An address as tcpr_agents' key, and as two words for the index (tcpr_zone_of). */
union tcpr_key {
	struct tcpr_addr a;
	__u64 w[2];
};

/* What the parser found: the two addresses (mapped), the L4 protocol, and where its header
 * starts (l4_off; 0: none to read — a later fragment). Ports are read only when a QUARANTINED
 * agent's exception needs them (tcpr_ports): most frames never do. */
struct tcpr_frame {
	union tcpr_key src, dst;
	__u32 src_slot, dst_slot;  /* their tcpr_index slots, computed where the family is known */
	__u32 l4_off;
	__u8 proto;
	__u8 v4;  /* an IPv4 frame: both addresses mapped */
};

/* The tcpr_index slot of a key, from its native (little-endian) words. */
static __always_inline __u32 tcpr_slot_of_key(const union tcpr_key *k)
{
	return tcpr_index_slot_of_words((__u32)k->w[0], (__u32)(k->w[0] >> 32), (__u32)k->w[1], (__u32)(k->w[1] >> 32));
}

/* ::ffff:a.b.c.d; be_addr as it lies in the frame. */
static __always_inline void tcpr_map_v4(union tcpr_key *k, __u32 be_addr)
{
	k->w[0] = 0;
	k->w[1] = TCPR_V4_MAPPED_WORD2 | (__u64)be_addr << 32;
}

/* The two L4 ports of a TCP or UDP frame whose header is there, as they lie in the frame (network
 * order: compared with bpf_htons constants, no swaps); 0 otherwise. */
static __always_inline int tcpr_ports(struct xdp_md *ctx, const struct tcpr_frame *f, __be16 *sport, __be16 *dport)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	if ((f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP) || f->l4_off == 0 || f->l4_off > 0xffff)
		return 0;
	__be16 *p = data + f->l4_off;
	if ((void *)(p + 2) > end)
		return 0;
	*sport = p[0];
	*dport = p[1];
	return 1;
}

/* 1: an IP frame parsed into f; 0: not IP (passes); -reason: malformed (dropped, counted). */
static __always_inline int tcpr_parse(struct xdp_md *ctx, struct tcpr_frame *f)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 off = 14;
	if (data + off > end)
		return -TCPR_DROP_L2_TRUNCATED;
	__u16 proto = bpf_ntohs(*(__u16 *)(data + 12));
#pragma unroll
	for (int i = 0; i < TCPR_MAX_TAGS; i++) {
		if (proto != TCPR_ETH_P_8021Q && proto != TCPR_ETH_P_8021AD)
			break;
		if (data + off + 4 > end)
			return -TCPR_DROP_VLAN_TRUNCATED;
		proto = bpf_ntohs(*(__u16 *)(data + off + 2));
		off += 4;
	}
	if (proto == TCPR_ETH_P_8021Q || proto == TCPR_ETH_P_8021AD)
		return -TCPR_DROP_VLAN_TOO_DEEP;
	if (proto == TCPR_ETH_P_IP) {
		__u8 *ip = data + off;
		if ((void *)(ip + 20) > end)
			return -TCPR_DROP_IPV4_TRUNCATED;
		if ((ip[0] >> 4) != 4)
			return -TCPR_DROP_IPV4_BAD_VERSION;
		__u32 ihl = (ip[0] & 0xf) * 4;
		if (ihl < 20)
			return -TCPR_DROP_IPV4_BAD_IHL;
		/* Word loads: packet loads need not be aligned where XDP runs (x86-64, arm64). */
		__u32 s = *(__u32 *)(ip + 12), d = *(__u32 *)(ip + 16);
		tcpr_map_v4(&f->src, s);
		tcpr_map_v4(&f->dst, d);
		/* Words 0 and 1 of a mapped IPv4 address are 0: the slot folds to one XOR. */
		f->src_slot = tcpr_index_slot_of_words(0, 0, TCPR_V4_MAPPED_WORD2, s);
		f->dst_slot = tcpr_index_slot_of_words(0, 0, TCPR_V4_MAPPED_WORD2, d);
		f->proto = ip[9];
		f->v4 = 1;
		/* Later fragments carry no L4 header. */
		__u16 frag = bpf_ntohs(*(__u16 *)(ip + 6)) & 0x1fff;
		f->l4_off = frag == 0 ? off + ihl : 0;
		return 1;
	}
	if (proto == TCPR_ETH_P_IPV6) {
		__u8 *ip = data + off;
		if ((void *)(ip + 40) > end)
			return -TCPR_DROP_IPV6_TRUNCATED;
		if ((ip[0] >> 4) != 6)
			return -TCPR_DROP_IPV6_BAD_VERSION;
		__builtin_memcpy(f->src.a.b, ip + 8, 16);
		__builtin_memcpy(f->dst.a.b, ip + 24, 16);
		f->src_slot = tcpr_slot_of_key(&f->src);
		f->dst_slot = tcpr_slot_of_key(&f->dst);
		__u8 next = ip[6];
		off += 40;
		int fragmented = 0;
#pragma unroll
		for (int i = 0; i < TCPR_MAX_EXT; i++) {
			if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
			    next != IPPROTO_FRAGMENT && next != IPPROTO_AH)
				break;
			__u8 *h = data + off;
			if ((void *)(h + 8) > end)
				return -TCPR_DROP_IPV6_EXT_TRUNCATED;
			__u32 len;
			if (next == IPPROTO_FRAGMENT) {
				len = 8;
				if ((bpf_ntohs(*(__u16 *)(h + 2)) & 0xfff8) != 0)
					fragmented = 1;
			} else if (next == IPPROTO_AH) {
				len = ((__u32)h[1] + 2) * 4;
			} else {
				len = ((__u32)h[1] + 1) * 8;
			}
			next = h[0];
			off += len;
		}
		if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS ||
		    next == IPPROTO_FRAGMENT || next == IPPROTO_AH)
			return -TCPR_DROP_IPV6_EXT_CHAIN_TOO_LONG;
		f->proto = next;
		f->v4 = 0;
		f->l4_off = fragmented ? 0 : off;
		return 1;
	}
	return 0;
}

/* The zone of an address: from its tcpr_index slot when the slot can tell (no agent there, or
 * exactly one), else from tcpr_agents; an address that is not an agent is in the slot's
 * other_zone (the default zone). The state is read before the address and zones (volatile: in
 * that order) — the writer's rules in include/tcpr/abi/xdp.h rely on it. */
static __always_inline __u8 tcpr_zone_of(const union tcpr_key *k, __u32 slot)
{
	struct tcpr_index_slot *ix = bpf_map_lookup_elem(&tcpr_index, &slot);
	if (!ix)
		return TCPR_ZONE_ISOLATED; /* cannot happen (slot < max_entries): fail closed */
	__u8 state = *(volatile __u8 *)&ix->state;
	if (state == TCPR_INDEX_SINGLE) {
		/* Array values are 8-byte aligned in the kernel: two word loads. */
		const volatile __u64 *w = (const volatile __u64 *)ix;
		__u64 a0 = w[0];
		__u64 a1 = w[1];
		if (a0 == k->w[0] && a1 == k->w[1])
			return *(volatile __u8 *)&ix->zone;
		return *(volatile __u8 *)&ix->other_zone;
	}
	if (state == TCPR_INDEX_SHARED) {
		struct tcpr_agent_value *v = bpf_map_lookup_elem(&tcpr_agents, &k->a);
		if (v)
			return v->zone;
	}
	return *(volatile __u8 *)&ix->other_zone;
}

/* Whether `peer` is in a remediation prefix: the peer of an IPv4 frame whose /24 tcpr_remedy4
 * does not mark is not, without asking the trie. (An IPv6 frame's mapped address goes to the
 * trie, which answers for it as well.) */
static __always_inline int tcpr_is_remediation(const struct tcpr_frame *f, const union tcpr_key *peer)
{
	if (f->v4) {
		__u32 a = bpf_ntohl((__u32)(peer->w[1] >> 32));
		__u32 word = tcpr_remedy4_word(a);
		__u64 *bits = bpf_map_lookup_elem(&tcpr_remedy4, &word);
		if (bits && ((*bits >> tcpr_remedy4_bit(a)) & 1) == 0)
			return 0;
	}
	struct tcpr_lpm_key k = {.prefixlen = 128};
	__builtin_memcpy(k.addr, peer->a.b, 16);
	return bpf_map_lookup_elem(&tcpr_remediation, &k) != 0;
}

/* The remediation and service exceptions of a QUARANTINED agent talking to `peer`. */
static __always_inline int tcpr_quarantine_allows(struct xdp_md *ctx, const struct tcpr_frame *f, int agent_sends,
						  const union tcpr_key *peer)
{
	if (tcpr_is_remediation(f, peer))
		return 1;
	__be16 sport, dport;
	if (!tcpr_ports(ctx, f, &sport, &dport))
		return 0;
	__be16 agent_port = agent_sends ? sport : dport;
	__be16 peer_port = agent_sends ? dport : sport;
	if (f->proto == IPPROTO_UDP && agent_port == bpf_htons(68) && peer_port == bpf_htons(67)) {
		__u32 zero = 0;
		struct tcpr_settings *st = bpf_map_lookup_elem(&tcpr_settings, &zero);
		return st && st->allow_dhcp;
	}
	if (peer_port == bpf_htons(53) && bpf_map_lookup_elem(&tcpr_services, &peer->a))
		return 1;
	return 0;
}

static __always_inline void tcpr_sample(struct xdp_md *ctx, __u8 zone, __u8 direction)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct tcpr_sample *s = bpf_ringbuf_reserve(&tcpr_samples, sizeof(*s), 0);
	if (!s) {
		tcpr_count(tcpr_counter_index(zone, TCPR_XDP_SAMPLE_LOST));
		return;
	}
	s->ts_ns = bpf_ktime_get_ns();
	s->ifindex = ctx->ingress_ifindex;
	s->zone = zone;
	s->direction = direction;
	/* The mask restates "len < 128" in a form the verifier tracks (a length must be provably
	 * within the buffer and positive). */
	__u64 len = (__u64)(end - data);
	__u32 n = TCPR_XDP_SAMPLE_BYTES;
	if (len < TCPR_XDP_SAMPLE_BYTES)
		n = (__u32)len & (TCPR_XDP_SAMPLE_BYTES - 1);
	s->len = 0;
	if (n >= 1 && bpf_xdp_load_bytes(ctx, 0, s->data, n) == 0)
		s->len = n;
	bpf_ringbuf_submit(s, 0);
	tcpr_count(tcpr_counter_index(zone, TCPR_XDP_SAMPLED));
}

/* 1: the frame may go on; 0: drop it. Counts either way. */
static __always_inline int tcpr_guard(struct xdp_md *ctx)
{
	struct tcpr_frame f; /* tcpr_parse sets every field of an IP frame */
	int r = tcpr_parse(ctx, &f);
	if (r < 0) {
		tcpr_count(tcpr_drop_counter_index(-r));
		return 0;
	}
	if (r == 0) {
		tcpr_count(tcpr_counter_index(TCPR_ZONE_TRUSTED, TCPR_XDP_PASS));
		return 1;
	}
	__u8 zs = tcpr_zone_of(&f.src, f.src_slot);
	__u8 zd = tcpr_zone_of(&f.dst, f.dst_slot);
	int src_decides = zs >= zd;
	__u8 zone = src_decides ? zs : zd;
	if (zone >= TCPR_ZONE__COUNT)
		zone = TCPR_ZONE_ISOLATED; /* a value this program does not know: fail closed */
	if (zone == TCPR_ZONE_ISOLATED) {
		tcpr_count(tcpr_counter_index(zone, TCPR_XDP_DROPPED));
		return 0;
	}
	if (zone == TCPR_ZONE_QUARANTINED) {
		const union tcpr_key *peer = src_decides ? &f.dst : &f.src;
		if (tcpr_quarantine_allows(ctx, &f, src_decides, peer)) {
			tcpr_count(tcpr_counter_index(zone, TCPR_XDP_ALLOWED));
			return 1;
		}
		tcpr_count(tcpr_counter_index(zone, TCPR_XDP_DROPPED));
		return 0;
	}
	if (zone == TCPR_ZONE_MONITORED) {
		tcpr_count(tcpr_counter_index(zone, TCPR_XDP_COUNTED));
		__u32 zero = 0;
		struct tcpr_settings *st = bpf_map_lookup_elem(&tcpr_settings, &zero);
		if (st && st->sample_monitored)
			tcpr_sample(ctx, zone, src_decides ? 0 : 1);
		return 1;
	}
	tcpr_count(tcpr_counter_index(zone, TCPR_XDP_PASS));
	return 1;
}

#endif /* TCPR_BPF_ZONE_GUARD_H */
