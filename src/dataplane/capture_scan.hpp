// capture_scan.hpp — reads a capture once with libpcap before replay starts.
//
// Replay needs to know, before any DPDK device exists, that the capture can be read to its end
// (so a broken file is a one-line error, not a hang or a crash in the PMD) and how many records
// it holds (net_pcap signals no end of file; the workers stop after that many packets).
#pragma once

#include <cstdint>
#include <string>

#include "tcpr/util/result.hpp"

namespace tcpr::dataplane {

struct CaptureInfo {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;      // sum of captured lengths
  std::uint32_t max_caplen = 0;
  double first_ts = 0, last_ts = 0;
  bool nanosecond = false;
};

// Error messages start with "cannot read capture PATH: ".
Result<CaptureInfo> scan_capture(const std::string& path);

}  // namespace tcpr::dataplane
