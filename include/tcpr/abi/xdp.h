/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp.h — the zone guard's maps as both sides see them: bpf/zone_guard.bpf.c (plain C, BPF
 * target) and src/enforce/ (C++). Keys, values and enums only; sizes and offsets are asserted on
 * both sides, because a pinned map outlives the binaries that wrote it.
 *
 * Addresses are 16 bytes: IPv6 as is, IPv4 as an IPv4-mapped IPv6 address (::ffff:a.b.c.d), so
 * one hash map and one LPM trie serve both families.
 *
 * Maps (pinned under the bpffs directory of `[enforce] bpffs`, default /sys/fs/bpf/tcp-route/):
 *   tcpr_agents       hash   tcpr_addr → struct tcpr_agent_value   (agents not in the default zone)
 *   tcpr_index        array  slot → struct tcpr_index_slot          (in front of tcpr_agents)
 *   tcpr_remediation  LPM    struct tcpr_lpm_key → __u8 (1)        (where QUARANTINED may go)
 *   tcpr_remedy4      array  word → __u64, one bit per IPv4 /24     (in front of tcpr_remediation)
 *   tcpr_services     hash   tcpr_addr → __u8 (1)                  (DNS servers QUARANTINED may ask)
 *   tcpr_settings     array  [0] → struct tcpr_settings
 *   tcpr_counters     percpu array, TCPR_XDP_COUNTERS slots of __u64 (tcpr_counter_index)
 *   tcpr_samples      ring buffer of struct tcpr_sample (MONITORED headers, when enabled)
 * Append only: the layouts are the ABI of maps that stay pinned across restarts.
 */
#ifndef TCPR_ABI_XDP_H
#define TCPR_ABI_XDP_H

#include "drop_reason.h"
#include "zone.h"

#ifdef __cplusplus
#include <cstddef>
#include <cstdint>
typedef std::uint8_t tcpr_u8;
typedef std::uint16_t tcpr_u16;
typedef std::uint32_t tcpr_u32;
typedef std::uint64_t tcpr_u64;
#else
typedef __u8 tcpr_u8;
typedef __u16 tcpr_u16;
typedef __u32 tcpr_u32;
typedef __u64 tcpr_u64;
#endif

#define TCPR_XDP_MAX_AGENTS 1048576
#define TCPR_XDP_MAX_PREFIXES 4096
#define TCPR_XDP_MAX_SERVICES 256
#define TCPR_XDP_SAMPLE_BYTES 128

struct tcpr_addr {
	tcpr_u8 b[16];
};

/*
 * tcpr_index: a direct-mapped index in front of tcpr_agents. An ARRAY lookup is inlined by the
 * verifier (a few instructions) where a hash-map lookup is a helper call (~20 ns, and a frame
 * needs one per address), so the guard asks the hash map only when the slot cannot answer:
 *   TCPR_INDEX_EMPTY   no entry of tcpr_agents hashes to this slot: the address is not an agent;
 *   TCPR_INDEX_SINGLE  exactly one does, the address and zone in the slot: an address equal to it
 *                      is that agent, any other address is not an agent;
 *   TCPR_INDEX_SHARED  several do: look in tcpr_agents.
 * Every slot also holds the zone of an address that is not an agent (the settings' default
 * zone), so the guard's common path reads no other map.
 * The writer (src/enforce/zone_guard.cpp) keeps three rules, so that a reader racing a write (an
 * array update is a plain copy: a reader may see any mix of old and new bytes) never gets a
 * wrong answer, only a late one: an entry is in tcpr_agents before a slot shows it and leaves
 * tcpr_agents after no slot shows it; a write that changes a slot's address bytes has a state
 * other than SINGLE before and after; a write into or out of SINGLE changes only the state byte
 * (and the zone bytes, single bytes). The guard reads the state before the address.
 * 32 bytes a slot: the guard finds it with a shift rather than a multiplication.
 */
#define TCPR_XDP_INDEX_BITS 18
#define TCPR_XDP_INDEX_SLOTS (1u << TCPR_XDP_INDEX_BITS)

enum tcpr_index_state { TCPR_INDEX_EMPTY = 0, TCPR_INDEX_SINGLE = 1, TCPR_INDEX_SHARED = 2 };

struct tcpr_index_slot {
	tcpr_u8 addr[16];    /* SINGLE: the agent's address (as in tcpr_agents' key) */
	tcpr_u8 zone;        /* SINGLE: its zone */
	tcpr_u8 state;       /* enum tcpr_index_state */
	tcpr_u8 other_zone;  /* any address that is not an agent: tcpr_settings.default_zone */
	tcpr_u8 reserved[13];
};

/* The slot of an address given as its four 32-bit words, each read little-endian from the key's
 * bytes (the guard reads them from the frame; the writer composes them from bytes). */
static inline tcpr_u32 tcpr_index_slot_of_words(tcpr_u32 w0, tcpr_u32 w1, tcpr_u32 w2, tcpr_u32 w3)
{
	return ((w0 ^ w1 ^ w2 ^ w3) * 2654435761u) >> (32 - TCPR_XDP_INDEX_BITS);
}

static inline tcpr_u32 tcpr_le32(const tcpr_u8 *p)
{
	return (tcpr_u32)p[0] | (tcpr_u32)p[1] << 8 | (tcpr_u32)p[2] << 16 | (tcpr_u32)p[3] << 24;
}

static inline tcpr_u32 tcpr_index_slot_of(const tcpr_u8 *a)
{
	return tcpr_index_slot_of_words(tcpr_le32(a), tcpr_le32(a + 4), tcpr_le32(a + 8), tcpr_le32(a + 12));
}

/* An IPv4 address's mapped form ::ffff:a.b.c.d has words 0, 0, 0xffff0000 and the address. */
#define TCPR_V4_MAPPED_WORD2 0xffff0000u

struct tcpr_agent_value {
	tcpr_u8 zone;      /* enum tcpr_zone */
	tcpr_u8 flags;     /* TCPR_AGENT_* */
	tcpr_u16 reserved;
	tcpr_u32 epoch;    /* the writer's epoch when it last wrote this entry */
};

#define TCPR_AGENT_PINNED 1 /* an operator pin, not a score */

struct tcpr_lpm_key {
	tcpr_u32 prefixlen; /* of the 128-bit mapped address: an IPv4 /n is 96 + n */
	tcpr_u8 addr[16];
};

/*
 * tcpr_remedy4: which IPv4 /24s tcpr_remediation may hold an answer for — bit (a >> 8) & 63 of
 * word a >> 14, a the address in host order, is set when a remediation prefix covers that /24 or
 * lies inside it (an IPv6 prefix counts where it covers the mapped space ::ffff:0:0/96). The
 * guard asks the trie (a helper call, ~10 ns) only for a peer whose bit is set: the frames of a
 * QUARANTINED agent that are dropped, almost all of them, cost an inlined array lookup instead.
 * The trie alone can pass a frame, so a reader racing a write can drop a frame it should pass,
 * never the opposite. 2^24 bits: 2 MB.
 */
#define TCPR_XDP_REMEDY4_WORDS (1u << 18)

static inline tcpr_u32 tcpr_remedy4_word(tcpr_u32 host_order_v4) { return host_order_v4 >> 14; }
static inline tcpr_u32 tcpr_remedy4_bit(tcpr_u32 host_order_v4) { return (host_order_v4 >> 8) & 63; }

struct tcpr_settings {
	tcpr_u8 default_zone;      /* zone of addresses not in tcpr_agents (TRUSTED: pass); the guard
	                              reads it from tcpr_index's other_zone, written from this */
	tcpr_u8 sample_monitored;  /* 1: MONITORED agents' headers to tcpr_samples */
	tcpr_u8 allow_dhcp;        /* 1: QUARANTINED agents may use DHCP (UDP 68 → 67) */
	tcpr_u8 reserved;
	tcpr_u32 epoch;            /* the writer's epoch, bumped on every sync */
};

/* What the guard did with a frame, per zone of the agent that decided it. */
enum tcpr_xdp_action {
	TCPR_XDP_PASS = 0,    /* passed, nothing to check (TRUSTED, unknown, non-IP) */
	TCPR_XDP_COUNTED,     /* passed and counted (MONITORED) */
	TCPR_XDP_ALLOWED,     /* QUARANTINED, passed: remediation, ARP, DHCP, DNS to a service */
	TCPR_XDP_DROPPED,     /* dropped by zone */
	TCPR_XDP_SAMPLED,     /* MONITORED header sample written (also counted as COUNTED) */
	TCPR_XDP_SAMPLE_LOST, /* ring buffer full */
	TCPR_XDP_ACTIONS
};

/* Counter slots: zone × action, then one per drop reason (malformed frames). */
#define TCPR_XDP_ZONE_SLOTS ((tcpr_u32)TCPR_ZONE__COUNT * (tcpr_u32)TCPR_XDP_ACTIONS)
#define TCPR_XDP_COUNTERS (TCPR_XDP_ZONE_SLOTS + (tcpr_u32)TCPR_DROP__COUNT)

static inline tcpr_u32 tcpr_counter_index(tcpr_u32 zone, tcpr_u32 action)
{
	return zone * (tcpr_u32)TCPR_XDP_ACTIONS + action;
}

static inline tcpr_u32 tcpr_drop_counter_index(tcpr_u32 reason)
{
	return TCPR_XDP_ZONE_SLOTS + reason;
}

struct tcpr_sample {
	tcpr_u64 ts_ns;
	tcpr_u32 ifindex;
	tcpr_u16 len;        /* bytes of the frame copied into data */
	tcpr_u8 zone;
	tcpr_u8 direction;   /* 0: from the agent, 1: to it */
	tcpr_u8 data[TCPR_XDP_SAMPLE_BYTES];
};

#ifdef __cplusplus
static_assert(sizeof(tcpr_addr) == 16);
static_assert(sizeof(tcpr_agent_value) == 8 && offsetof(tcpr_agent_value, epoch) == 4);
static_assert(sizeof(tcpr_index_slot) == 32 && offsetof(tcpr_index_slot, zone) == 16 &&
              offsetof(tcpr_index_slot, state) == 17 && offsetof(tcpr_index_slot, other_zone) == 18);
static_assert(sizeof(tcpr_lpm_key) == 20 && offsetof(tcpr_lpm_key, addr) == 4);
static_assert(sizeof(tcpr_settings) == 8 && offsetof(tcpr_settings, epoch) == 4);
static_assert(sizeof(tcpr_sample) == 16 + TCPR_XDP_SAMPLE_BYTES && offsetof(tcpr_sample, data) == 16);
#else
_Static_assert(sizeof(struct tcpr_addr) == 16, "tcpr_addr");
_Static_assert(sizeof(struct tcpr_agent_value) == 8, "tcpr_agent_value");
_Static_assert(__builtin_offsetof(struct tcpr_agent_value, epoch) == 4, "tcpr_agent_value.epoch");
_Static_assert(sizeof(struct tcpr_index_slot) == 32, "tcpr_index_slot");
_Static_assert(__builtin_offsetof(struct tcpr_index_slot, other_zone) == 18, "tcpr_index_slot.other_zone");
_Static_assert(__builtin_offsetof(struct tcpr_index_slot, state) == 17, "tcpr_index_slot.state");
_Static_assert(sizeof(struct tcpr_lpm_key) == 20, "tcpr_lpm_key");
_Static_assert(__builtin_offsetof(struct tcpr_lpm_key, addr) == 4, "tcpr_lpm_key.addr");
_Static_assert(sizeof(struct tcpr_settings) == 8, "tcpr_settings");
_Static_assert(sizeof(struct tcpr_sample) == 16 + TCPR_XDP_SAMPLE_BYTES, "tcpr_sample");
#endif

#endif /* TCPR_ABI_XDP_H */
