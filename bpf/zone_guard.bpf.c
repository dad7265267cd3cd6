/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zone_guard.bpf.c — the zone guard for any interface: frames the zones permit go on (XDP_PASS),
 * the rest is dropped in the driver (zone_guard.h). Loaded by src/enforce/ through its skeleton,
 * attached by tcp-routectl xdp attach.
 */
#include "zone_guard.h"

SEC("xdp")
int tcpr_zone_guard(struct xdp_md *ctx)
{
	return tcpr_guard(ctx) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
