#include "capture_scan.hpp"

#include <fmt/format.h>
#include <pcap/pcap.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace tcpr::dataplane {

Result<CaptureInfo> scan_capture(const std::string& path) {
  const auto fail = [&](const std::string& why) {
    return Error{fmt::format("cannot read capture {}: {}", path, why)};
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return fail("not a regular file");
  if (st.st_size == 0) return fail("empty file");
  // net_pcap takes its file names inside a comma-separated device string.
  if (path.find(',') != std::string::npos) return fail("a path with ',' cannot be given to net_pcap");

  char errbuf[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, decltype(&pcap_close)> p(pcap_open_offline(path.c_str(), errbuf), pcap_close);
  if (!p) return fail(errbuf[0] != '\0' ? errbuf : "unknown format");
  if (pcap_datalink(p.get()) != DLT_EN10MB) {
    const char* name = pcap_datalink_val_to_name(pcap_datalink(p.get()));
    return fail(fmt::format("link type {} ({}) is not Ethernet", pcap_datalink(p.get()),
                            name != nullptr ? name : "unknown"));
  }
  CaptureInfo info;
  info.nanosecond = pcap_get_tstamp_precision(p.get()) == PCAP_TSTAMP_PRECISION_NANO;
  const double unit = info.nanosecond ? 1e-9 : 1e-6;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  for (;;) {
    const int rc = pcap_next_ex(p.get(), &h, &data);
    if (rc == PCAP_ERROR_BREAK) break;  // end of file
    if (rc != 1) return fail(fmt::format("{} after {} packets", pcap_geterr(p.get()), info.packets));
    const double ts = static_cast<double>(h->ts.tv_sec) + static_cast<double>(h->ts.tv_usec) * unit;
    if (info.packets == 0) info.first_ts = ts;
    info.last_ts = ts;
    ++info.packets;
    info.bytes += h->caplen;
    if (h->caplen > info.max_caplen) info.max_caplen = h->caplen;
  }
  return info;
}

}  // namespace tcpr::dataplane
