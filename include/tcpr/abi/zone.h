/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zone.h — the four zones an agent can be in, shared by the C++ side and the BPF programs.
 *
 * Ordered by severity: a larger value is more restrictive, so "the most severe of two decisions"
 * is the larger value. Append only: the values are stored in pinned BPF maps and in reports.
 */
#ifndef TCPR_ABI_ZONE_H
#define TCPR_ABI_ZONE_H

/* X(ENUM_SUFFIX, "report_name") */
#define TCPR_ZONES(X)                                                          \
	X(TRUSTED, "TRUSTED")                                                  \
	X(MONITORED, "MONITORED")                                              \
	X(QUARANTINED, "QUARANTINED")                                          \
	X(ISOLATED, "ISOLATED")

enum tcpr_zone {
#define TCPR_X_ENUM(name, str) TCPR_ZONE_##name,
	TCPR_ZONES(TCPR_X_ENUM)
#undef TCPR_X_ENUM
	TCPR_ZONE__COUNT
};

#endif /* TCPR_ABI_ZONE_H */
