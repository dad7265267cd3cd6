// pcap_writer.cpp — see pcap_writer.hpp.
#include "pcap_writer.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

namespace tcpr::gen {

Result<std::unique_ptr<PcapWriter>> PcapWriter::open(const std::string& path) {
  pcap_t* pcap =
      pcap_open_dead_with_tstamp_precision(DLT_EN10MB, kSnapLen, PCAP_TSTAMP_PRECISION_MICRO);
  if (pcap == nullptr) return make_error("{}: libpcap could not start a capture", path);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    pcap_close(pcap);
    return make_error("cannot create {}: {}", path, std::strerror(errno));
  }
  // A large stdio buffer: one write() per megabyte rather than per frame.
  std::setvbuf(file, nullptr, _IOFBF, std::size_t{1} << 20);
  pcap_dumper_t* dumper = pcap_dump_fopen(pcap, file);
  if (dumper == nullptr) {
    const std::string reason = pcap_geterr(pcap);
    std::fclose(file);
    pcap_close(pcap);
    return make_error("cannot write {}: {}", path, reason);
  }
  return std::unique_ptr<PcapWriter>(new PcapWriter(path, pcap, dumper));
}

PcapWriter::~PcapWriter() {
  if (dumper_ != nullptr) pcap_dump_close(dumper_);
  if (pcap_ != nullptr) pcap_close(pcap_);
}

void PcapWriter::write(std::uint64_t ts_us, std::span<const std::uint8_t> frame) {
  pcap_pkthdr header{};
  header.ts.tv_sec = static_cast<decltype(header.ts.tv_sec)>(ts_us / 1'000'000);
  header.ts.tv_usec = static_cast<decltype(header.ts.tv_usec)>(ts_us % 1'000'000);
  header.caplen = static_cast<bpf_u_int32>(frame.size());
  header.len = static_cast<bpf_u_int32>(frame.size());
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, frame.data());
}

Status PcapWriter::close() {
  const bool flushed = pcap_dump_flush(dumper_) == 0 && std::ferror(pcap_dump_file(dumper_)) == 0;
  const int saved_errno = errno;
  pcap_dump_close(dumper_);
  dumper_ = nullptr;
  if (!flushed) return make_error("writing {} failed: {}", path_, std::strerror(saved_errno));
  return ok_status();
}

}  // namespace tcpr::gen
