// The control socket's inspection commands (issue 8): `flows` (the largest flows now, from each
// worker's own table) and `explain` (one packet through a private pipeline). Help text beside each
// handler, as in engine_control.cpp.
#include <fmt/format.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "engine_parts.hpp"
#include "tcpr/packet/parser.hpp"
#include "tcpr/pipeline/explain.hpp"

namespace tcpr::dataplane {

using control::Json;
using control::Reply;
using control::Request;

namespace {

Result<Json> ok(Json j) { return Result<Json>(std::move(j)); }
Result<Json> err(std::string e) { return Result<Json>(Error{std::move(e)}); }

// explain's packet: a 5-tuple and payload, a frame in hex, or the N-th (1-based) packet of a capture.
Result<std::vector<std::uint8_t>> explain_input(const Json& a) {
  if (a.contains("frame")) {
    const std::string hex = a.at("frame").get<std::string>();
    if (hex.size() % 2 != 0 || hex.size() > 2 * 16384) return Error{"frame: an even number of hex digits, at most 16384 bytes"};
    std::vector<std::uint8_t> f;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
      const int hi = std::isxdigit(static_cast<unsigned char>(hex[i])) ? std::stoi(hex.substr(i, 1), nullptr, 16) : -1;
      const int lo = std::isxdigit(static_cast<unsigned char>(hex[i + 1])) ? std::stoi(hex.substr(i + 1, 1), nullptr, 16) : -1;
      if (hi < 0 || lo < 0) return Error{fmt::format("frame: '{}' is not hex", hex.substr(i, 2))};
      f.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
    return f;
  }
  if (a.contains("pcap")) {
    const std::string path = a.at("pcap").get<std::string>();
    const std::size_t index = a.value("index", 1u);
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline(path.c_str(), errbuf);
    if (p == nullptr) return Error{fmt::format("cannot read {}: {}", path, errbuf)};
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    std::vector<std::uint8_t> f;
    for (std::size_t i = 1; pcap_next_ex(p, &h, &data) == 1; ++i) {
      if (i == index) {
        f.assign(data, data + h->caplen);
        break;
      }
    }
    const bool ether = pcap_datalink(p) == DLT_EN10MB;
    pcap_close(p);
    if (!ether) return Error{fmt::format("{}: not an Ethernet capture", path)};
    if (f.empty()) return Error{fmt::format("{} has no packet {}", path, index)};
    return f;
  }
  return pipeline::build_frame(a.value("proto", std::string("tcp")), a.at("src").get<std::string>(), a.at("sport").get<std::uint16_t>(),
                               a.at("dst").get<std::string>(), a.at("dport").get<std::uint16_t>(),
                               a.value("payload", std::string()));
}

}  // namespace

void Engine::add_inspect_commands(control::Server& s) {
  s.add("flows", "flows [top=N] [class=CLASS] [agent=IP]",
        "the largest flows now, by bytes (top: default 20, at most 1000), optionally of one class or one agent; "
        "each worker walks its own table between bursts",
        [this](const Request& r) -> Reply {
          if (ctl_->flows.has_value()) return err("a flows query is under way; try again");
          pipeline::FlowQuery q;
          q.top = r.args.value("top", 20u);
          if (q.top == 0 || q.top > 1000) return err("top must be 1 to 1000");
          q.cls = r.args.value("class", std::string());
          if (r.args.contains("agent")) {
            const std::string a = r.args.at("agent").get<std::string>();
            auto p = behavior::parse_prefix(a);
            if (!p || p.value().bits != 128) return err(fmt::format("agent '{}' is not an IP address", a));
            q.agent = p.value().net;
          }
          for (auto& w : workers_) {
            if (w->scan_box.done()) (void)w->scan_box.take();   // a late answer to an earlier query
            if (!w->scan_box.ask(q)) return err("a worker is still answering an earlier query; try again");
          }
          ctl_->flows = ControlShared::FlowsAsk{r.client, q.top, std::chrono::steady_clock::now()};
          return std::nullopt;
        });

  s.add("explain",
        "explain (proto=tcp|udp src=IP sport=N dst=IP dport=N [payload=TEXT] | frame=HEX | pcap=FILE [index=N]) [port=PORT]",
        "runs one packet through a private pipeline built like the workers' (classes, routes, static egress, "
        "the agents' zones now) and says what each stage decided; nothing is sent",
        [this](const Request& r) -> Reply {
          std::uint16_t port = 0;
          if (r.args.contains("port")) {
            const int i = cfg_.port_index(r.args.at("port").get<std::string>());
            if (i < 0) return err(fmt::format("no port '{}'", r.args.at("port").get<std::string>()));
            port = static_cast<std::uint16_t>(i);
          }
          auto frame = explain_input(r.args);
          if (!frame) return err(frame.error());
          pipeline::ExplainContext ctx;
          ctx.base = explain_base_;
          ctx.behavior = behavior_ != nullptr ? &behavior_->config() : nullptr;
          {
            std::lock_guard<std::mutex> g(ctl_->mu);
            ctx.routes = routes_ != nullptr ? ctl_->route_view : nullptr;
            ctx.base.classes = ctl_->classes_view;
          }
          for (const auto& p : cfg_.ports) ctx.port_names.push_back(p.name);
          // The frame's agents, in the zones they are in now.
          if (behavior_ != nullptr && behavior_->config().key_mode == behavior::KeyMode::kIp) {
            const packet::PacketView v{frame.value().data(), static_cast<std::uint32_t>(frame.value().size()),
                                       static_cast<std::uint32_t>(frame.value().size()), port, 1};
            packet::ParsedPacket pp;
            if (packet::parse(v, pp) == TCPR_DROP_NONE && (pp.l3 == packet::L3::kIpv4 || pp.l3 == packet::L3::kIpv6)) {
              for (const packet::IpAddr* a : {&pp.src, &pp.dst}) {
                if (!behavior_->config().agents.contains(*a)) continue;
                behavior::AgentKey key;   // an IP-keyed agent: its address, no VLAN
                std::memcpy(key.addr, a->b, sizeof key.addr);
                key.mode = static_cast<std::uint8_t>(behavior::KeyMode::kIp);
                const behavior::Zone z = behavior_->zone_of(key);   // a new agent starts MONITORED
                ctx.zones.emplace_back(key, z < TCPR_ZONE__COUNT ? z : static_cast<behavior::Zone>(TCPR_ZONE_MONITORED));
              }
            }
          }
          return ok(pipeline::explain_frame(ctx, frame.value(), port));
        });

}

// Control thread: the flows query, once every worker has answered (or 2 s have passed: a worker
// that has stopped answers nothing) — merged, largest first.
void Engine::finish_flows() {
  const auto& ask = *ctl_->flows;
  std::size_t answered = 0;
  for (const auto& w : workers_) answered += w->scan_box.done() ? 1 : 0;
  const bool late = std::chrono::steady_clock::now() - ask.since > std::chrono::seconds(2);
  if (answered < workers_.size() && !late) return;
  std::vector<pipeline::FlowSummary> all;
  for (auto& w : workers_) {
    if (!w->scan_box.done()) continue;   // still asked: it answers later, and is taken then
    auto part = w->scan_box.take();
    all.insert(all.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.bytes > y.bytes; });
  if (all.size() > ask.top) all.resize(ask.top);
  std::shared_ptr<const route::RouteTable> table;
  {
    std::lock_guard<std::mutex> g(ctl_->mu);
    table = ctl_->route_view;
  }
  Json list = Json::array();
  for (const auto& f : all) {
    const bool a_client = f.client == packet::Side::kA;
    const auto& k = f.key;
    std::string egress;
    if (table != nullptr && f.path < table->paths().size()) egress = table->paths()[f.path].name;
    else if (f.egress < cfg_.ports.size()) egress = cfg_.ports[f.egress].name;
    else egress = f.egress == flow::kEgressDrop ? "drop" : "-";
    list.push_back({{"client", packet::format_endpoint(a_client ? k.a : k.b, a_client ? k.port_a : k.port_b)},
                    {"server", packet::format_endpoint(a_client ? k.b : k.a, a_client ? k.port_b : k.port_a)},
                    {"proto", packet::proto_name(k.proto)},
                    {"class", f.cls},
                    {"packets", f.packets},
                    {"bytes", f.bytes},
                    {"egress", egress},
                    {"first_ts", static_cast<double>(f.first_ns) / 1e9},
                    {"last_ts", static_cast<double>(f.last_ns) / 1e9},
                    {"worker", f.worker}});
  }
  control_srv_->reply(ask.client, Result<Json>(Json{{"flows", list}, {"workers_answered", answered}, {"workers", workers_.size()}}));
  ctl_->flows.reset();
}

}  // namespace tcpr::dataplane
