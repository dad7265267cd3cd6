// Semantic routing's DPDK side: the route table built from the config and the ports' MACs, the
// header rewrite on mbufs, and the ports' link state fed back as path state.
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>

#include "engine_parts.hpp"
#include "tcpr/config/config.hpp"

namespace tcpr::dataplane {

// A VLAN push takes headroom, a strip gives it back.
DropReason rewrite_mbuf(rte_mbuf* m, const route::RewriteSpec& spec) noexcept {
  const route::RewriteResult r =
      route::rewrite(rte_pktmbuf_mtod(m, std::uint8_t*), m->data_len, rte_pktmbuf_headroom(m), spec);
  if (r.drop != TCPR_DROP_NONE) return r.drop;
  if (r.shift < 0) (void)rte_pktmbuf_prepend(m, static_cast<std::uint16_t>(-r.shift));
  else if (r.shift > 0) (void)rte_pktmbuf_adj(m, static_cast<std::uint16_t>(r.shift));
  return TCPR_DROP_NONE;
}

void Engine::start_routing(pipeline::PipelineConfig& pcfg) {
  if (!cfg_.routing.enabled()) return;
  // Source MACs: the configured `mac`, else the device's own.
  std::vector<route::Mac> macs(cfg_.ports.size());
  for (std::size_t i = 0; i < cfg_.ports.size() && i < ports_.size(); ++i) {
    if (cfg_.ports[i].has_mac) {
      macs[i] = cfg_.ports[i].mac;
    } else {
      rte_ether_addr a{};
      if (rte_eth_macaddr_get(ports_[i]->port_id, &a) == 0) std::copy(a.addr_bytes, a.addr_bytes + 6, macs[i].begin());
    }
  }
  route_current_ = std::make_shared<const route::RouteTable>(cfg_.routing, macs);
  route_macs_ = macs;   // a reload builds its table with the same source MACs
  routes_ = std::make_shared<route::RouteShared>(route_current_, opt_.workers, opt_.path_events);
  pcfg.routes = routes_;
  link_up_.assign(ports_.size(), 1);
}

// Live mode, every 100 ms on the main lcore: a port whose link went down takes its paths down
// (pinned flows move at their next packet), and back up with it; at every call, the operator's
// path changes. A table that cannot be published
// yet (a worker has not taken the last one) waits for the next round.
void Engine::watch_links() noexcept {
  if (routes_ == nullptr || opt_.replay_packets != 0) return;
  take_path_requests();   // the operator's path up/down (control socket)
  const std::uint64_t now = rte_get_tsc_cycles();
  const bool due = now - last_link_tsc_ >= rte_get_tsc_hz() / 10;
  if (due) last_link_tsc_ = now;
  for (std::size_t i = 0; due && i < ports_.size(); ++i) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(ports_[i]->port_id, &link) != 0) continue;
    const char up = link.link_status == RTE_ETH_LINK_UP ? 1 : 0;
    if (up == link_up_[i]) continue;
    link_up_[i] = up;
    const route::RouteTable& base = route_pending_ != nullptr ? *route_pending_ : *route_current_;
    route_pending_ = base.with_link(static_cast<std::uint16_t>(i), up != 0);
  }
  if (route_pending_ != nullptr && routes_->publisher.publish(route_pending_)) {
    route_current_ = std::move(route_pending_);
    route_pending_.reset();
    route_published();
  }
}

}  // namespace tcpr::dataplane
