/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zone_guard_xsk.bpf.c — the zone guard for DPDK's net_af_xdp PMD (`xdp_prog=` devarg): frames the
 * zones permit go to the AF_XDP socket of their RX queue (xsks_map, the map name the PMD looks
 * for), the rest is dropped in the driver, so tcp-routed on af_xdp only ever receives permitted
 * traffic. Frames of a queue without a socket go to the kernel stack.
 *
 * The PMD loads this object itself with libbpf's default pin root, so its maps resolve by name
 * under /sys/fs/bpf/: they are the guard's maps when `[enforce] bpffs = "/sys/fs/bpf"`.
 */
#include "zone_guard.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

SEC("xdp")
int tcpr_zone_guard_xsk(struct xdp_md *ctx)
{
	if (!tcpr_guard(ctx))
		return XDP_DROP;
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
