/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drop_reason.h — the one list of reasons a packet is dropped.
 *
 * Shared by the C++ dataplane and the BPF programs (plain C, no includes), and doubles as the
 * list of drop counters: every stage counts its drops per reason, tcp-routectl and the replay
 * report print them by the names below. Append only: the numeric values are part of the ABI of
 * pinned BPF maps and of report consumers.
 */
#ifndef TCPR_ABI_DROP_REASON_H
#define TCPR_ABI_DROP_REASON_H

/* X(ENUM_SUFFIX, "report_name") */
#define TCPR_DROP_REASONS(X)                                                   \
	X(NONE, "none")                                                        \
	X(L2_TRUNCATED, "l2_truncated")                                        \
	X(VLAN_TRUNCATED, "vlan_truncated")                                    \
	X(VLAN_TOO_DEEP, "vlan_too_deep")                                      \
	X(ARP_TRUNCATED, "arp_truncated")                                      \
	X(IPV4_TRUNCATED, "ipv4_truncated")                                    \
	X(IPV4_BAD_VERSION, "ipv4_bad_version")                                \
	X(IPV4_BAD_IHL, "ipv4_bad_ihl")                                        \
	X(IPV4_BAD_TOTAL_LENGTH, "ipv4_bad_total_length")                      \
	X(IPV6_TRUNCATED, "ipv6_truncated")                                    \
	X(IPV6_BAD_VERSION, "ipv6_bad_version")                                \
	X(IPV6_BAD_PAYLOAD_LENGTH, "ipv6_bad_payload_length")                  \
	X(IPV6_EXT_TRUNCATED, "ipv6_ext_truncated")                            \
	X(IPV6_EXT_CHAIN_TOO_LONG, "ipv6_ext_chain_too_long")                  \
	X(TCP_TRUNCATED, "tcp_truncated")                                      \
	X(TCP_BAD_DATA_OFFSET, "tcp_bad_data_offset")                          \
	X(UDP_TRUNCATED, "udp_truncated")                                      \
	X(UDP_BAD_LENGTH, "udp_bad_length")                                    \
	X(ICMP_TRUNCATED, "icmp_truncated")                                    \
	X(NO_EGRESS, "no_egress")                                              \
	X(TX_FULL, "tx_full")                                                  \
	X(ZONE_ISOLATED, "zone_isolated")                                      \
	X(ZONE_QUARANTINED, "zone_quarantined")                                \
	X(NO_PATH, "no_path")                                                  \
	X(TTL_EXPIRED, "ttl_expired")                                          \
	X(NO_HEADROOM, "no_headroom")

enum tcpr_drop_reason {
#define TCPR_X_ENUM(name, str) TCPR_DROP_##name,
	TCPR_DROP_REASONS(TCPR_X_ENUM)
#undef TCPR_X_ENUM
	TCPR_DROP__COUNT
};

#endif /* TCPR_ABI_DROP_REASON_H */
