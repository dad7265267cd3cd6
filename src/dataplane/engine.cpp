#include "engine.hpp"
#include "engine_parts.hpp"

#include <fmt/format.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include <cstring>
#include <ctime>

#include "tcpr/config/config.hpp"
#include "tcpr/packet/flow_key.hpp"
#include "tcpr/packet/parser.hpp"

namespace tcpr::dataplane {

namespace {

constexpr unsigned kRingSize = 4096;

// A Toeplitz key whose 16-bit halves repeat makes the RSS hash symmetric in (src, dst) and in
// (sport, dport), so both directions of a flow land on one queue (Woo & Park, "Scalable TCP
// Session Monitoring with Symmetric Receive-side Scaling", 2012).
constexpr std::uint8_t kSymmetricRssKey[40] = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a};

int g_ts_offset = -1;        // mbuf dynfield of the RX timestamp (net_pcap: microseconds)
std::uint64_t g_ts_flag = 0;

struct Clock {
  std::uint64_t hz = 1;
  std::uint64_t tsc0 = 0;
  std::uint64_t ns0 = 0;
  std::uint64_t now_ns() const noexcept {
    const std::uint64_t d = rte_get_tsc_cycles() - tsc0;
    return ns0 + (d / hz) * 1'000'000'000ull + (d % hz) * 1'000'000'000ull / hz;
  }
};
Clock g_clock;

std::uint64_t wall_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}


// A packet's time: the PMD's RX timestamp (net_pcap: the capture's), else `fallback`.
inline std::uint64_t mbuf_ts(const rte_mbuf* m, std::uint64_t fallback) noexcept {
  return g_ts_offset >= 0 && (m->ol_flags & g_ts_flag) != 0
             ? *RTE_MBUF_DYNFIELD(m, g_ts_offset, const rte_mbuf_timestamp_t*) * 1000ull
             : fallback;
}

// The worker a packet belongs to when a port has no RSS: the symmetric flow hash, so both
// directions meet on one worker. Packets without a flow go to worker 0.
unsigned worker_for(const rte_mbuf* m, unsigned n_workers) noexcept {
  packet::PacketView v{rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len, m->pkt_len, 0, 0};
  packet::ParsedPacket p;
  packet::FlowKey key;
  packet::Side side;
  if (packet::parse(v, p) != TCPR_DROP_NONE || !packet::key_for(p, key, side)) return 0;
  return static_cast<unsigned>(packet::hash(key) % n_workers);
}

}  // namespace


namespace {

using Worker = Engine::Worker;

void collect_flow(void* ctx, const pipeline::FlowReport& r) {
  static_cast<Worker*>(ctx)->ended.push_back(pipeline::make_record(r));
}

void count_tx_drop(rte_mbuf** pkts, std::uint16_t unsent, void* userdata) {
  auto* tx = static_cast<Worker::Tx*>(userdata);
  tx->dropped += unsent;
  rte_pktmbuf_free_bulk(pkts, unsent);
}

struct WorkerArgs {
  Worker* w;
  std::uint32_t burst;
  std::uint64_t drain_tsc;
  bool lossless;
  std::uint64_t replay_packets;    // direct replay: stop after this many
  bool replay;                     // capture clock: no idle ageing; drain the table at the end
  const std::atomic<bool>* input_done;
  SnapshotPublisher<classify::ClassDb>* classes;  // null without classification
};

inline void send(Worker& w, std::uint16_t port_index, rte_mbuf* m, bool lossless) noexcept {
  Worker::Tx& tx = w.tx[port_index];
  if (tx.buffer != nullptr) {
    rte_eth_tx_buffer(tx.port_id, tx.queue, tx.buffer, m);
  } else if (lossless) {
    while (rte_ring_sp_enqueue(tx.ring, m) != 0) rte_pause();
  } else if (rte_ring_sp_enqueue(tx.ring, m) != 0) {
    rte_pktmbuf_free(m);
    w.pipeline->count_drop(TCPR_DROP_TX_FULL);
  }
}

void process_burst(Worker& w, rte_mbuf** mbufs, std::uint16_t n, bool lossless) noexcept {
  // Per-worker arrays: default-initialising kMaxBurst entries here cost more per burst than the
  // burst's own views. Packets without a PMD timestamp share one clock read per burst.
  packet::PacketView* views = w.views;
  pipeline::Verdict* verdicts = w.verdicts;
  const std::uint64_t burst_ns = g_clock.now_ns();
  for (std::uint16_t i = 0; i < n; ++i) {
    const rte_mbuf* m = mbufs[i];
    const std::uint64_t ts = mbuf_ts(m, burst_ns);
    views[i] = {rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len, m->pkt_len,
                m->port < w.port_index_of.size() ? w.port_index_of[m->port] : std::uint16_t{0xffff}, ts};
  }
  w.pipeline->process(views, n, verdicts);
  const route::Router* router = w.pipeline->router();
  for (std::uint16_t i = 0; i < n; ++i) {
    const pipeline::Verdict& v = verdicts[i];
    if (v.drop != TCPR_DROP_NONE || v.egress >= w.tx.size()) {
      rte_pktmbuf_free(mbufs[i]);
      continue;
    }
    if (v.mirror != route::kNoPath) {
      // The copy is taken before the primary rewrite: each is rewritten for its own path.
      const route::Path& mp = router->table().paths()[v.mirror];
      rte_mbuf* copy = rte_pktmbuf_copy(mbufs[i], w.pool, 0, UINT32_MAX);
      if (copy == nullptr) {
        w.pipeline->count_drop(TCPR_DROP_TX_FULL);
      } else if (const DropReason d = rewrite_mbuf(copy, mp.rewrite); d != TCPR_DROP_NONE) {
        rte_pktmbuf_free(copy);
        w.pipeline->count_drop(d);
      } else {
        send(w, mp.port, copy, lossless);
      }
    }
    if (v.path != route::kNoPath) {
      if (const DropReason d = rewrite_mbuf(mbufs[i], router->table().paths()[v.path].rewrite); d != TCPR_DROP_NONE) {
        rte_pktmbuf_free(mbufs[i]);
        w.pipeline->count_drop(d);
        continue;
      }
    }
    send(w, v.egress, mbufs[i], lossless);
  }
}

void flush_tx(Worker& w) noexcept {
  for (auto& tx : w.tx) {
    if (tx.buffer != nullptr) rte_eth_tx_buffer_flush(tx.port_id, tx.queue, tx.buffer);
  }
}

int worker_main(void* arg) {
  const auto* a = static_cast<const WorkerArgs*>(arg);
  Worker& w = *a->w;
  rte_mbuf* mbufs[kMaxBurst];
  std::uint64_t last_drain = rte_get_tsc_cycles();
  const bool direct_replay = a->replay_packets != 0 && w.in_ring == nullptr;
  for (;;) {
    if (w.stop->load(std::memory_order_relaxed)) break;
    // Between bursts: adopt a newly published class database (one atomic load otherwise).
    if (a->classes != nullptr) {
      std::shared_ptr<const classify::ClassDb> db;
      if (a->classes->poll(w.index, db)) w.pipeline->set_classes(std::move(db));
    }
    w.pipeline->poll();
    std::uint32_t got = 0;
    for (const auto& rx : w.rx) {
      const std::uint16_t n = rte_eth_rx_burst(rx.port_id, rx.queue, mbufs, static_cast<std::uint16_t>(a->burst));
      if (n == 0) continue;
      w.received += n;
      got += n;
      process_burst(w, mbufs, n, a->lossless);
    }
    if (w.in_ring != nullptr) {
      const unsigned n = rte_ring_sc_dequeue_burst(w.in_ring, reinterpret_cast<void**>(mbufs), a->burst, nullptr);
      if (n != 0) {
        w.received += n;
        got += n;
        process_burst(w, mbufs, static_cast<std::uint16_t>(n), a->lossless);
        w.processed.store(w.processed.load(std::memory_order_relaxed) + n, std::memory_order_release);
      }
    }
    const std::uint64_t now = rte_get_tsc_cycles();
    if (now - last_drain > a->drain_tsc) {
      flush_tx(w);
      last_drain = now;
      if (got == 0 && !a->replay) w.pipeline->age(g_clock.now_ns());
    }
    if (direct_replay) {
      if (w.received >= a->replay_packets) break;
      w.idle.poll(got, now);
    }
    if (w.in_ring != nullptr && got == 0 && a->input_done->load(std::memory_order_acquire) &&
        rte_ring_empty(w.in_ring))
      break;
  }
  flush_tx(w);
  if (a->replay) w.pipeline->flows().drain();
  w.finished.store(true, std::memory_order_release);
  return 0;
}

}  // namespace

Engine::Engine(const config::Config& cfg) : cfg_(cfg) {}

Engine::~Engine() { shutdown(); }

Result<bool> Engine::setup_port(std::size_t idx, const std::string& device) {
  auto port = std::make_unique<Port>();
  port->name = cfg_.ports[idx].name;
  const std::string dev_name = device.substr(0, device.find(','));
  std::uint16_t pid = 0;
  bool found = rte_eth_dev_get_port_by_name(dev_name.c_str(), &pid) == 0;
  if (!found) {
    if (rte_dev_probe(device.c_str()) != 0)
      return Error{fmt::format("port '{}': cannot probe device '{}'", port->name, device)};
    found = rte_eth_dev_get_port_by_name(dev_name.c_str(), &pid) == 0;
  }
  if (!found) return Error{fmt::format("port '{}': no ethdev named '{}'", port->name, dev_name)};
  port->port_id = pid;

  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(pid, &info) != 0)
    return Error{fmt::format("port '{}': cannot get device info", port->name)};
  const std::uint32_t n = opt_.workers;
  port->direct = n == 1 || (info.max_rx_queues >= n && info.max_tx_queues >= n);
  port->n_queues = static_cast<std::uint16_t>(port->direct ? n : 1);

  rte_eth_conf conf{};
  if (port->direct && n > 1 && info.flow_type_rss_offloads != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = const_cast<std::uint8_t*>(kSymmetricRssKey);
    conf.rx_adv_conf.rss_conf.rss_key_len = sizeof kSymmetricRssKey;
    conf.rx_adv_conf.rss_conf.rss_hf =
        info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
  }
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  if (int rc = rte_eth_dev_configure(pid, port->n_queues, port->n_queues, &conf); rc != 0)
    return Error{fmt::format("port '{}': configure failed: {}", port->name, rte_strerror(-rc))};
  std::uint16_t nb_rxd = static_cast<std::uint16_t>(cfg_.dataplane.rx_descriptors);
  std::uint16_t nb_txd = static_cast<std::uint16_t>(cfg_.dataplane.tx_descriptors);
  rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rxd, &nb_txd);
  const int socket = rte_eth_dev_socket_id(pid);
  for (std::uint16_t q = 0; q < port->n_queues; ++q) {
    if (int rc = rte_eth_rx_queue_setup(pid, q, nb_rxd, socket, nullptr, pool_); rc != 0)
      return Error{fmt::format("port '{}': RX queue {} setup failed: {}", port->name, q, rte_strerror(-rc))};
    rte_eth_txconf txc = info.default_txconf;
    txc.offloads = conf.txmode.offloads;
    if (int rc = rte_eth_tx_queue_setup(pid, q, nb_txd, socket, &txc); rc != 0)
      return Error{fmt::format("port '{}': TX queue {} setup failed: {}", port->name, q, rte_strerror(-rc))};
  }
  if (int rc = rte_eth_dev_start(pid); rc != 0)
    return Error{fmt::format("port '{}': start failed: {}", port->name, rte_strerror(-rc))};
  rte_eth_promiscuous_enable(pid);  // an inline appliance forwards frames not addressed to it
  ports_.push_back(std::move(port));
  return true;
}

Result<bool> Engine::start(const EngineOptions& opt) {
  opt_ = opt;
  std::vector<char*> argv;
  for (auto& s : opt_.eal_args) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int rc = rte_eal_init(static_cast<int>(argv.size() - 1), argv.data());
  if (rc < 0) return Error{fmt::format("EAL initialisation failed: {}", rte_strerror(rte_errno))};
  eal_up_ = true;
  if (rte_lcore_count() < opt_.workers + 1)
    return Error{fmt::format("{} workers need {} lcores, EAL has {}", opt_.workers, opt_.workers + 1,
                             rte_lcore_count())};
  g_clock.hz = rte_get_tsc_hz();
  g_clock.tsc0 = rte_get_tsc_cycles();
  g_clock.ns0 = wall_ns();

  std::uint32_t mbufs = cfg_.dataplane.mbufs;
  pool_ = rte_pktmbuf_pool_create("tcpr_mbufs", mbufs, cfg_.dataplane.mbuf_cache, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
  if (pool_ == nullptr)
    return Error{fmt::format("cannot create a mempool of {} mbufs: {} (raise EAL memory with -m)", mbufs,
                             rte_strerror(rte_errno))};

  for (std::size_t i = 0; i < opt_.devices.size(); ++i) {
    auto r = setup_port(i, opt_.devices[i]);
    if (!r) return r;
  }
  for (const auto& p : ports_) any_shared_ = any_shared_ || !p->direct;
  // PMD timestamps in replay only (net_pcap: the capture's clock). Live mode keeps one clock, the
  // wall clock its flows are aged by: a capture's times are in the past, a NIC's in its own domain.
  g_ts_offset = opt_.replay_packets != 0 ? rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, nullptr) : -1;
  const int flag_bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, nullptr);
  g_ts_flag = flag_bit >= 0 ? (1ull << flag_bit) : 0;

  std::vector<std::uint16_t> egress_of(cfg_.ports.size(), route::kNoEgress);
  for (std::size_t i = 0; i < cfg_.ports.size(); ++i) {
    const int e = cfg_.ports[i].egress.empty() ? -1 : cfg_.port_index(cfg_.ports[i].egress);
    if (e >= 0) egress_of[i] = static_cast<std::uint16_t>(e);
    if (cfg_.ports[i].egress == "route" && cfg_.routing.enabled()) egress_of[i] = route::kRouteEgress;
  }
  pipeline::PipelineConfig pcfg;
  pcfg.flow = cfg_.flow;
  pcfg.expire_budget = cfg_.expire_budget;
  pcfg.egress = route::StaticEgress(egress_of);
  pcfg.classify = cfg_.classify;
  pcfg.classes = opt_.classes;
  start_routing(pcfg);
  if (opt_.behavior != nullptr && opt_.behavior->enabled) {
    std::vector<bool> agent_port(cfg_.ports.size(), false);
    for (const auto& name : opt_.behavior->agent_ports)
      if (const int i = cfg_.port_index(name); i >= 0) agent_port[static_cast<std::size_t>(i)] = true;
    behavior_ = std::make_unique<behavior::Behavior>(*opt_.behavior, opt_.workers, std::move(agent_port));
    if (opt_.enforce != nullptr && opt_.enforce->enabled && opt_.replay_packets == 0) {
      auto e = enforce::Enforcer::start(*opt_.enforce, *opt_.behavior);
      if (!e) return Error{e.error()};
      enforcer_ = std::move(e.value());
    }
    pcfg.behavior = behavior_.get();
    // A replay on direct ports has one worker: it runs the capture-clock ticks itself. With
    // shared ports the main lcore holds packets at each tick boundary instead (io_loop).
    pcfg.inline_ticks = opt_.replay_packets != 0 && !any_shared_;
  }

  if (opt_.classes != nullptr)
    classes_pub_ = std::make_unique<SnapshotPublisher<classify::ClassDb>>(opt_.classes, opt_.workers);
  std::uint16_t max_port_id = 0;
  for (const auto& p : ports_) max_port_id = std::max(max_port_id, p->port_id);
  for (unsigned wi = 0; wi < opt_.workers; ++wi) {
    auto w = std::make_unique<Worker>();
    w->index = wi;
    w->pool = pool_;
    pcfg.worker = wi;
    pipeline::ReportSink sink{};
    if (opt_.collect_flows) sink = pipeline::ReportSink{w.get(), collect_flow};
    w->pipeline = std::make_unique<pipeline::Pipeline>(pcfg, sink);
    w->port_index_of.assign(max_port_id + 1u, 0xffff);
    w->tx.resize(ports_.size());
    for (std::size_t pi = 0; pi < ports_.size(); ++pi) {
      const Port& p = *ports_[pi];
      w->port_index_of[p.port_id] = static_cast<std::uint16_t>(pi);
      Worker::Tx& tx = w->tx[pi];
      tx.port_id = p.port_id;
      if (p.direct) {
        tx.queue = static_cast<std::uint16_t>(wi);
        tx.buffer = static_cast<rte_eth_dev_tx_buffer*>(
            rte_zmalloc_socket("tcpr_txbuf", RTE_ETH_TX_BUFFER_SIZE(kMaxBurst), 0, rte_socket_id()));
        if (tx.buffer == nullptr) return Error{"cannot allocate TX buffers"};
        rte_eth_tx_buffer_init(tx.buffer, cfg_.dataplane.burst_size);
        rte_eth_tx_buffer_set_err_callback(tx.buffer, count_tx_drop, &tx);
        const bool rx_here = opt_.replay_packets == 0 || static_cast<int>(pi) == opt_.replay_ingress;
        if (rx_here) w->rx.push_back({p.port_id, static_cast<std::uint16_t>(wi), static_cast<std::uint16_t>(pi)});
      } else {
        const std::string name = fmt::format("tcpr_tx_{}_{}", wi, pi);
        tx.ring = rte_ring_create(name.c_str(), kRingSize, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (tx.ring == nullptr) return Error{fmt::format("cannot create ring {}", name)};
      }
    }
    if (any_shared_) {
      const std::string name = fmt::format("tcpr_in_{}", wi);
      w->in_ring = rte_ring_create(name.c_str(), kRingSize, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (w->in_ring == nullptr) return Error{fmt::format("cannot create ring {}", name)};
    }
    workers_.push_back(std::move(w));
  }
  explain_base_ = pcfg;   // what `explain` builds its private pipeline from
  return start_control();
}

// The main lcore's share of the work when some port is shared: receive and spread, then send
// what workers queued for shared ports. Never waits on a full worker ring: it keeps the rest of
// the burst pending and drains TX rings meanwhile, so a worker blocked on TX always progresses.
void Engine::io_loop(const std::atomic<bool>& stop) {
  const unsigned n_workers = static_cast<unsigned>(workers_.size());
  const std::uint32_t burst = cfg_.dataplane.burst_size;
  rte_mbuf* pending[kMaxBurst];
  unsigned n_pending = 0, next_pending = 0;
  std::vector<rte_mbuf*> per_worker[64];
  for (auto& v : per_worker) v.reserve(kMaxBurst);
  IdleRun idle;
  const std::uint64_t stall_tsc = rte_get_tsc_hz() * 3;
  // Replay with behaviour: packets past a tick boundary wait until every packet before it has
  // been processed and the tick has run, so zones never depend on worker timing.
  const bool tick_barriers = behavior_ != nullptr && opt_.replay_packets != 0;
  std::vector<std::uint64_t> dispatched(n_workers, 0);
  const auto drained = [&] {
    for (unsigned wi = 0; wi < n_workers; ++wi)
      if (workers_[wi]->processed.load(std::memory_order_acquire) != dispatched[wi]) return false;
    return true;
  };

  const auto all_finished = [&] {
    for (const auto& w : workers_) {
      if (!w->finished.load(std::memory_order_acquire)) return false;
    }
    return true;
  };

  for (;;) {
    bool worked = false;
    if (stop.load(std::memory_order_relaxed)) halt_.store(true, std::memory_order_relaxed);
    if (stop.load(std::memory_order_relaxed) && all_finished()) input_done_.store(true);
    // 1. Spread pending packets; receive more only when nothing is pending.
    if (next_pending == n_pending && !input_done_.load(std::memory_order_relaxed)) {
      n_pending = next_pending = 0;
      for (const auto& p : ports_) {
        if (p->direct) continue;
        const bool rx_here = opt_.replay_packets == 0 || ports_[static_cast<std::size_t>(opt_.replay_ingress)].get() == p.get();
        if (!rx_here) continue;
        const std::uint16_t n = rte_eth_rx_burst(p->port_id, 0, pending + n_pending,
                                                 static_cast<std::uint16_t>(burst - n_pending));
        n_pending += n;
        io_received_ += n;
        if (n_pending == burst) break;
      }
      // A stall is a run of empty polls lasting 3 s (IdleRun), not 3 s without packets: a long
      // tick on this lcore (tick barriers) is not the PMD running dry.
      idle.poll(n_pending, rte_get_tsc_cycles());
    }
    unsigned limit = n_pending;
    if (tick_barriers && next_pending < n_pending) {
      limit = next_pending;
      while (limit < n_pending && !behavior_->tick_due(mbuf_ts(pending[limit], 0))) ++limit;
      if (limit == next_pending) {
        worked = true;
        // Spread again on the next pass, up to the next boundary.
        if (drained())
          while (behavior_->tick_due(mbuf_ts(pending[limit], 0))) behavior_->tick_quiescent();
      }
    }
    if (next_pending < limit) {
      worked = true;
      for (auto& v : per_worker) v.clear();
      for (unsigned i = next_pending; i < limit; ++i)
        per_worker[worker_for(pending[i], n_workers)].push_back(pending[i]);
      // Enqueue in order per worker; what does not fit stays pending, in order.
      unsigned kept = 0;
      for (unsigned wi = 0; wi < n_workers; ++wi) {
        auto& v = per_worker[wi];
        if (v.empty()) continue;
        const unsigned done = rte_ring_sp_enqueue_burst(workers_[wi]->in_ring, reinterpret_cast<void**>(v.data()),
                                                        static_cast<unsigned>(v.size()), nullptr);
        dispatched[wi] += done;
        if (!opt_.lossless) {
          for (unsigned i = done; i < v.size(); ++i) {
            rte_pktmbuf_free(v[i]);
            workers_[wi]->pipeline->count_drop(TCPR_DROP_TX_FULL);
          }
        } else {
          for (unsigned i = done; i < v.size(); ++i) pending[kept++] = v[i];
        }
      }
      // Per-worker order is what matters (a flow lives on one worker), so regrouping is safe.
      // Packets past a tick boundary follow, in order.
      const unsigned rest = n_pending - limit;
      if (rest != 0) std::memmove(pending + kept, pending + limit, rest * sizeof(rte_mbuf*));
      next_pending = 0;
      n_pending = kept + rest;
    }
    if (opt_.replay_packets != 0 && !input_done_.load(std::memory_order_relaxed) && n_pending == 0) {
      if (io_received_ >= opt_.replay_packets) {
        input_done_.store(true, std::memory_order_release);
      } else if (idle.idle_for(rte_get_tsc_cycles(), stall_tsc)) {
        stalled_ = true;  // the PMD stopped delivering before the end of the capture
        input_done_.store(true, std::memory_order_release);
      }
    }
    // 2. Send what workers queued for shared ports.
    for (const auto& w : workers_) {
      for (std::size_t pi = 0; pi < ports_.size(); ++pi) {
        Worker::Tx& tx = w->tx[pi];
        if (tx.ring == nullptr) continue;
        rte_mbuf* out[kMaxBurst];
        const unsigned n = rte_ring_sc_dequeue_burst(tx.ring, reinterpret_cast<void**>(out), burst, nullptr);
        if (n == 0) continue;
        worked = true;
        unsigned sent = 0;
        while (sent < n) {
          sent += rte_eth_tx_burst(tx.port_id, 0, out + sent, static_cast<std::uint16_t>(n - sent));
          if (!opt_.lossless) break;
        }
        if (sent < n) {
          rte_pktmbuf_free_bulk(out + sent, n - sent);
          tx.dropped += n - sent;
        }
      }
    }
    service_control();
    if (!worked) {
      const bool finished = all_finished();
      bool rings_empty = true;
      for (const auto& w : workers_)
        for (const auto& tx : w->tx) rings_empty = rings_empty && (tx.ring == nullptr || rte_ring_empty(tx.ring));
      if (finished && rings_empty) break;
      rte_pause();
    }
  }
}

Result<bool> Engine::run(const std::atomic<bool>& stop) {
  const std::uint64_t drain_tsc =
      (rte_get_tsc_hz() + 999'999) / 1'000'000 * cfg_.dataplane.tx_drain_us;
  std::vector<WorkerArgs> args(workers_.size());
  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  // Workers stop on the engine's own flag: the caller's may be a constant (replay passes one that
  // is never set), so a stall must not write to it.
  halt_.store(stop.load());
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->stop = &halt_;
    args[i] = {workers_[i].get(), cfg_.dataplane.burst_size, drain_tsc, opt_.lossless,
               any_shared_ ? 0 : opt_.replay_packets, opt_.replay_packets != 0, &input_done_,
               classes_pub_.get()};
    if (lcore >= RTE_MAX_LCORE) return Error{"not enough worker lcores"};
    if (rte_eal_remote_launch(worker_main, &args[i], lcore) != 0)
      return Error{fmt::format("cannot launch worker {} on lcore {}", i, lcore)};
    lcore = rte_get_next_lcore(lcore, 1, 0);
  }
  if ((behavior_ != nullptr || control_srv_ != nullptr) && opt_.replay_packets == 0)
    control_ = std::thread([this, &stop] { control_thread_main(stop); });
  if (any_shared_) {
    io_loop(stop);
  } else {
    const std::uint64_t stall_tsc = rte_get_tsc_hz() * 3;
    for (;;) {
      if (stop.load(std::memory_order_relaxed)) halt_.store(true, std::memory_order_relaxed);
      bool finished = true, stalled = true;
      const std::uint64_t now = rte_get_tsc_cycles();
      for (const auto& w : workers_) {
        if (w->finished.load(std::memory_order_acquire)) continue;
        finished = false;
        stalled = stalled && w->idle.idle_for(now, stall_tsc);
      }
      if (finished) break;
      // Direct replay: a capture the PMD cannot deliver in full must not hang the run. Stalled:
      // every worker still running has polled its queues empty for 3 s on end.
      if (opt_.replay_packets != 0 && stalled && !stalled_) {
        stalled_ = true;
        halt_.store(true, std::memory_order_relaxed);
      }
      service_control();
      rte_delay_us_sleep(1000);
    }
  }
  rte_eal_mp_wait_lcore();
  control_stop_.store(true);
  if (control_.joinable()) control_.join();
  if (stalled_)
    return Error{fmt::format("the capture ended early: {} of {} packets received", received(), opt_.replay_packets)};
  return true;
}

void Engine::shutdown() noexcept {
  if (reloader_.joinable()) reloader_.join();
  control_stop_.store(true);
  if (control_.joinable()) control_.join();
  if (!eal_up_) return;
  for (auto& p : ports_) {
    rte_eth_dev_stop(p->port_id);
    rte_eth_dev_close(p->port_id);
  }
  for (auto& w : workers_) {
    for (auto& tx : w->tx) {
      rte_free(tx.buffer);
      if (tx.ring != nullptr) {
        rte_mbuf* m;
        while (rte_ring_dequeue(tx.ring, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
        rte_ring_free(tx.ring);
      }
    }
    if (w->in_ring != nullptr) {
      rte_mbuf* m;
      while (rte_ring_dequeue(w->in_ring, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
      rte_ring_free(w->in_ring);
    }
  }
  workers_.clear();
  ports_.clear();
  rte_mempool_free(pool_);
  pool_ = nullptr;
  rte_eal_cleanup();
  eal_up_ = false;
}

}  // namespace tcpr::dataplane
