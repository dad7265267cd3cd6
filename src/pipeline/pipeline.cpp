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

Verdict Pipeline::process_one(const packet::PacketView& pkt) noexcept {
  packet::ParsedPacket p;
  const DropReason r = packet::parse(pkt, p);
  if (r != TCPR_DROP_NONE) return {route::kNoEgress, r};

  std::uint16_t egress = egress_.egress_for(pkt.port);
  packet::FlowKey key;
  packet::Side sender;
  if (packet::key_for(p, key, sender)) {
    bool created = false;
    flow::FlowEntry& f = flows_.update(key, sender, p, pkt.wire_len, pkt.ts_ns, created);
    if (created) {
      f.ingress_port = pkt.port;
      f.egress = egress == route::kNoEgress ? flow::kEgressDrop : egress;
      if (classifier_ != nullptr) classifier_->start_flow(flows_.index_of(f));
    }
    if (classifier_ != nullptr && p.payload_len != 0) {
      const std::uint16_t server_port = f.server() == packet::Side::kA ? key.port_a : key.port_b;
      classifier_->on_packet(flows_.index_of(f), sender == f.client, server_port, p, pkt.data, pkt.len);
    }
  } else {
    ++counters_.no_flow;
  }
  if (egress == route::kNoEgress) return {route::kNoEgress, TCPR_DROP_NO_EGRESS};
  return {egress, TCPR_DROP_NONE};
}

void Pipeline::process(const packet::PacketView* pkts, std::uint16_t n, Verdict* out) noexcept {
  if (pending_classes_ != nullptr && classifier_->set_db(pending_classes_)) pending_classes_.reset();
  std::uint64_t now = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    const Verdict v = process_one(pkts[i]);
    out[i] = v;
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
