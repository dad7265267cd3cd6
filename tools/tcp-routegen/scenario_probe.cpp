// scenario_probe.cpp — network-shaped anomalies: port_scan, syn_flood, lateral, beacon.
//
// port_scan  nmap -sS: raw SYNs from one source port to 200–1000 distinct ports of 1–3 servers,
//            100–1000 a second; closed ports answer RST/ACK, the few open ones (the services the
//            servers run: 22, 80, 443, 3000, 8000, 8080) SYN-ACK, which the agent's kernel resets.
// syn_flood  raw SYNs to one server port, 500–2000 a second for about 2 s, each from another
//            source port (a permutation of 1024–32767, below Linux's ephemeral range so no
//            4-tuple repeats); the server answers about half with a SYN-ACK that the agent's
//            kernel resets; the rest go unanswered.
// lateral    connections, in turn, 5–20 a second, to 20–100 other hosts of the agent subnet
//            (the other agents first, then unused addresses after them): SSH sessions to port 22
//            (the ssh kind's conversation), or port 445, refused or connected and closed.
// beacon     a small HTTP GET or POST to one server every P ms (P in [200, 1000]), each on a new
//            connection, each start off the period by less than 0.5 % of P.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "behavior_kinds.hpp"
#include "http_flow.hpp"
#include "http_wire.hpp"
#include "scenario_kinds.hpp"
#include "tcp_session.hpp"
#include "text_gen.hpp"

namespace tcpr::gen {
namespace {

using Json = nlohmann::ordered_json;
using Reply = TcpSession::ProbeReply;

std::string address(const Host& host, std::uint16_t port) {
  return fmt::format("{}:{}", format_ipv4(host.ip), port);
}

// A stride coprime with `size`, so that (start + i · stride) mod size visits every residue once.
std::uint64_t coprime_stride(Rng& rng, std::uint64_t size) {
  if (size <= 2) return 1;
  for (;;) {
    const std::uint64_t stride = rng.between(1, size - 1);
    if (std::gcd(stride, size) == 1) return stride;
  }
}

class PortScan final : public AnomalyBase {
 public:
  explicit PortScan(const AnomalySetup& setup) : AnomalyBase(setup) {
    Rng rng(seed_);
    const std::uint64_t targets =
        std::min<std::uint64_t>(rng.between(1, 3), topology_.servers().size());
    while (targets_.size() < targets) {
      const Host* server = &pick_server(rng);
      if (std::find(targets_.begin(), targets_.end(), server) == targets_.end()) {
        targets_.push_back(server);
      }
    }
    const std::uint64_t count = rng.between(200, 1000);
    ports_list_.assign(std::begin(kOpen), std::end(kOpen));
    const std::uint64_t start = rng.below(65535);
    const std::uint64_t stride = coprime_stride(rng, 65535);
    for (std::uint64_t i = 0; ports_list_.size() < count; ++i) {
      const auto port = static_cast<std::uint16_t>(1 + (start + i * stride) % 65535);
      if (!is_open(port)) ports_list_.push_back(port);
    }
    for (std::size_t i = ports_list_.size() - 1; i > 0; --i) {
      std::swap(ports_list_[i], ports_list_[rng.below(i + 1)]);
    }
    rate_ = rng.between(100, 1000);
    source_port_ = static_cast<std::uint16_t>(rng.between(1024, 32767));
  }

  Json params() const override {
    Json targets = Json::array();
    for (const Host* host : targets_) targets.push_back(format_ipv4(host->ip));
    return {{"targets", targets}, {"ports", ports_list_.size()}, {"rate", rate_}};
  }

 private:
  static constexpr std::uint16_t kOpen[] = {22, 80, 443, 3000, 8000, 8080};
  static bool is_open(std::uint16_t port) {
    return std::find(std::begin(kOpen), std::end(kOpen), port) != std::end(kOpen);
  }

  std::unique_ptr<Conversation> build(std::uint64_t k, Rng& rng, bool) override {
    const Host& target = *targets_[k / ports_list_.size()];
    const std::uint16_t port = ports_list_[k % ports_list_.size()];
    auto conv = open(target, port, source_port_, rng, "port_scan");
    conv->label().content_class = "unknown";
    TcpSession(*conv, rng).probe(is_open(port) ? Reply::kSynAck : Reply::kRefused, true);
    return conv;
  }
  std::optional<std::uint64_t> next_due(std::uint64_t k, std::uint64_t, std::uint64_t,
                                        Rng&) override {
    if (k + 1 >= targets_.size() * ports_list_.size()) return std::nullopt;
    return paced(k + 1, rate_);
  }

  std::vector<const Host*> targets_;
  std::vector<std::uint16_t> ports_list_;
  std::uint64_t rate_ = 0;
  std::uint16_t source_port_ = 0;
};

class SynFlood final : public AnomalyBase {
 public:
  explicit SynFlood(const AnomalySetup& setup) : AnomalyBase(setup) {
    Rng rng(seed_);
    target_ = &pick_server(rng);
    static constexpr std::uint16_t kPorts[] = {80, 443, 8080};
    port_ = rng.pick(std::span<const std::uint16_t>(kPorts));
    rate_ = rng.between(500, 2000);
    end_us_ = onset_us_ + rng.between(1'800'000, 2'200'000);
    port_start_ = rng.below(kSourcePorts);
    port_stride_ = coprime_stride(rng, kSourcePorts);
  }

  Json params() const override {
    return {{"target", address(*target_, port_)},
            {"rate", rate_},
            {"seconds", static_cast<double>(end_us_ - onset_us_) / 1e6}};
  }

 private:
  static constexpr std::uint64_t kSourcePorts = 32768 - 1024;

  std::unique_ptr<Conversation> build(std::uint64_t k, Rng& rng, bool) override {
    const auto source =
        static_cast<std::uint16_t>(1024 + (port_start_ + k * port_stride_) % kSourcePorts);
    auto conv = open(*target_, port_, source, rng, "syn_flood");
    conv->label().content_class = "unknown";
    TcpSession(*conv, rng).probe(rng.chance(50) ? Reply::kSynAck : Reply::kNone, true);
    return conv;
  }
  std::optional<std::uint64_t> next_due(std::uint64_t k, std::uint64_t, std::uint64_t,
                                        Rng&) override {
    const std::uint64_t next = paced(k + 1, rate_);
    if (next >= end_us_) return std::nullopt;
    return next;
  }

  const Host* target_ = nullptr;
  std::uint16_t port_ = 0;
  std::uint64_t rate_ = 0;
  std::uint64_t end_us_ = 0;
  std::uint64_t port_start_ = 0;
  std::uint64_t port_stride_ = 1;
};

class Lateral final : public AnomalyBase {
 public:
  explicit Lateral(const AnomalySetup& setup) : AnomalyBase(setup) {
    Rng rng(seed_);
    const Ipv4Subnet& subnet = topology_.config().agent_subnet;
    const std::uint64_t agents = topology_.agents().size();
    const std::uint64_t capacity = subnet.size() - Topology::kFirstHostOffset - 1;
    std::uint64_t count = rng.between(20, 100);
    // The other agents, and unused addresses after them when there are too few.
    const std::uint64_t pool = std::min(std::max(agents, count + 1), capacity);
    count = std::min(count, pool - 1);
    const std::uint64_t start = rng.below(pool);
    const std::uint64_t stride = coprime_stride(rng, pool);
    for (std::uint64_t i = 0; targets_.size() < count; ++i) {
      const std::uint64_t offset = (start + i * stride) % pool;
      if (offset == agent_index_) continue;
      if (offset < agents) {
        targets_.push_back(topology_.agents()[offset]);
      } else {
        const auto ip =
            static_cast<std::uint32_t>(subnet.network + Topology::kFirstHostOffset + offset);
        targets_.push_back(Host{ip, mac_for_ipv4(ip), 64, 0, "host-" + format_ipv4(ip)});
      }
    }
    rate_ = rng.between(5, 20);
  }

  Json params() const override { return {{"targets", targets_.size()}, {"rate", rate_}}; }

 private:
  std::unique_ptr<Conversation> build(std::uint64_t k, Rng& rng, bool brief) override {
    static const std::unique_ptr<Scenario> ssh = make_ssh();
    const Host& target = targets_[k];
    const bool to_ssh = !brief && rng.chance(60);
    // Hosts on the segment: a LAN round trip.
    auto conv = open(target, to_ssh ? 22 : 445, ports_.next(agent_index_), rng, "lateral",
                     static_cast<std::uint32_t>(rng.between(100, 500)));
    if (to_ssh) {
      ssh->emit(*conv, rng, topology_);
      return conv;
    }
    conv->label().content_class = "unknown";
    TcpSession tcp(*conv, rng);
    if (brief || rng.chance(50)) {
      tcp.probe(Reply::kRefused, false);
    } else {
      tcp.connect();
      conv->advance_us(rng.between(200, 3'000));
      tcp.close(Side::kClient);
    }
    return conv;
  }
  std::optional<std::uint64_t> next_due(std::uint64_t k, std::uint64_t, std::uint64_t,
                                        Rng&) override {
    if (k + 1 >= targets_.size()) return std::nullopt;
    return paced(k + 1, rate_);
  }

  std::vector<Host> targets_;
  std::uint64_t rate_ = 0;
};

class Beacon final : public AnomalyBase {
 public:
  explicit Beacon(const AnomalySetup& setup) : AnomalyBase(setup) {
    Rng rng(seed_);
    target_ = &pick_server(rng);
    port_ = rng.chance(70) ? 80 : 8080;
    period_us_ = rng.between(200, 1000) * 1000;
    post_ = rng.chance(50);
    id_ = hex_id(rng, 8);
    path_ = post_ ? "/api/v1/telemetry" : fmt::format("/api/v1/updates?id={}", id_);
  }

  Json params() const override {
    return {{"target", address(*target_, port_)},
            {"period_ms", period_us_ / 1000},
            {"method", post_ ? "POST" : "GET"}};
  }

 private:
  std::unique_ptr<Conversation> build(std::uint64_t k, Rng& rng, bool) override {
    auto conv = open(*target_, port_, rng, "beacon");
    const std::string host = host_field(conv->endpoint(Side::kServer));
    const std::string_view method = post_ ? "POST" : "GET";
    label_http(*conv, "http", host, method, path_);
    HttpFlow http(*conv, rng);
    const HttpFields fields{{"User-Agent", "python-requests/2.31.0"}, {"Accept", "*/*"}};
    if (post_) {
      HttpFields with_type = fields;
      with_type.emplace_back("Content-Type", "application/json");
      http.request(http_request(method, path_, host, with_type,
                                fmt::format(R"({{"id":"{}","seq":{},"state":"idle"}})", id_, k)));
    } else {
      http.request(http_request(method, path_, host, fields));
    }
    http.respond(http_response(200, {{"Content-Type", "application/json"}},
                               fmt::format(R"({{"ok":true,"next":{}}})", period_us_ / 1000)),
                 rng.between(300, 2'000));
    http.close(Side::kClient);
    return conv;
  }
  std::optional<std::uint64_t> next_due(std::uint64_t k, std::uint64_t, std::uint64_t,
                                        Rng&) override {
    const std::uint64_t jitter = derive_seed(seed_ ^ 0xbeac07, k + 1) % (period_us_ / 200 + 1);
    return onset_us_ + (k + 1) * period_us_ + jitter;
  }

  const Host* target_ = nullptr;
  std::uint16_t port_ = 0;
  std::uint64_t period_us_ = 0;
  bool post_ = false;
  std::string id_;
  std::string path_;
};

}  // namespace

std::unique_ptr<AnomalyDriver> port_scan_driver(const AnomalySetup& setup) {
  return std::make_unique<PortScan>(setup);
}
std::unique_ptr<AnomalyDriver> syn_flood_driver(const AnomalySetup& setup) {
  return std::make_unique<SynFlood>(setup);
}
std::unique_ptr<AnomalyDriver> lateral_driver(const AnomalySetup& setup) {
  return std::make_unique<Lateral>(setup);
}
std::unique_ptr<AnomalyDriver> beacon_driver(const AnomalySetup& setup) {
  return std::make_unique<Beacon>(setup);
}

}  // namespace tcpr::gen
