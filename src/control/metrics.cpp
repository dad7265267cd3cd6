#include "tcpr/control/metrics.hpp"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <CivetServer.h>

namespace tcpr::control {

struct MetricsExporter::Families {
  prometheus::Family<prometheus::Counter>* packets;
  prometheus::Family<prometheus::Counter>* bytes;
  prometheus::Family<prometheus::Counter>* class_packets;
  prometheus::Family<prometheus::Counter>* path_packets;
  prometheus::Family<prometheus::Counter>* path_bytes;
  prometheus::Family<prometheus::Counter>* drops;
  prometheus::Family<prometheus::Counter>* xdp;
  prometheus::Family<prometheus::Counter>* xdp_malformed;
  prometheus::Family<prometheus::Gauge>* agents;
  prometheus::Family<prometheus::Gauge>* tick;
  prometheus::Family<prometheus::Counter>* requests;
  prometheus::Family<prometheus::Counter>* errors;
};

MetricsExporter::MetricsExporter() = default;
MetricsExporter::~MetricsExporter() = default;

Result<std::unique_ptr<MetricsExporter>> MetricsExporter::open(const std::string& listen) {
  if (auto r = check_metrics_address(listen); !r) return Error{r.error()};
  std::unique_ptr<MetricsExporter> m(new MetricsExporter());
  // civetweb says why it failed only through its log callback.
  static thread_local std::string why;
  why.clear();
  CivetCallbacks cb;
  cb.log_message = [](const mg_connection*, const char* message) {
    why = message;
    return 1;
  };
  try {
    m->exposer_ = std::make_unique<prometheus::Exposer>(listen, 1, &cb);
  } catch (const std::exception& e) {
    return Error{fmt::format("cannot serve metrics on {}: {}", listen, why.empty() ? e.what() : why)};
  }
  m->registry_ = std::make_shared<prometheus::Registry>();
  auto& r = *m->registry_;
  m->f_ = std::make_unique<Families>(Families{
      &prometheus::BuildCounter().Name("tcpr_packets_total").Help("packets the workers processed").Register(r),
      &prometheus::BuildCounter().Name("tcpr_bytes_total").Help("frame bytes the workers processed").Register(r),
      &prometheus::BuildCounter().Name("tcpr_class_packets_total").Help("packets per content class").Register(r),
      &prometheus::BuildCounter().Name("tcpr_path_packets_total").Help("packets that left on each path (mirrored copies included)").Register(r),
      &prometheus::BuildCounter().Name("tcpr_path_bytes_total").Help("bytes that left on each path").Register(r),
      &prometheus::BuildCounter().Name("tcpr_drops_total").Help("dataplane drops by reason").Register(r),
      &prometheus::BuildCounter().Name("tcpr_xdp_frames_total").Help("frames the XDP zone guard handled, by zone and action").Register(r),
      &prometheus::BuildCounter().Name("tcpr_xdp_malformed_total").Help("malformed frames the XDP guard dropped, by reason").Register(r),
      &prometheus::BuildGauge().Name("tcpr_agents").Help("agents per zone").Register(r),
      &prometheus::BuildGauge().Name("tcpr_tick_seconds").Help("duration of the last behaviour tick").Register(r),
      &prometheus::BuildCounter().Name("tcpr_control_requests_total").Help("control socket requests").Register(r),
      &prometheus::BuildCounter().Name("tcpr_control_errors_total").Help("control socket error replies").Register(r),
  });
  m->exposer_->RegisterCollectable(m->registry_);
  return m;
}

int MetricsExporter::port() const {
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

void MetricsExporter::update(const MetricsSnapshot& s) {
  // A total becomes an increment of what was not counted yet. prometheus-cpp's Add on an existing
  // label set returns the same series.
  auto count = [this](prometheus::Family<prometheus::Counter>* fam, const prometheus::Labels& labels, std::uint64_t total) {
    std::string key = fam->GetName();
    for (const auto& [k, v] : labels) key += "\x1f" + k + "=" + v;
    auto& seen = last_[key];
    auto& c = fam->Add(labels);
    if (total > seen) c.Increment(static_cast<double>(total - seen));
    seen = std::max(seen, total);
  };
  count(f_->packets, {}, s.packets);
  count(f_->bytes, {}, s.bytes);
  for (const auto& [name, n] : s.class_packets) count(f_->class_packets, {{"class", name}}, n);
  for (const auto& p : s.paths) {
    count(f_->path_packets, {{"path", p.name}}, p.packets);
    count(f_->path_bytes, {{"path", p.name}}, p.bytes);
  }
  for (const auto& [reason, n] : s.drops) count(f_->drops, {{"reason", reason}}, n);
  for (const auto& [za, n] : s.xdp) count(f_->xdp, {{"zone", za.first}, {"action", za.second}}, n);
  for (const auto& [reason, n] : s.xdp_malformed) count(f_->xdp_malformed, {{"reason", reason}}, n);
  for (const auto& [zone, n] : s.agents) f_->agents->Add({{"zone", zone}}).Set(static_cast<double>(n));
  if (s.tick_seconds >= 0) f_->tick->Add({}).Set(s.tick_seconds);
  count(f_->requests, {}, s.control_requests);
  count(f_->errors, {}, s.control_errors);
}

}  // namespace tcpr::control
