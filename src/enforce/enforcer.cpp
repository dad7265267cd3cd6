#include "tcpr/enforce/enforcer.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <unordered_map>

namespace tcpr::enforce {

namespace {

bool ip_of(const behavior::AgentKey& k, packet::IpAddr& out) {
  if (k.mode == static_cast<std::uint8_t>(behavior::KeyMode::kMac)) return false;
  std::memcpy(out.b, k.addr, 16);
  return true;
}

}  // namespace

namespace {
GuardConfig guard_config(const config::EnforceConfig& cfg, const behavior::BehaviorConfig& bcfg) {
  GuardConfig gc;
  gc.bpffs = cfg.bpffs;
  gc.default_zone = cfg.default_zone;
  gc.sample_monitored = cfg.sample_monitored;
  gc.allow_dhcp = cfg.allow_dhcp;
  gc.services = cfg.services;
  for (const auto& p : bcfg.remediation.prefixes()) gc.remediation.emplace_back(p.net, p.bits);
  return gc;
}
}  // namespace

Result<bool> Enforcer::set_policy(const config::EnforceConfig& cfg, const behavior::BehaviorConfig& bcfg) {
  config::EnforceConfig next = cfg_;
  next.sample_monitored = cfg.sample_monitored;
  next.allow_dhcp = cfg.allow_dhcp;
  next.services = cfg.services;
  if (auto r = guard_->write_policy(guard_config(next, bcfg)); !r) return r;
  cfg_ = next;
  return true;
}

Result<std::unique_ptr<Enforcer>> Enforcer::start(const config::EnforceConfig& cfg, const behavior::BehaviorConfig& bcfg) {
  const GuardConfig gc = guard_config(cfg, bcfg);
  auto g = ZoneGuard::open(gc);
  if (!g) return Error{fmt::format("[enforce]: {}", g.error())};
  std::unique_ptr<Enforcer> e(new Enforcer());
  e->cfg_ = cfg;
  e->guard_ = std::move(g.value());
  for (const auto& iface : cfg.interfaces)
    if (auto r = e->guard_->attach(iface, cfg.generic ? AttachMode::kGeneric : AttachMode::kNative); !r)
      return Error{fmt::format("[enforce]: {}", r.error())};
  // What this run knows at start: the configured pins. Everything else in the map is stale.
  std::vector<AgentEntry> known;
  for (const auto& [key, zone] : bcfg.pins) {
    packet::IpAddr a;
    if (!ip_of(key, a) || zone == cfg.default_zone) continue;
    known.push_back({a, zone, TCPR_AGENT_PINNED});
  }
  auto rec = e->guard_->reconcile(known);
  if (!rec) return Error{fmt::format("[enforce]: {}", rec.error())};
  e->reconciled_ = rec.value();
  return e;
}

Enforcer::~Enforcer() {
  if (guard_ != nullptr && cfg_.detach_on_exit) guard_->detach_all();
}

void Enforcer::sync(const behavior::Behavior& b) {
  if (b.publications() == seen_publications_) return;
  const auto t0 = std::chrono::steady_clock::now();
  const auto zones = b.zone_list();
  std::unordered_map<std::string, AgentEntry> now;   // by ZoneGuard::key_of
  now.reserve(zones.size());
  std::uint64_t not_ip = 0;
  for (const auto& [key, zone] : zones) {
    packet::IpAddr a;
    if (!ip_of(key, a)) {
      ++not_ip;
      continue;
    }
    if (zone != cfg_.default_zone) now[ZoneGuard::key_of(a)] = {a, zone, 0};
  }
  const auto& held = guard_->entries();
  std::vector<AgentEntry> set;
  std::vector<packet::IpAddr> removed;
  for (const auto& [k, e] : now) {
    const auto it = held.find(k);
    if (it == held.end() || it->second.zone != e.zone) set.push_back(e);
  }
  for (const auto& [k, v] : held) {
    if (now.count(k)) continue;
    packet::IpAddr a;
    std::memcpy(a.b, k.data(), sizeof a.b);
    removed.push_back(a);
  }
  counters_.not_ip_keyed = not_ip;
  if (set.empty() && removed.empty()) {
    seen_publications_ = b.publications();
    return;
  }
  if (auto r = guard_->apply(set, removed); !r) {
    ++counters_.errors;
    fmt::print(stderr, "tcp-routed: [enforce] {}\n", r.error());
    return;   // seen_publications_ unchanged: tried again after the next tick
  }
  seen_publications_ = b.publications();
  ++counters_.syncs;
  counters_.entries_written += set.size();
  counters_.entries_removed += removed.size();
  counters_.max_sync_us = std::max(counters_.max_sync_us,
                                   std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
}

void Enforcer::local(const std::vector<behavior::AgentTracker::LocalDecision>& decisions) {
  std::vector<AgentEntry> set;
  for (const auto& d : decisions) {
    packet::IpAddr a;
    if (!ip_of(d.key, a)) continue;
    const auto it = guard_->entries().find(ZoneGuard::key_of(a));
    const std::uint8_t have = it != guard_->entries().end() ? it->second.zone : cfg_.default_zone;
    if (have >= TCPR_ZONE_QUARANTINED) continue;
    set.push_back({a, TCPR_ZONE_QUARANTINED, 0});
  }
  if (set.empty()) return;
  if (auto r = guard_->apply(set, {}); !r) {
    ++counters_.errors;
    fmt::print(stderr, "tcp-routed: [enforce] {}\n", r.error());
    return;
  }
  counters_.local_written += set.size();
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const std::uint64_t done = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
  for (const auto& d : decisions)
    if (done > d.ts_ns) counters_.max_local_us = std::max(counters_.max_local_us, static_cast<double>(done - d.ts_ns) / 1e3);
}

}  // namespace tcpr::enforce
