#include "tcpr/pipeline/pipeline.hpp"

#include "tcpr/packet/flow_key.hpp"
#include "tcpr/packet/parser.hpp"

namespace tcpr::pipeline {

Pipeline::Pipeline(const PipelineConfig& cfg, ReportSink sink)
    : sink_(sink), flows_(cfg.flow, flow::FlowSink{this, &Pipeline::on_flow_end}), egress_(cfg.egress),
      expire_budget_(cfg.expire_budget) {
  counters_.egress.resize(egress_.ports());
  if (cfg.classes != nullptr)
    classifier_ = std::make_unique<classify::Classifier>(cfg.classify, flows_.capacity(), cfg.classes);
}

void Pipeline::set_classes(std::shared_ptr<const classify::ClassDb> db) {
  if (classifier_ == nullptr || db == nullptr) return;
  pending_classes_ = std::move(db);
  if (classifier_->set_db(pending_classes_)) pending_classes_.reset();
}

void Pipeline::on_flow_end(void* ctx, const flow::FlowEntry& f, flow::EndReason why) {
  auto* self = static_cast<Pipeline*>(ctx);
  FlowReport r;
  r.flow = &f;
  r.why = why;
  const std::uint32_t idx = self->flows_.index_of(f);
  if (self->classifier_ != nullptr) {
    self->classifier_->end_flow(idx);
    r.cls = &self->classifier_->state(idx);
    r.meta = &self->classifier_->meta(idx);
    r.db = &self->classifier_->db_of(idx);
  }
  if (self->sink_.fn != nullptr) self->sink_.fn(self->sink_.ctx, r);
  if (self->classifier_ != nullptr) self->classifier_->retire(idx);
}

// The rest of one packet's path, its parse, key and hash done by process_stage().
Verdict Pipeline::finish_one(const packet::PacketView& pkt, Staged& s) noexcept {
  if (s.drop != TCPR_DROP_NONE) return {route::kNoEgress, s.drop};
  const packet::ParsedPacket& p = s.p;
  const std::uint16_t egress = egress_.egress_for(pkt.port);
  if (s.has_flow) {
    bool created = false;
    flow::FlowEntry& f = flows_.update(s.key, s.hash, s.sender, p, pkt.wire_len, pkt.ts_ns, created);
    const std::uint32_t idx = flows_.index_of(f);
    if (created) {
      f.ingress_port = pkt.port;
      f.egress = egress == route::kNoEgress ? flow::kEgressDrop : egress;
      if (classifier_ != nullptr) classifier_->start_flow(idx);
    }
    if (classifier_ != nullptr && p.payload_len != 0) {
      const std::uint16_t server_port = f.server() == packet::Side::kA ? s.key.port_a : s.key.port_b;
      classifier_->on_packet(idx, s.sender == f.client, server_port, p, pkt.data, pkt.len);
    }
  } else {
    ++counters_.no_flow;
  }
  if (egress == route::kNoEgress) return {route::kNoEgress, TCPR_DROP_NO_EGRESS};
  return {egress, TCPR_DROP_NONE};
}

// Prefetch, then process (as DPDK's examples do): each step runs over the whole stage before the
// next, so the flow table's cache misses of different packets overlap instead of queueing.
void Pipeline::process_stage(const packet::PacketView* pkts, std::uint16_t n, Verdict* out) noexcept {
  for (std::uint16_t i = 0; i < n; ++i) {
    Staged& s = staged_[i];
    s.drop = packet::parse(pkts[i], s.p);
    s.has_flow = s.drop == TCPR_DROP_NONE && packet::key_for(s.p, s.key, s.sender);
    if (s.has_flow) {
      s.hash = packet::hash(s.key);
      flows_.prefetch_slot(s.hash);
    }
  }
  for (std::uint16_t i = 0; i < n; ++i)
    staged_[i].entry = staged_[i].has_flow ? flows_.prefetch_entry(staged_[i].hash) : flow::kNil;
  for (std::uint16_t i = 0; i < n; ++i) flows_.prefetch_neighbours(staged_[i].entry);
  for (std::uint16_t i = 0; i < n; ++i) out[i] = finish_one(pkts[i], staged_[i]);
}

void Pipeline::process(const packet::PacketView* pkts, std::uint16_t n, Verdict* out) noexcept {
  if (pending_classes_ != nullptr && classifier_->set_db(pending_classes_)) pending_classes_.reset();
  for (std::uint16_t i = 0; i < n; i += kStage)
    process_stage(pkts + i, static_cast<std::uint16_t>(n - i < kStage ? n - i : kStage), out + i);
  std::uint64_t now = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    const Verdict v = out[i];
    ++counters_.packets;
    counters_.bytes += pkts[i].wire_len;
    if (v.drop != TCPR_DROP_NONE) {
      counters_.drops.add(v.drop);
    } else if (v.egress < counters_.egress.size()) {
      ++counters_.egress[v.egress].packets;
      counters_.egress[v.egress].bytes += pkts[i].wire_len;
    }
    if (pkts[i].ts_ns > now) now = pkts[i].ts_ns;
  }
  // Incremental ageing: a bounded amount of work per burst, on the burst's clock.
  if (n != 0) flows_.expire(now, expire_budget_);
}

}  // namespace tcpr::pipeline
