// scenario_mix.cpp — ScenarioMix (see scenarios.hpp): --mix parsing and weighted choice.
#include <algorithm>
#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

#include "scenarios.hpp"

namespace tcpr::gen {
namespace {

const ScenarioKind* find_kind(std::string_view name) {
  for (const ScenarioKind& kind : scenario_kinds()) {
    if (kind.name == name) return &kind;
  }
  return nullptr;
}

std::string known_kinds() {
  std::string names;
  for (const ScenarioKind& kind : scenario_kinds()) {
    if (!names.empty()) names += ", ";
    names += kind.name;
  }
  return names;
}

}  // namespace

Result<ScenarioMix> ScenarioMix::parse(std::string_view spec) {
  ScenarioMix mix;
  std::vector<std::string_view> seen;
  while (!spec.empty()) {
    const std::size_t comma = spec.find(',');
    const std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return make_error("--mix: '{}' is not name=weight", item);
    }
    const std::string_view name = item.substr(0, eq);
    const std::string_view weight_text = item.substr(eq + 1);
    const ScenarioKind* kind = find_kind(name);
    if (kind == nullptr) {
      return make_error("--mix: unknown scenario '{}' (known: {})", name, known_kinds());
    }
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return make_error("--mix: scenario '{}' given twice", name);
    }
    seen.push_back(name);
    std::uint32_t weight = 0;
    const char* end = weight_text.data() + weight_text.size();
    const auto [ptr, ec] = std::from_chars(weight_text.data(), end, weight);
    if (weight_text.empty() || ec != std::errc{} || ptr != end || weight > kMaxWeight) {
      return make_error("--mix: weight of '{}' must be an integer from 0 to {}, not '{}'", name,
                        kMaxWeight, weight_text);
    }
    if (weight > 0) mix.entries_.push_back({kind->make(), weight});
    mix.total_ += weight;
  }
  if (mix.total_ == 0) return make_error("--mix: at least one scenario needs a weight above 0");
  return mix;
}

ScenarioMix ScenarioMix::defaults() {
  ScenarioMix mix;
  for (const ScenarioKind& kind : scenario_kinds()) {
    if (kind.default_weight == 0) continue;
    mix.entries_.push_back({kind.make(), kind.default_weight});
    mix.total_ += kind.default_weight;
  }
  return mix;
}

const Scenario& ScenarioMix::pick(Rng& rng) const {
  std::uint64_t r = rng.below(total_);
  for (const Entry& entry : entries_) {
    if (r < entry.weight) return *entry.scenario;
    r -= entry.weight;
  }
  throw std::logic_error("ScenarioMix::pick: weights do not add up");
}

std::string ScenarioMix::describe() const {
  std::string out;
  for (const Entry& entry : entries_) {
    if (!out.empty()) out += ',';
    out += fmt::format("{}={}", entry.scenario->name(), entry.weight);
  }
  return out;
}

}  // namespace tcpr::gen
