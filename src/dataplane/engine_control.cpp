// The control socket's commands (issue 8): each command's help text is next to its handler.
//
// Handlers run on the control thread (Server::poll between ticks), which owns the behaviour
// state. What the main lcore owns — the route table, the class reloads — is handed over through
// Engine::ControlShared under its mutex (the main lcore only ever try_locks it); commands whose
// work finishes there (path up/down, reload) reply when it is done.
#include <fmt/format.h>
#include <rte_ethdev.h>

#include <algorithm>
#include <cmath>

#include "engine_parts.hpp"
#include "tcpr/enforce/zone_guard.hpp"

namespace tcpr::dataplane {

using control::Json;
using control::Reply;
using control::Request;

namespace {

constexpr const char* kVersion = "0.1.0";

Result<Json> ok(Json j) { return Result<Json>(std::move(j)); }
Result<Json> err(std::string e) { return Result<Json>(Error{std::move(e)}); }

// "90", "90s", "5m", "2h" → seconds; a JSON number is seconds.
Result<double> duration_of(const Json& v) {
  if (v.is_number()) {
    const double d = v.get<double>();
    if (!(d > 0) || !std::isfinite(d)) return Error{"ttl must be positive"};
    return d;
  }
  if (!v.is_string()) return Error{"ttl must be a duration like 90s, 5m or 2h"};
  const std::string s = v.get<std::string>();
  char* end = nullptr;
  const double n = std::strtod(s.c_str(), &end);
  const std::string unit = end != nullptr ? end : "";
  const double mult = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
  if (end == s.c_str() || mult == 0 || !(n > 0) || !std::isfinite(n))
    return Error{fmt::format("ttl '{}' is not a duration like 90s, 5m or 2h", s)};
  return n * mult;
}

Json zone_event_json(const behavior::ZoneEvent& e) {
  return Json{{"ts", static_cast<double>(e.ts_ns) / 1e9},
              {"agent", behavior::to_string(e.agent)},
              {"from", behavior::zone_name(e.from)},
              {"to", behavior::zone_name(e.to)},
              {"score", e.score},
              {"reason", e.reason}};
}

}  // namespace

Result<bool> Engine::start_control() {
  if (opt_.replay_packets != 0 || !cfg_.control.enabled) return true;
  auto srv = control::Server::open(cfg_.control);
  if (!srv) return Error{srv.error()};
  control_srv_ = std::move(srv.value());
  if (!cfg_.control.metrics.empty()) {
    auto m = control::MetricsExporter::open(cfg_.control.metrics);
    if (!m) return Error{m.error()};
    metrics_ = std::move(m.value());
  }
  ctl_ = std::make_unique<ControlShared>();
  for (auto& w : workers_) w->pipeline->set_flow_scan_box(&w->scan_box);   // workers are not running yet
  register_telemetry();
  ctl_->route_view = route_current_;
  ctl_->classes_view = opt_.classes;
  started_ = std::chrono::steady_clock::now();
  control::Server& s = *control_srv_;

  s.add("status", "status", "version, uptime, ports (link, rx/tx/drop totals and rates), workers, tick duration",
        [this](const Request&) -> Reply {
          Json ports = Json::array();
          const auto now = std::chrono::steady_clock::now();
          const auto stats = port_stats();
          const double dt = std::chrono::duration<double>(now - ctl_->rates_at).count();
          for (std::size_t i = 0; i < stats.size(); ++i) {
            const auto& p = stats[i];
            const std::uint64_t dropped = p.rx_missed + p.rx_errors + p.tx_errors + p.rx_nombuf;
            Json j{{"name", p.name}, {"link", p.link_up ? "up" : "down"}, {"rx", p.rx}, {"tx", p.tx}, {"dropped", dropped}};
            // Rates over the time since the previous status (at least 0.2 s; else the one before).
            if (i < ctl_->rates_prev.size() && dt > 0) {
              const auto& q = ctl_->rates_prev[i];
              const std::uint64_t qd = q.rx_missed + q.rx_errors + q.tx_errors + q.rx_nombuf;
              j["rx_pps"] = static_cast<double>(p.rx - q.rx) / dt;
              j["tx_pps"] = static_cast<double>(p.tx - q.tx) / dt;
              j["drop_pps"] = static_cast<double>(dropped - qd) / dt;
            }
            ports.push_back(j);
          }
          if (ctl_->rates_prev.empty() || dt >= 0.2) ctl_->rates_prev = stats, ctl_->rates_at = now;
          Json out{{"version", kVersion},
                   {"uptime_s", std::chrono::duration<double>(now - started_).count()},
                   {"workers", opt_.workers},
                   {"ports", ports}};
          const auto c = counters();
          out["packets"] = c.packets;
          out["bytes"] = c.bytes;
          if (behavior_ != nullptr) {
            const auto& t = behavior_->tick_ms();
            out["tick_s"] = behavior_->config().tick_seconds;
            out["tick_ms_last"] = t.empty() ? 0.0 : t.back();
            out["tick_ms_max"] = t.empty() ? 0.0 : *std::max_element(t.begin(), t.end());
            out["agents"] = behavior_->agent_count();
          }
          out["routing"] = routes_ != nullptr;
          out["xdp"] = enforcer_ != nullptr;
          if (metrics_ != nullptr) out["metrics"] = fmt::format("http://{}/metrics", cfg_.control.metrics);
          return ok(out);
        });

  s.add("agents", "agents [zone=ZONE] [top=N]", "agents by anomaly score, highest first (top: default 20, at most 10000)",
        [this](const Request& r) -> Reply {
          if (behavior_ == nullptr) return err("behaviour is off (no [behavior] agents configured)");
          const std::size_t top = r.args.value("top", 20u);
          if (top == 0 || top > 10000) return err("top must be 1 to 10000");
          behavior::Zone want = TCPR_ZONE__COUNT;
          if (r.args.contains("zone")) {
            want = behavior::zone_from_name(r.args.at("zone").get<std::string>());
            if (want >= TCPR_ZONE__COUNT) return err(fmt::format("no zone '{}'", r.args.at("zone").get<std::string>()));
          }
          auto all = behavior_->report();
          std::vector<const behavior::AgentReport*> sel;
          for (const auto& a : all)
            if (want == TCPR_ZONE__COUNT || a.zone == want) sel.push_back(&a);
          std::stable_sort(sel.begin(), sel.end(), [](auto* x, auto* y) { return x->score > y->score; });
          Json list = Json::array();
          for (std::size_t i = 0; i < sel.size() && i < top; ++i) {
            const auto& a = *sel[i];
            list.push_back({{"agent", behavior::to_string(a.key)}, {"zone", behavior::zone_name(a.zone)},
                            {"score", a.score}, {"trust", a.trust}, {"cohort", a.cohort}, {"why", a.why}});
          }
          return ok(Json{{"total", all.size()}, {"matching", sel.size()}, {"agents", list}});
        });

  s.add("agent", "agent id=AGENT", "one agent: features, score, trust, zone, top contributors, recent events",
        [this](const Request& r) -> Reply {
          if (behavior_ == nullptr) return err("behaviour is off (no [behavior] agents configured)");
          auto key = behavior::parse_agent(r.args.at("id").get<std::string>(), behavior_->config().key_mode);
          if (!key) return err(key.error());
          if (const auto rep = behavior_->report(key.value())) {
            const auto& a = *rep;
            Json f = Json::object();
            for (unsigned i = 0; i < behavior::kFeatures; ++i) f[behavior::kFeatureNames[i]] = a.features[i];
            Json ev = Json::array();
            const auto& events = behavior_->events();
            for (auto it = events.rbegin(); it != events.rend() && ev.size() < 20; ++it)
              if (it->agent == a.key) ev.push_back(zone_event_json(*it));
            return ok(Json{{"agent", behavior::to_string(a.key)}, {"zone", behavior::zone_name(a.zone)},
                           {"score", a.score}, {"max_score", a.max_score}, {"trust", a.trust}, {"cohort", a.cohort},
                           {"ticks", a.ticks}, {"why", a.why}, {"features", f}, {"recent_events", ev}});
          }
          return err(fmt::format("no agent {}", r.args.at("id").get<std::string>()));
        });

  s.add("zone", "zone id=AGENT zone=ZONE [ttl=DURATION]",
        "pins an agent in a zone (an operator pin outranks scores) until released or the ttl ends; in effect at "
        "the next tick",
        [this](const Request& r) -> Reply {
          if (behavior_ == nullptr) return err("behaviour is off (no [behavior] agents configured)");
          auto key = behavior::parse_agent(r.args.at("id").get<std::string>(), behavior_->config().key_mode);
          if (!key) return err(key.error());
          const std::string zn = r.args.at("zone").get<std::string>();
          const behavior::Zone z = behavior::zone_from_name(zn);
          if (z >= TCPR_ZONE__COUNT) return err(fmt::format("no zone '{}' (TRUSTED, MONITORED, QUARANTINED, ISOLATED)", zn));
          double ttl = 0;
          if (r.args.contains("ttl")) {
            auto d = duration_of(r.args.at("ttl"));
            if (!d) return err(d.error());
            ttl = d.value();
          }
          behavior_->pin(key.value(), z, ttl);
          return ok(Json{{"agent", behavior::to_string(key.value())}, {"zone", behavior::zone_name(z)},
                         {"ttl_s", ttl}, {"effective_within_s", behavior_->config().tick_seconds}});
        });

  s.add("release", "release id=AGENT", "removes an operator pin: the agent goes back to MONITORED and is scored again",
        [this](const Request& r) -> Reply {
          if (behavior_ == nullptr) return err("behaviour is off (no [behavior] agents configured)");
          auto key = behavior::parse_agent(r.args.at("id").get<std::string>(), behavior_->config().key_mode);
          if (!key) return err(key.error());
          behavior_->release(key.value());
          return ok(Json{{"agent", behavior::to_string(key.value())}, {"released", true}});
        });

  s.add("paths", "paths", "egress paths: state (operator, link), load, capacity, latency, classes, capabilities",
        [this](const Request&) -> Reply {
          if (routes_ == nullptr) return err("routing is off (no [[path]] configured)");
          std::shared_ptr<const route::RouteTable> t;
          {
            std::lock_guard<std::mutex> g(ctl_->mu);
            t = ctl_->route_view;
          }
          Json list = Json::array();
          const auto c = counters();
          for (std::size_t i = 0; i < t->paths().size(); ++i) {
            const auto& p = t->paths()[i];
            const std::uint32_t bit = 1u << i;
            const float rate = routes_->board.total(static_cast<unsigned>(i));
            Json j{{"name", p.name},
                   {"port", cfg_.ports[p.port].name},
                   {"up", (t->up() & bit) != 0},
                   {"admin", (t->admin_up() & bit) != 0 ? "up" : "down"},
                   {"link", (t->link_up() & bit) != 0 ? "up" : "down"},
                   {"role", p.role == route::PathRole::kQuarantine ? "quarantine" : p.role == route::PathRole::kMonitor ? "monitor" : ""},
                   {"load", p.capacity_bytes_s > 0 ? rate / p.capacity_bytes_s : 0.0f},
                   {"bytes_per_s", rate},
                   {"capacity_mbps", p.capacity_bytes_s * 8 / 1e6},
                   {"latency_us", p.latency_us},
                   {"classes", p.classes}};
            if (i < c.paths.size()) j["packets"] = c.paths[i].packets, j["bytes"] = c.paths[i].bytes;
            list.push_back(j);
          }
          return ok(Json{{"strategy", route::strategy_name(t->config().strategy)}, {"epoch", t->epoch()}, {"paths", list}});
        });

  s.add("path", "path name=PATH state=up|down",
        "takes a path out of service or back (operator state); replies once the workers have the new table",
        [this](const Request& r) -> Reply {
          if (routes_ == nullptr) return err("routing is off (no [[path]] configured)");
          const std::string name = r.args.at("name").get<std::string>(), state = r.args.at("state").get<std::string>();
          if (state != "up" && state != "down") return err("state must be up or down");
          const auto& paths = routes_->initial->paths();
          const auto it = std::find_if(paths.begin(), paths.end(), [&](const route::Path& p) { return p.name == name; });
          if (it == paths.end()) return err(fmt::format("no path '{}'", name));
          std::lock_guard<std::mutex> g(ctl_->mu);
          ctl_->path_requests.push_back({r.client, static_cast<std::uint16_t>(it - paths.begin()), state == "up"});
          return std::nullopt;
        });

  s.add("stats", "stats", "counters: dataplane drops by reason, XDP guard (zone × action, malformed), behaviour, control",
        [this](const Request&) -> Reply {
          const auto c = counters();
          Json drops = Json::object();
          for (std::size_t i = 1; i < kDropReasonCount; ++i)
            if (c.drops.count[i] != 0) drops[std::string(drop_reason_name(static_cast<DropReason>(i)))] = c.drops.count[i];
          Json out{{"packets", c.packets}, {"bytes", c.bytes}, {"no_flow", c.no_flow}, {"drops", drops}};
          if (enforcer_ != nullptr) {
            auto x = enforce::read_pinned_counters(cfg_.enforce.bpffs);
            if (x) {
              static constexpr const char* kActions[] = {"pass", "counted", "allowed", "dropped", "sampled", "sample_lost"};
              Json zones = Json::object();
              for (unsigned z = 0; z < TCPR_ZONE__COUNT; ++z)
                for (unsigned a = 0; a < TCPR_XDP_ACTIONS; ++a)
                  zones[behavior::zone_name(static_cast<behavior::Zone>(z))][kActions[a]] = x.value()[tcpr_counter_index(z, a)];
              Json bad = Json::object();
              for (unsigned d = 1; d < TCPR_DROP__COUNT; ++d)
                if (x.value()[tcpr_drop_counter_index(d)] != 0)
                  bad[std::string(drop_reason_name(static_cast<DropReason>(d)))] = x.value()[tcpr_drop_counter_index(d)];
              out["xdp"] = Json{{"zones", zones}, {"drops", bad}};
            } else {
              out["xdp"] = Json{{"error", x.error()}};
            }
          }
          if (behavior_ != nullptr) {
            const auto b = behavior_->counters();
            out["behavior"] = Json{{"ticks", b.ticks}, {"agents_created", b.agents_created}, {"agents_evicted", b.agents_evicted},
                                   {"agents_refused", b.agents_refused}, {"zone_changes", b.zone_changes},
                                   {"local_confirmed", b.local_confirmed}, {"local_reverted", b.local_reverted}};
          }
          const auto& k = control_srv_->counters();
          out["control"] = Json{{"clients", control_srv_->clients()}, {"accepted", k.accepted}, {"requests", k.requests},
                                {"errors", k.errors}, {"refused_peer", k.refused_peer}, {"refused_full", k.refused_full},
                                {"oversized", k.oversized}, {"slow", k.slow}, {"idle", k.idle}};
          out["reloads"] = Json{{"applied", reloads_.applied}, {"refused", reloads_.refused}};
          return ok(out);
        });

  add_inspect_commands(s);   // flows, explain (engine_inspect.cpp)

  s.add("classes", "classes", "the content classes and risk tags in use", [this](const Request&) -> Reply {
    std::shared_ptr<const classify::ClassDb> db;
    {
      std::lock_guard<std::mutex> g(ctl_->mu);
      db = ctl_->classes_view;
    }
    if (db == nullptr) return err("classification is off");
    Json classes = Json::array();
    for (const auto& c : db->classes()) classes.push_back({{"name", c.name}, {"priority", c.priority}});
    return ok(Json{{"classes", classes}, {"tags", db->tags()}, {"rules", db->rule_count()},
                   {"source", cfg_.classes_path.empty() ? "built in" : cfg_.classes_path}});
  });

  s.add("reload", "reload",
        "re-reads the configuration file and its classes file: a mistake in either is refused with FILE:LINE and "
        "nothing changes; else the classes, [routing] of the same paths, [enforce] policy and [control] limits are "
        "applied, and the reply lists what takes a restart",
        [this](const Request& r) -> Reply {
          if (classes_pub_ == nullptr) return err("classification is off: nothing to reload (restart to change the configuration)");
          auto next = config::load_config(cfg_.source);
          if (!next) return err("reload refused, nothing changed: " + next.error());
          auto n = std::make_shared<const config::Config>(std::move(next.value()));
          std::lock_guard<std::mutex> g(ctl_->mu);
          ctl_->reload_waiters.push_back({r.client, n, classes_cfg_.load()});
          classes_cfg_.store(n);   // the classes compile from the new file (restored if refused)
          request_reload();
          return std::nullopt;
        });

  s.add("events", "events [last=N] [follow=true]",
        "the last N zone changes (default 20); follow: then every new one as it happens, one line each",
        [this](const Request& r) -> Reply {
          if (behavior_ == nullptr) return err("behaviour is off (no [behavior] agents configured)");
          const std::size_t last = r.args.value("last", 20u);
          const auto& events = behavior_->events();
          Json list = Json::array();
          for (std::size_t i = events.size() > last ? events.size() - last : 0; i < events.size(); ++i)
            list.push_back(zone_event_json(events[i]));
          if (r.args.value("follow", false)) control_srv_->follow(r.client, "events");
          return ok(Json{{"events", list}, {"following", r.args.value("follow", false)}});
        });

  s.add("xdp", "xdp action=status|attach|detach [iface=IFACE] [mode=native|generic]",
        "the XDP zone guard on any interface, sharing tcp-routed's pinned maps", [this](const Request& r) -> Reply {
          const std::string action = r.args.value("action", std::string("status"));
          const std::string& bpffs = cfg_.enforce.bpffs;
          if (action == "status") {
            auto ifs = enforce::guarded_interfaces(bpffs);
            if (!ifs) return err(ifs.error());
            Json list = Json::array();
            for (const auto& i : ifs.value()) list.push_back({{"iface", i.iface}, {"mode", i.mode}, {"prog_id", i.prog_id}});
            return ok(Json{{"bpffs", bpffs}, {"interfaces", list}});
          }
          const std::string iface = r.args.at("iface").get<std::string>();
          if (action == "attach") {
            const std::string mode = r.args.value("mode", std::string("native"));
            if (mode != "native" && mode != "generic") return err("mode must be native or generic");
            auto a = enforce::attach_pinned(bpffs, iface, mode == "generic" ? enforce::AttachMode::kGeneric : enforce::AttachMode::kNative);
            if (!a) return err(a.error());
            return ok(Json{{"iface", iface}, {"attached", true}, {"mode", mode}});
          }
          if (action == "detach") {
            auto d = enforce::detach_iface(iface);
            if (!d) return err(d.error());
            return ok(Json{{"iface", iface}, {"attached", false}});
          }
          return err(fmt::format("unknown xdp action '{}' (status, attach, detach)", action));
        });
  return true;
}

// Control thread: serve for up to `ms`, then the replies the main lcore has finished.
void Engine::control_poll(int ms) {
  if (control_srv_ == nullptr) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return;
  }
  control_srv_->poll(ms);
  std::vector<std::pair<std::uint64_t, Result<Json>>> done;
  {
    std::lock_guard<std::mutex> g(ctl_->mu);
    done.swap(ctl_->done);
  }
  for (const auto& [client, r] : done) control_srv_->reply(client, r);
  if (ctl_->flows.has_value()) finish_flows();
  reload_outcomes();
}

// Control thread, after a tick: new zone events to the followers of "events".
void Engine::control_after_tick() {
  control_metrics();
  if (control_srv_ == nullptr || behavior_ == nullptr) return;
  const auto& events = behavior_->events();
  if (control_srv_->followers("events") != 0)
    for (std::size_t i = ctl_->events_sent; i < events.size(); ++i) control_srv_->publish("events", zone_event_json(events[i]));
  ctl_->events_sent = events.size();
}

// Main lcore: operator path changes into the pending route table (published by watch_links).
void Engine::take_path_requests() noexcept {
  if (ctl_ == nullptr || routes_ == nullptr) return;
  std::unique_lock<std::mutex> g(ctl_->mu, std::try_to_lock);
  if (!g.owns_lock()) return;
  if (ctl_->route_replace != nullptr) {
    // A reloaded [routing]: this lcore's own state of the paths (operator, link) carried over.
    const route::RouteTable& base = route_pending_ != nullptr ? *route_pending_ : *route_current_;
    route_pending_ = ctl_->route_replace->with_state_of(base);
    ctl_->route_replace.reset();
  }
  for (const auto& req : ctl_->path_requests) {
    const route::RouteTable& base = route_pending_ != nullptr ? *route_pending_ : *route_current_;
    route_pending_ = base.with_state(req.path, req.up);
    ctl_->path_waiting.push_back(req);
  }
  ctl_->path_requests.clear();
}

// Main lcore: a route table was published — the view for `paths`, and the waiting replies.
void Engine::route_published() noexcept {
  if (ctl_ == nullptr) return;
  std::lock_guard<std::mutex> g(ctl_->mu);
  ctl_->route_view = route_current_;
  for (const auto& req : ctl_->path_waiting) {
    const auto& p = route_current_->paths()[req.path];
    ctl_->done.emplace_back(req.client, Result<Json>(Json{{"path", p.name},
                                                          {"admin", req.up ? "up" : "down"},
                                                          {"up", (route_current_->up() >> req.path & 1u) != 0},
                                                          {"epoch", route_current_->epoch()}}));
  }
  ctl_->path_waiting.clear();
}

// Main lcore: a reload finished (applied: the new classes; else the refusal's message). The
// control thread answers the operators who asked (reload_outcomes).
void Engine::reload_finished(const std::shared_ptr<const classify::ClassDb>& applied, const std::string& refusal) noexcept {
  if (ctl_ == nullptr) return;
  std::lock_guard<std::mutex> g(ctl_->mu);
  if (applied != nullptr) ctl_->classes_view = applied;
  for (auto& w : ctl_->reload_waiters) ctl_->reload_outcomes.push_back({std::move(w), applied, refusal});
  ctl_->reload_waiters.clear();
}

// Control thread: answers to reloads — refused: the previous configuration back, nothing else
// touched; applied: the rest of the new configuration (apply_reload) and what it could not change.
void Engine::reload_outcomes() {
  std::vector<ControlShared::ReloadOutcome> outs;
  {
    std::lock_guard<std::mutex> g(ctl_->mu);
    outs.swap(ctl_->reload_outcomes);
  }
  for (auto& o : outs) {
    if (o.applied == nullptr) {
      classes_cfg_.store(o.waiter.prev);
      control_srv_->reply(o.waiter.client, Result<Json>(Error{"reload refused, nothing changed: " + o.refusal}));
      continue;
    }
    Json j = apply_reload(*o.waiter.next);
    j["classes"] = o.applied->classes().size();
    j["rules"] = o.applied->rule_count();
    control_srv_->reply(o.waiter.client, Result<Json>(j));
  }
}

}  // namespace tcpr::dataplane
