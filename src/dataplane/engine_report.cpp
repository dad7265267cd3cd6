// What the engine reports and the main lcore's periodic duties: counters summed over workers,
// port statistics, rate lines, and class reloads.
#include <fmt/format.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include "engine_parts.hpp"
#include "tcpr/config/config.hpp"

namespace tcpr::dataplane {

// Reloads the classes when asked (SIGHUP) or, in a replay under test, every reload_interval:
// compiled on a helper thread, published from here; workers adopt it between bursts.
void Engine::service_control() noexcept {
  print_stats_if_due();
  watch_links();
  if (classes_pub_ == nullptr) return;
  const std::uint64_t now = rte_get_tsc_cycles();
  if (opt_.reload_interval > 0 &&
      now - last_reload_tsc_ > static_cast<std::uint64_t>(opt_.reload_interval * static_cast<double>(rte_get_tsc_hz()))) {
    last_reload_tsc_ = now;
    reload_requested_.store(true, std::memory_order_relaxed);
  }
  if (!reload_running_.load(std::memory_order_acquire) && pending_classes_ == nullptr &&
      reload_requested_.exchange(false, std::memory_order_relaxed)) {
    if (reloader_.joinable()) reloader_.join();
    reload_running_.store(true, std::memory_order_relaxed);
    reloader_ = std::thread([this, from = classes_cfg_.load()] {
      reload_result_ = config::load_classes(from != nullptr ? *from : cfg_);
      reload_ready_.store(true, std::memory_order_release);
    });
  }
  if (reload_ready_.load(std::memory_order_acquire)) {
    reload_ready_.store(false, std::memory_order_relaxed);
    reload_running_.store(false, std::memory_order_release);
    auto& db = reload_result_;
    if (!db || db.value() == nullptr) {
      ++reloads_.refused;
      const std::string why = db ? std::string("classification is disabled") : db.error();
      fmt::print(stderr, "tcp-routed: reload refused, keeping the current classes: {}\n", why);
      reload_finished(nullptr, why);
    } else {
      pending_classes_ = db.value();
    }
  }
  if (pending_classes_ != nullptr && classes_pub_->publish(pending_classes_)) {
    ++reloads_.applied;
    reload_finished(pending_classes_, "");
    pending_classes_.reset();
  }
}

// One line per interval, from the ports' own counters, so that a benchmark measures the
// forwarding rate in steady state rather than over start-up.
void Engine::print_stats_if_due() noexcept {
  if (opt_.stats_interval <= 0) return;
  const std::uint64_t now = rte_get_tsc_cycles();
  const auto interval = static_cast<std::uint64_t>(opt_.stats_interval * static_cast<double>(rte_get_tsc_hz()));
  if (stats_last_tsc_ == 0) {
    stats_last_tsc_ = stats_start_tsc_ = now;
    return;
  }
  if (now - stats_last_tsc_ < interval) return;
  std::uint64_t rx = 0, tx = 0;
  for (const auto& p : ports_) {
    rte_eth_stats st{};
    if (rte_eth_stats_get(p->port_id, &st) == 0) rx += st.ipackets, tx += st.opackets;
  }
  const double dt = static_cast<double>(now - stats_last_tsc_) / static_cast<double>(rte_get_tsc_hz());
  const double t = static_cast<double>(now - stats_start_tsc_) / static_cast<double>(rte_get_tsc_hz());
  fmt::print("stats t={:.3f} rx_pps={:.0f} tx_pps={:.0f}\n", t, static_cast<double>(rx - stats_last_rx_) / dt,
             static_cast<double>(tx - stats_last_tx_) / dt);
  std::fflush(stdout);
  stats_last_tsc_ = now;
  stats_last_rx_ = rx;
  stats_last_tx_ = tx;
}


std::uint64_t Engine::received() const noexcept {
  std::uint64_t n = io_received_;
  if (any_shared_) return n;
  for (const auto& w : workers_) n += w->received;
  return n;
}

pipeline::PipelineCounters Engine::counters() const {
  pipeline::PipelineCounters sum;
  sum.egress.resize(ports_.size());
  for (const auto& w : workers_) {
    const auto& c = w->pipeline->counters();
    sum.packets += c.packets;
    sum.bytes += c.bytes;
    sum.no_flow += c.no_flow;
    sum.drops += c.drops;
    for (std::size_t k = 0; k < c.class_packets.size(); ++k) sum.class_packets[k] += c.class_packets[k];
    for (std::size_t i = 0; i < c.egress.size() && i < sum.egress.size(); ++i) {
      sum.egress[i].packets += c.egress[i].packets;
      sum.egress[i].bytes += c.egress[i].bytes;
    }
    for (const auto& tx : w->tx) sum.drops.count[TCPR_DROP_TX_FULL] += tx.dropped;
    sum.paths.resize(std::max(sum.paths.size(), c.paths.size()));
    sum.mirrored.resize(sum.paths.size());
    for (std::size_t i = 0; i < c.paths.size(); ++i) {
      sum.paths[i].packets += c.paths[i].packets;
      sum.paths[i].bytes += c.paths[i].bytes;
      sum.mirrored[i] += c.mirrored[i];
    }
  }
  return sum;
}

std::vector<std::string> Engine::path_names() const {
  std::vector<std::string> names;
  if (routes_ != nullptr)
    for (const auto& p : routes_->initial->paths()) names.push_back(p.name);
  return names;
}

std::vector<route::RouteEvent> Engine::route_events() const {
  std::vector<route::RouteEvent> all;
  for (const auto& w : workers_)
    if (const route::Router* r = w->pipeline->router(); r != nullptr)
      all.insert(all.end(), r->events().begin(), r->events().end());
  return all;
}

route::RouterCounters Engine::route_counters() const {
  route::RouterCounters sum;
  for (const auto& w : workers_)
    if (const route::Router* r = w->pipeline->router(); r != nullptr) {
      sum.decisions += r->counters().decisions;
      sum.moves += r->counters().moves;
      sum.events_lost += r->counters().events_lost;
    }
  return sum;
}

flow::FlowCounters Engine::flow_counters() const {
  flow::FlowCounters sum;
  for (const auto& w : workers_) {
    const auto& c = w->pipeline->flows().counters();
    sum.created += c.created;
    sum.expired += c.expired;
    sum.evicted += c.evicted;
  }
  return sum;
}

classify::ClassifyCounters Engine::classify_counters() const {
  classify::ClassifyCounters sum;
  for (const auto& w : workers_) {
    const auto* c = w->pipeline->classifier();
    if (c == nullptr) continue;
    const auto& k = c->counters();
    sum.bytes_scanned += k.bytes_scanned;
    sum.gaps += k.gaps;
    sum.head_pool_exhausted += k.head_pool_exhausted;
    sum.streams_opened += k.streams_opened;
    sum.scan_errors += k.scan_errors;
    sum.reload_deferred += k.reload_deferred;
  }
  return sum;
}

std::vector<pipeline::FlowRecord> Engine::take_flows() {
  std::vector<pipeline::FlowRecord> all;
  for (auto& w : workers_) {
    all.insert(all.end(), w->ended.begin(), w->ended.end());
    w->ended.clear();
  }
  return all;
}

std::vector<PortStats> Engine::port_stats() const {
  std::vector<PortStats> out;
  for (const auto& p : ports_) {
    PortStats s;
    s.name = p->name;
    rte_eth_stats st{};
    if (rte_eth_stats_get(p->port_id, &st) == 0) {
      s.rx = st.ipackets, s.tx = st.opackets, s.rx_missed = st.imissed;
      s.rx_errors = st.ierrors, s.tx_errors = st.oerrors, s.rx_nombuf = st.rx_nombuf;
    }
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(p->port_id, &link) == 0) s.link_up = link.link_status == RTE_ETH_LINK_UP;
    out.push_back(s);
  }
  return out;
}


}  // namespace tcpr::dataplane

namespace tcpr::dataplane {

// Live mode: one behaviour tick every tick_seconds of real time, off the lcores.
void Engine::control_thread_main(const std::atomic<bool>& stop) {
  const auto halted = [&] { return stop.load(std::memory_order_relaxed) || control_stop_.load(std::memory_order_relaxed); };
  if (behavior_ == nullptr) {   // the control socket (and metrics) only
    while (!halted()) {
      control_poll(1);
      control_metrics();
    }
    return;
  }
  const auto period = std::chrono::duration<double>(behavior_->config().tick_seconds);
  auto next = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
  while (!halted()) {
    // Until the tick, in 1 ms steps (a stop is seen within one): the control socket, and the
    // workers' local decisions to the XDP maps as they come.
    for (auto now = std::chrono::steady_clock::now(); now < next; now = std::chrono::steady_clock::now()) {
      if (halted()) return;
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
      control_poll(static_cast<int>(std::clamp<long long>(wait, 0, 1)));
      if (enforcer_ != nullptr)
        if (auto d = behavior_->take_local_decisions(); !d.empty()) enforcer_->local(d);
    }
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    behavior_->tick_live(static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec));
    if (enforcer_ != nullptr) enforcer_->sync(*behavior_);
    control_after_tick();
  }
}

void Engine::finish_behavior() {
  if (behavior_ != nullptr && behavior_->next_tick_end() != 0) behavior_->tick_quiescent();
}

}  // namespace tcpr::dataplane
