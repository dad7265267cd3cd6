// The worker's side of the flows query (flow_scan.hpp): one slice of the walk per call.
#include <algorithm>

#include "tcpr/pipeline/pipeline.hpp"

namespace tcpr::pipeline {

namespace {
// Min-heap by bytes: the smallest kept flow on top, the one a larger flow replaces.
bool larger(const FlowSummary& x, const FlowSummary& y) noexcept { return x.bytes > y.bytes; }
}  // namespace

void Pipeline::scan_flows() noexcept {
  const FlowQuery& q = scan_box_->query();
  if (!scanning_) {
    scanning_ = true;
    scan_next_ = 0;
    scan_top_.clear();
    scan_top_.reserve(q.top + 1);   // once per query, on the worker, not per packet
  }
  const std::uint32_t cap = flows_.capacity();
  const std::uint32_t end = std::min<std::uint64_t>(cap, std::uint64_t{scan_next_} + kSliceEntries);
  for (std::uint32_t i = scan_next_; i < end; ++i) {
    if (!flows_.in_use(i)) continue;
    const flow::FlowEntry& f = flows_.entry(i);
    if (q.agent.has_value() && !(f.key.a == *q.agent) && !(f.key.b == *q.agent)) continue;
    const std::uint64_t bytes = f.bytes[0] + f.bytes[1];
    if (scan_top_.size() == q.top && bytes <= scan_top_.front().bytes) continue;
    std::string cls;
    if (classifier_ != nullptr) {
      const auto& db = classifier_->db_of(i);
      const std::uint8_t id = classifier_->state(i).class_id;
      if (id < db.classes().size()) cls = db.classes()[id].name;
    }
    if (!q.cls.empty() && cls != q.cls) continue;
    FlowSummary s;
    s.key = f.key;
    s.client = f.client;
    s.packets = f.packets[0] + f.packets[1];
    s.bytes = bytes;
    s.first_ns = f.first_ns;
    s.last_ns = f.last_ns;
    s.cls = std::move(cls);
    s.path = f.route.path;
    s.egress = f.egress;
    s.worker = worker_;
    scan_top_.push_back(std::move(s));
    std::push_heap(scan_top_.begin(), scan_top_.end(), larger);
    if (scan_top_.size() > q.top) {
      std::pop_heap(scan_top_.begin(), scan_top_.end(), larger);
      scan_top_.pop_back();
    }
  }
  scan_next_ = end;
  if (end < cap) return;
  scanning_ = false;
  std::sort(scan_top_.begin(), scan_top_.end(), larger);
  scan_box_->answer(std::move(scan_top_));
  scan_top_ = {};
}

}  // namespace tcpr::pipeline
