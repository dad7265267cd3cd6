#include "tcpr/route/route_table.hpp"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace tcpr::route {

namespace {

constexpr const char* kStrategyNames[] = {"semantic", "trust_weighted", "least_loaded",
                                          "lowest_latency", "redundant", "consistent_hash"};
static_assert(std::size(kStrategyNames) == static_cast<std::size_t>(Strategy::kCount));

}  // namespace

const char* strategy_name(Strategy s) noexcept {
  const auto i = static_cast<std::size_t>(s);
  return i < std::size(kStrategyNames) ? kStrategyNames[i] : "?";
}

bool strategy_from_name(std::string_view name, Strategy& out) noexcept {
  for (std::size_t i = 0; i < std::size(kStrategyNames); ++i)
    if (name == kStrategyNames[i]) {
      out = static_cast<Strategy>(i);
      return true;
    }
  return false;
}

// Iterative matching with one backtrack point (the last `*`): linear in practice, never
// exponential.
bool glob_match(std::string_view pat, std::string_view s) noexcept {
  std::size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && (pat[p] == '?' || pat[p] == s[i])) {
      ++p, ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

RouteTable::RouteTable(const RoutingConfig& cfg, const std::vector<Mac>& port_macs) : cfg_(cfg) {
  auto bit_of = [this](const std::string& name) -> std::uint32_t {
    auto it = std::find(capabilities_.begin(), capabilities_.end(), name);
    if (it == capabilities_.end()) {
      if (capabilities_.size() == kMaxCapabilities) return 0;   // the config reader bounds this
      capabilities_.push_back(name);
      it = capabilities_.end() - 1;
    }
    return 1u << static_cast<unsigned>(it - capabilities_.begin());
  };
  for (std::size_t i = 0; i < cfg_.paths.size() && i < kMaxPaths; ++i) {
    const PathConfig& pc = cfg_.paths[i];
    Path p;
    p.name = pc.name;
    p.port = pc.port_index;
    p.rewrite.dst_mac = pc.next_hop_mac;
    if (pc.port_index < port_macs.size()) p.rewrite.src_mac = port_macs[pc.port_index];
    p.rewrite.vlan = pc.vlan;
    p.rewrite.vlan_id = pc.vlan_id;
    p.rewrite.l3 = pc.l3;
    for (const auto& c : pc.capabilities) p.caps |= bit_of(c);
    p.capacity_bytes_s = static_cast<float>(pc.capacity_mbps * 1e6 / 8);
    p.latency_us = static_cast<float>(pc.latency_us);
    p.min_trust = static_cast<float>(pc.min_trust);
    p.exclusive = pc.exclusive;
    p.role = pc.role;
    p.seed = XXH3_64bits(pc.name.data(), pc.name.size());
    p.classes = pc.classes;
    const std::uint32_t bit = 1u << i;
    admin_ |= bit;
    link_ |= bit;
    if (p.role == PathRole::kNone) ordinary_ |= bit;
    if (p.role == PathRole::kQuarantine && quarantine_ == kNoPath) quarantine_ = static_cast<std::uint16_t>(i);
    if (p.role == PathRole::kMonitor && monitor_ == kNoPath) monitor_ = static_cast<std::uint16_t>(i);
    paths_.push_back(std::move(p));
  }
  for (const auto& n : cfg_.needs)
    for (const auto& c : n.capabilities) bit_of(c);
  if (const int d = cfg_.path_index(cfg_.default_path); d >= 0) default_ = static_cast<std::uint16_t>(d);
}

std::uint32_t RouteTable::capability_bit(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < capabilities_.size(); ++i)
    if (capabilities_[i] == name) return 1u << i;
  return 0;
}

std::shared_ptr<const RouteTable> RouteTable::with_state(std::uint16_t path, bool up) const {
  auto t = std::make_shared<RouteTable>(*this);
  if (path < paths_.size()) {
    if (up) t->admin_ |= 1u << path;
    else t->admin_ &= ~(1u << path);
  }
  t->epoch_ = epoch_ + 1;
  return t;
}

std::shared_ptr<const RouteTable> RouteTable::with_state_of(const RouteTable& base) const {
  auto t = std::make_shared<RouteTable>(*this);
  t->admin_ = base.admin_;
  t->link_ = base.link_;
  t->epoch_ = base.epoch_ + 1;
  return t;
}

std::shared_ptr<const RouteTable> RouteTable::with_link(std::uint16_t port, bool up) const {
  auto t = std::make_shared<RouteTable>(*this);
  for (std::size_t i = 0; i < paths_.size(); ++i) {
    if (paths_[i].port != port) continue;
    if (up) t->link_ |= 1u << i;
    else t->link_ &= ~(1u << i);
  }
  t->epoch_ = epoch_ + 1;
  return t;
}

Result<std::vector<PathEvent>> parse_path_events(std::string_view text, const std::string& source,
                                                 const RoutingConfig& cfg, std::uint64_t first_ns) {
  std::vector<PathEvent> out;
  unsigned line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::vector<std::string_view> words;
    for (std::size_t i = 0; i < line.size();) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      const std::size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
      if (i > start) words.push_back(line.substr(start, i - start));
    }
    if (words.empty()) continue;
    auto fail = [&](const std::string& what) {
      return Error{fmt::format("{}:{}: {}", source, line_no, what)};
    };
    if (words.size() != 3) return fail("expected 'TIME PATH up|down'");
    std::string_view t = words[0];
    const bool relative = !t.empty() && t[0] == '+';
    if (relative) t.remove_prefix(1);
    // Whole seconds and up to nine decimals, in integers: a double holds an epoch time in
    // nanoseconds only to ~256 ns.
    std::uint64_t whole = 0, frac = 0;
    const std::size_t dot = t.find('.');
    const std::string_view w = t.substr(0, dot), d = dot == std::string_view::npos ? std::string_view{} : t.substr(dot + 1);
    const auto [wend, wec] = std::from_chars(w.data(), w.data() + w.size(), whole);
    bool good = !w.empty() && wec == std::errc{} && wend == w.data() + w.size() && whole <= 100'000'000'000ull &&
                d.size() <= 9 && (dot == std::string_view::npos || !d.empty());
    for (char c : d) good = good && c >= '0' && c <= '9';
    if (!good) return fail(fmt::format("'{}' is not a time (capture seconds, or +seconds after the first packet)", words[0]));
    for (std::size_t i = 0; i < 9; ++i) frac = frac * 10 + (i < d.size() ? static_cast<std::uint64_t>(d[i] - '0') : 0);
    const int p = cfg.path_index(words[1]);
    if (p < 0) return fail(fmt::format("no path named '{}'", words[1]));
    if (words[2] != "up" && words[2] != "down") return fail(fmt::format("'{}': expected up or down", words[2]));
    const std::uint64_t ns = whole * 1'000'000'000ull + frac;
    out.push_back({relative ? first_ns + ns : ns, static_cast<std::uint16_t>(p), words[2] == "up"});
  }
  std::stable_sort(out.begin(), out.end(), [](const PathEvent& a, const PathEvent& b) { return a.ts_ns < b.ts_ns; });
  return out;
}

}  // namespace tcpr::route
