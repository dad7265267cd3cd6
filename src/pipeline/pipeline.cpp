#include "tcpr/pipeline/pipeline.hpp"

#include "tcpr/packet/flow_key.hpp"
#include "tcpr/packet/parser.hpp"

#include <bit>

namespace tcpr::pipeline {

Pipeline::Pipeline(const PipelineConfig& cfg, ReportSink sink)
    : sink_(sink), flows_(cfg.flow, flow::FlowSink{this, &Pipeline::on_flow_end}), egress_(cfg.egress),
      expire_budget_(cfg.expire_budget), worker_(cfg.worker) {
  counters_.egress.resize(egress_.ports());
  if (cfg.classes != nullptr)
    classifier_ = std::make_unique<classify::Classifier>(cfg.classify, flows_.capacity(), cfg.classes);
  if (cfg.behavior != nullptr) {
    behavior_ = cfg.behavior;
    tracker_ = &behavior_->tracker(cfg.worker);
    inline_ticks_ = cfg.inline_ticks;
  }
  if (cfg.routes != nullptr) {
    router_ = std::make_unique<route::Router>(cfg.routes, cfg.worker);
    const auto n = router_->table().paths().size();
    counters_.paths.resize(n);
    counters_.mirrored.resize(n);
    no_classes_ = router_->make_view(nullptr, {"unknown"}, {});
  }
  if (classifier_ != nullptr && (behavior_ != nullptr || router_ != nullptr))
    view_of(classifier_->db());   // built here, not on a packet
}

// A new class database goes to the classifier when a generation is free; its behaviour view is
// built then, between bursts, so the packet path only ever looks one up.
void Pipeline::adopt_pending_classes() {
  if (!classifier_->set_db(pending_classes_)) return;
  pending_classes_.reset();
  if (behavior_ != nullptr || router_ != nullptr) view_of(classifier_->db());
}

// Names resolved once per class database: flows carry class ids and tag bits of their own
// database generation.
const Pipeline::DbView& Pipeline::view_of(const classify::ClassDb& db) {
  for (const auto& v : views_)
    if (v.db == &db) return v;
  DbView& v = views_[next_view_];
  next_view_ = (next_view_ + 1) % (sizeof views_ / sizeof views_[0]);
  v.db = &db;
  v.group.assign(db.classes().size(), behavior::kGroupOther);
  v.quarantine_ok.assign(db.classes().size(), false);
  v.hard_tags = 0;
  if (router_ != nullptr) {
    std::vector<std::string> names;
    for (const auto& c : db.classes()) names.push_back(c.name);
    v.route = router_->make_view(&db, names, db.tags());
  }
  if (behavior_ == nullptr) return v;
  const auto& bc = behavior_->config();
  for (std::size_t c = 0; c < db.classes().size(); ++c) {
    const std::string& name = db.classes()[c].name;
    if (name == "llm.api") v.group[c] = behavior::kGroupLlm;
    else if (name == "mcp" || name == "a2a") v.group[c] = behavior::kGroupTool;
    else if (name == "dns") v.group[c] = behavior::kGroupDns;
    for (const auto& q : bc.quarantine_classes)
      if (q == name) v.quarantine_ok[c] = true;
  }
  for (std::size_t t = 0; t < db.tags().size() && t < 16; ++t)
    for (const auto& h : bc.hard_tags)
      if (h == db.tags()[t]) v.hard_tags = static_cast<std::uint16_t>(v.hard_tags | (1u << t));
  return v;
}

// The zone gate. `flow` is the flow index, or flow::kNil.
DropReason Pipeline::gate(const packet::ParsedPacket& p, std::uint32_t flow, const behavior::AgentTracker::PacketInfo& info,
                          behavior::AgentTracker::Agents& agents) noexcept {
  agents = tracker_->account(p, info);
  if (agents.zone < TCPR_ZONE_QUARANTINED) return TCPR_DROP_NONE;
  if (agents.zone == TCPR_ZONE_ISOLATED) return TCPR_DROP_ZONE_ISOLATED;
  // QUARANTINED: the peer of the quarantined agent must be a remediation address, or the flow's
  // class one the configuration allows.
  const bool sender_held = agents.sender_zone >= TCPR_ZONE_QUARANTINED;
  const packet::IpAddr& peer = sender_held ? p.dst : p.src;
  if (behavior_->config().remediation.contains(peer)) return TCPR_DROP_NONE;
  if (flow != flow::kNil && classifier_ != nullptr) {
    const auto& v = view_of(classifier_->db_of(flow));
    const std::uint8_t c = classifier_->state(flow).class_id;
    if (c < v.quarantine_ok.size() && v.quarantine_ok[c]) return TCPR_DROP_NONE;
  }
  return TCPR_DROP_ZONE_QUARANTINED;
}

void Pipeline::set_classes(std::shared_ptr<const classify::ClassDb> db) {
  if (classifier_ == nullptr || db == nullptr) return;
  pending_classes_ = std::move(db);
  adopt_pending_classes();
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
  s.flow = flow::kNil;
  if (s.drop != TCPR_DROP_NONE) return {route::kNoEgress, s.drop};
  const packet::ParsedPacket& p = s.p;
  const std::uint16_t egress = egress_.egress_for(pkt.port);
  behavior::AgentTracker::PacketInfo info;
  std::uint32_t flow_idx = flow::kNil;
  if (s.has_flow) {
    bool created = false;
    flow::FlowEntry& f = flows_.update(s.key, s.hash, s.sender, p, pkt.wire_len, pkt.ts_ns, created);
    const std::uint32_t idx = flows_.index_of(f);
    s.flow = idx;
    if (created) {
      f.ingress_port = pkt.port;
      f.egress = egress == route::kNoEgress ? flow::kEgressDrop : egress;
      if (classifier_ != nullptr) classifier_->start_flow(idx);
    }
    flow_idx = idx;
    info.new_flow = created;
    info.client_sent = s.sender == f.client;
    if (classifier_ != nullptr && p.payload_len != 0) {
      const std::uint16_t server_port = f.server() == packet::Side::kA ? s.key.port_a : s.key.port_b;
      const classify::FlowClass& st = classifier_->state(idx);
      const std::uint8_t old_class = st.class_id;
      const std::uint16_t old_tags = st.tags;
      classifier_->on_packet(idx, info.client_sent, server_port, p, pkt.data, pkt.len);
      if (behavior_ != nullptr && (st.class_id != old_class || st.tags != old_tags)) {
        const DbView& v = view_of(classifier_->db_of(idx));
        if (old_class == classify::kUnknownClass && st.class_id < v.group.size()) info.class_group = v.group[st.class_id];
        info.hard_hits = static_cast<std::uint32_t>(std::popcount(static_cast<unsigned>(st.tags & ~old_tags & v.hard_tags)));
      }
    }
  } else {
    ++counters_.no_flow;
  }
  behavior::AgentTracker::Agents agents;
  if (tracker_ != nullptr) {
    info.ts_ns = pkt.ts_ns;
    info.frame = pkt.data;
    info.wire_len = pkt.wire_len;
    info.ingress = pkt.port;
    info.egress = egress;
    if (const DropReason d = gate(p, flow_idx, info, agents); d != TCPR_DROP_NONE) {
      // A routed flow whose agent the gate now stops is routed nowhere (a route event), until
      // its zone changes again.
      if (router_ != nullptr && flow_idx != flow::kNil && info.client_sent) {
        flow::FlowEntry& f = flows_.entry(flow_idx);
        router_->unroute(f.route, agents.sender_zone, {pkt.ts_ns, f.key, f.client});
      }
      return {route::kNoEgress, d};
    }
  }
  if (egress == route::kRouteEgress) return route_flow(pkt, s, flow_idx, info, agents);
  if (egress == route::kNoEgress) return {route::kNoEgress, TCPR_DROP_NO_EGRESS};
  Verdict v{egress, TCPR_DROP_NONE};
  // The other way of a routed flow (its server's side has a static egress): mirrored alike.
  if (router_ != nullptr && flow_idx != flow::kNil) {
    const std::uint16_t m = flows_.entry(flow_idx).route.mirror;
    if (router_->up(m)) v.mirror = m;
  }
  return v;
}

// The route stage of a packet received on a routed port (see the header).
Verdict Pipeline::route_flow(const packet::PacketView& pkt, const Staged& s, std::uint32_t flow_idx,
                             const behavior::AgentTracker::PacketInfo& info,
                             const behavior::AgentTracker::Agents& agents) noexcept {
  if (router_ == nullptr) return {route::kNoEgress, TCPR_DROP_NO_EGRESS};
  router_->advance(pkt.ts_ns);
  const route::RouteTable& table = router_->table();
  if (flow_idx == flow::kNil) {
    const std::uint16_t d = table.default_path();
    if (!router_->up(d)) return {route::kNoEgress, TCPR_DROP_NO_EGRESS};
    return {table.paths()[d].port, TCPR_DROP_NONE};
  }
  flow::FlowEntry& f = flows_.entry(flow_idx);
  flow::RoutePin& pin = f.route;
  if (!info.client_sent) {
    // Back towards the client; mirrored when its flow is.
    Verdict v{f.ingress_port, TCPR_DROP_NONE};
    if (router_->up(pin.mirror)) v.mirror = pin.mirror;
    return v;
  }
  route::FlowFacts facts;
  facts.hash = s.hash;
  if (classifier_ != nullptr) {
    const classify::FlowClass& st = classifier_->state(flow_idx);
    facts.class_id = st.class_id;
    facts.tags = st.tags;
  }
  facts.zone = agents.sender_zone;
  facts.trust = agents.sender_trust;
  facts.anomaly = agents.sender_anomaly;
  // The class view is looked up only to decide: a pinned flow's packets pay the check alone.
  const auto view = [&]() -> const route::ClassView& {
    return classifier_ != nullptr ? view_of(classifier_->db_of(flow_idx)).route : no_classes_;
  };
  if (pin.zone == 0xff) {
    pin = router_->decide(facts, view());
  } else if (const route::Reroute why = router_->check(pin, facts); why != route::Reroute::kNone) {
    const std::uint16_t from = pin.path;
    // Only the class being decided is silent: a tag found is an event even on an unknown flow.
    const bool provisional = why == route::Reroute::kContent && pin.class_id == classify::kUnknownClass &&
                             facts.class_id != classify::kUnknownClass && pin.tags == facts.tags;
    pin = router_->decide(facts, view());
    if (pin.path != from && !provisional) router_->note_move({pkt.ts_ns, f.key, f.client, from, pin.path, why});
  }
  if (pin.path == route::kNoPath) return {route::kNoEgress, TCPR_DROP_NO_PATH};
  const route::Path& path = table.paths()[pin.path];
  if (path.rewrite.l3 && route::ttl_expires(pkt.data, pkt.len)) return {route::kNoEgress, TCPR_DROP_TTL_EXPIRED};
  return {path.port, TCPR_DROP_NONE, pin.path, pin.mirror};
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
  for (std::uint16_t i = 0; i < n; ++i) {
    out[i] = finish_one(pkts[i], staged_[i]);
    if (classifier_ != nullptr && staged_[i].flow != flow::kNil)
      out[i].class_id = classifier_->state(staged_[i].flow).class_id;
  }
}

void Pipeline::process(const packet::PacketView* pkts, std::uint16_t n, Verdict* out) noexcept {
  if (pending_classes_ != nullptr) adopt_pending_classes();
  if (router_ != nullptr) router_->poll();
  if (tracker_ == nullptr) {
    process_run(pkts, n, out);
    return;
  }
  tracker_->poll();
  if (!inline_ticks_) {
    process_run(pkts, n, out);
    return;
  }
  // Capture-clock ticks: a packet past the tick boundary waits until the tick has run.
  std::uint16_t done = 0;
  while (done < n) {
    std::uint16_t end = done;
    while (end < n && !behavior_->tick_due(pkts[end].ts_ns)) ++end;
    if (end > done) process_run(pkts + done, static_cast<std::uint16_t>(end - done), out + done);
    if (end == n) break;
    while (behavior_->tick_due(pkts[end].ts_ns)) behavior_->tick_quiescent();
    done = end;
  }
}

void Pipeline::process_run(const packet::PacketView* pkts, std::uint16_t n, Verdict* out) noexcept {
  for (std::uint16_t i = 0; i < n; i += kStage)
    process_stage(pkts + i, static_cast<std::uint16_t>(n - i < kStage ? n - i : kStage), out + i);
  std::uint64_t now = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    const Verdict v = out[i];
    ++counters_.packets;
    counters_.bytes += pkts[i].wire_len;
    ++counters_.class_packets[v.class_id];
    if (pkts[i].ts_ns > now) now = pkts[i].ts_ns;
    if (v.drop != TCPR_DROP_NONE) {
      counters_.drops.add(v.drop);
      continue;
    }
    if (v.egress < counters_.egress.size()) {
      ++counters_.egress[v.egress].packets;
      counters_.egress[v.egress].bytes += pkts[i].wire_len;
    }
    if (v.path < counters_.paths.size()) {
      ++counters_.paths[v.path].packets;
      counters_.paths[v.path].bytes += pkts[i].wire_len;
      router_->count(v.path, pkts[i].wire_len);
    }
    if (v.mirror < counters_.paths.size()) {
      ++counters_.paths[v.mirror].packets;
      counters_.paths[v.mirror].bytes += pkts[i].wire_len;
      ++counters_.mirrored[v.mirror];
      router_->count(v.mirror, pkts[i].wire_len);
      const std::uint16_t port = router_->table().paths()[v.mirror].port;
      if (port < counters_.egress.size()) {
        ++counters_.egress[port].packets;
        counters_.egress[port].bytes += pkts[i].wire_len;
      }
    }
  }
  // Incremental ageing: a bounded amount of work per burst, on the burst's clock.
  if (n != 0) flows_.expire(now, expire_budget_);
}

}  // namespace tcpr::pipeline
