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
 *   tcpr_filter       array  slot → __u32 count                     (in front of tcpr_agents)
 *   tcpr_remediation  LPM    struct tcpr_lpm_key → __u8 (1)        (where QUARANTINED may go)
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
 * tcpr_filter: a counting filter in front of tcpr_agents — per slot, how many addresses in
 * tcpr_agents hash to it. An array lookup is inlined by the verifier (a few ns) where a hash map
 * lookup is a helper call (~20 ns), so a frame whose addresses are not agents (servers, the
 * internet) skips the hash map. The writer counts up before inserting and down after deleting, so
 * the guard never skips a present entry.
 */
#define TCPR_XDP_FILTER_BITS 16
#define TCPR_XDP_FILTER_SLOTS (1u << TCPR_XDP_FILTER_BITS)

static inline tcpr_u32 tcpr_filter_slot(const tcpr_u8 *a)
{
	tcpr_u32 x = 0;
	for (int i = 0; i < 16; i += 4)
		x ^= (tcpr_u32)a[i] | (tcpr_u32)a[i + 1] << 8 | (tcpr_u32)a[i + 2] << 16 | (tcpr_u32)a[i + 3] << 24;
	return (x * 2654435761u) >> (32 - TCPR_XDP_FILTER_BITS);
}

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

struct tcpr_settings {
	tcpr_u8 default_zone;      /* zone of addresses not in tcpr_agents (TRUSTED: pass) */
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
static_assert(sizeof(tcpr_lpm_key) == 20 && offsetof(tcpr_lpm_key, addr) == 4);
static_assert(sizeof(tcpr_settings) == 8 && offsetof(tcpr_settings, epoch) == 4);
static_assert(sizeof(tcpr_sample) == 16 + TCPR_XDP_SAMPLE_BYTES && offsetof(tcpr_sample, data) == 16);
#else
_Static_assert(sizeof(struct tcpr_addr) == 16, "tcpr_addr");
_Static_assert(sizeof(struct tcpr_agent_value) == 8, "tcpr_agent_value");
_Static_assert(__builtin_offsetof(struct tcpr_agent_value, epoch) == 4, "tcpr_agent_value.epoch");
_Static_assert(sizeof(struct tcpr_lpm_key) == 20, "tcpr_lpm_key");
_Static_assert(__builtin_offsetof(struct tcpr_lpm_key, addr) == 4, "tcpr_lpm_key.addr");
_Static_assert(sizeof(struct tcpr_settings) == 8, "tcpr_settings");
_Static_assert(sizeof(struct tcpr_sample) == 16 + TCPR_XDP_SAMPLE_BYTES, "tcpr_sample");
#endif

#endif /* TCPR_ABI_XDP_H */
