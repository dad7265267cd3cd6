// metrics.hpp — the optional Prometheus endpoint ([control] metrics = "127.0.0.1:9464"): the
// text exposition format, served by prometheus-cpp's pull exposer (civetweb) on loopback only.
//
// The control thread hands it a plain snapshot (update()) after every tick; the exposer's own
// threads only read prometheus-cpp's atomics, never tcp-routed's state. Totals arrive as
// totals and become counter increments here (a counter only goes up).
//
//   tcpr_packets_total, tcpr_bytes_total                 what the workers processed
//   tcpr_class_packets_total{class}                      packets per content class
//   tcpr_path_packets_total{path}, tcpr_path_bytes_total{path}
//   tcpr_drops_total{reason}                             dataplane drops by reason
//   tcpr_xdp_frames_total{zone,action}                   the XDP guard (when enforcing)
//   tcpr_xdp_malformed_total{reason}
//   tcpr_agents{zone}                                    agents per zone (gauge)
//   tcpr_tick_seconds                                    the last behaviour tick's duration (gauge)
//   tcpr_control_requests_total, tcpr_control_errors_total
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tcpr/control/control_config.hpp"
#include "tcpr/util/result.hpp"

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace tcpr::control {

struct MetricsSnapshot {
  std::uint64_t packets = 0, bytes = 0;
  std::vector<std::pair<std::string, std::uint64_t>> class_packets;   // class name → total
  struct PathTotals {
    std::string name;
    std::uint64_t packets = 0, bytes = 0;
  };
  std::vector<PathTotals> paths;
  std::vector<std::pair<std::string, std::uint64_t>> drops;           // reason → total
  std::vector<std::pair<std::pair<std::string, std::string>, std::uint64_t>> xdp;   // (zone, action) → total
  std::vector<std::pair<std::string, std::uint64_t>> xdp_malformed;  // reason → total
  std::vector<std::pair<std::string, std::uint64_t>> agents;         // zone → count (empty: no behaviour)
  double tick_seconds = -1;                                           // < 0: no behaviour
  std::uint64_t control_requests = 0, control_errors = 0;
};

class MetricsExporter {
 public:
  static Result<std::unique_ptr<MetricsExporter>> open(const std::string& listen);
  ~MetricsExporter();
  MetricsExporter(const MetricsExporter&) = delete;
  MetricsExporter& operator=(const MetricsExporter&) = delete;

  void update(const MetricsSnapshot& s);
  int port() const;   // the port bound (useful with ":0")

 private:
  MetricsExporter();
  struct Families;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> f_;
  std::map<std::string, std::uint64_t> last_;   // the totals already counted, by metric and labels
};

}  // namespace tcpr::control
