// flow_scan.hpp — "the largest flows now", asked by the control thread (tcp-routectl flows),
// answered by each worker from its own flow table.
//
// A worker owns its flow table: nobody else may read it. So the control thread posts a query in
// the worker's FlowScanBox, and the worker (Pipeline::poll, between bursts) walks its table a slice
// at a time — kSliceEntries entries per burst, so an operator's question never holds up packets —
// keeping the top N matching flows by bytes, then posts the answer. Flows that end or start while
// the walk is under way may be missed or seen late: it is a view over a few milliseconds, not an
// atomic snapshot.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tcpr/packet/flow_key.hpp"
#include "tcpr/packet/packet_view.hpp"

namespace tcpr::pipeline {

struct FlowQuery {
  std::size_t top = 20;
  std::string cls;                       // "": any class
  std::optional<packet::IpAddr> agent;   // either endpoint is this address
};

struct FlowSummary {
  packet::FlowKey key;
  packet::Side client = packet::Side::kA;
  std::uint64_t packets = 0, bytes = 0;  // both directions
  std::uint64_t first_ns = 0, last_ns = 0;
  std::string cls;                       // class name ("" without classification)
  std::uint16_t path = 0xffff;           // routed: the pinned path
  std::uint16_t egress = 0xffff;         // static egress port (flow::kEgress* otherwise)
  std::uint32_t worker = 0;
};

class FlowScanBox {
 public:
  enum State : int { kIdle = 0, kAsked = 1, kDone = 2 };
  // Control thread.
  bool ask(const FlowQuery& q) {
    if (state_.load(std::memory_order_acquire) != kIdle) return false;
    query_ = q;
    result_.clear();
    state_.store(kAsked, std::memory_order_release);
    return true;
  }
  bool done() const noexcept { return state_.load(std::memory_order_acquire) == kDone; }
  std::vector<FlowSummary> take() {
    std::vector<FlowSummary> out;
    out.swap(result_);
    state_.store(kIdle, std::memory_order_release);
    return out;
  }
  // Worker.
  bool asked() const noexcept { return state_.load(std::memory_order_acquire) == kAsked; }
  const FlowQuery& query() const noexcept { return query_; }
  void answer(std::vector<FlowSummary> r) {
    result_ = std::move(r);
    state_.store(kDone, std::memory_order_release);
  }

 private:
  std::atomic<int> state_{kIdle};
  FlowQuery query_;
  std::vector<FlowSummary> result_;
};

inline constexpr std::uint32_t kSliceEntries = 4096;

}  // namespace tcpr::pipeline
