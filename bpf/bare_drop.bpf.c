/* SPDX-License-Identifier: BSD-3-Clause */
/* bare_drop.bpf.c — XDP_DROP and nothing else: the baseline the guard's cost is measured against. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int tcpr_bare_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
