// pcap_writer.hpp — writes frames to a classic pcap file through libpcap.
//
// The file is DLT_EN10MB with microsecond timestamps (pcap_open_dead + pcap_dump_fopen); frames
// are written whole (caplen == len). Timestamps are microseconds since the Unix epoch; callers
// write them in non-decreasing order. Errors (cannot create, cannot flush) come back as Status.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include <pcap/pcap.h>

#include "result.hpp"

namespace tcpr::gen {

class PcapWriter {
 public:
  static constexpr int kSnapLen = 65535;

  static Result<std::unique_ptr<PcapWriter>> open(const std::string& path);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  void write(std::uint64_t ts_us, std::span<const std::uint8_t> frame);
  // Flushes and closes the file; reports a write error (a full disk) if there was one.
  Status close();

 private:
  PcapWriter(std::string path, pcap_t* pcap, pcap_dumper_t* dumper)
      : path_(std::move(path)), pcap_(pcap), dumper_(dumper) {}

  std::string path_;
  pcap_t* pcap_;
  pcap_dumper_t* dumper_;
};

}  // namespace tcpr::gen
