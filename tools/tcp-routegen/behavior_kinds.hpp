// behavior_kinds.hpp — the anomalies of behaviour mode, as drivers the generator runs step by step.
//
// A driver owns one anomalous agent's anomaly. Its first step is due at the agent's onset; each
// step builds one conversation (a probe, an upload, a tool call, ...) that starts when the step
// is due, hands it to the Placer, and says when the next step is due. The first conversation's
// first packet is the onset the agents file reports: it must fit in the capture, so if the full
// form would end after the capture, the driver builds its brief form instead (every kind has one
// well under the 0.5 s that --onset leaves at the least).
//
// Kinds (README.md, "Behaviour mode", gives rates and sizes):
//   scenario_probe.cpp  port_scan, syn_flood, lateral, beacon
//   scenario_abuse.cpp  exfil_burst, tool_storm, secret_leak, prompt_flood
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>

#include <nlohmann/json.hpp>

#include "behavior_schedule.hpp"
#include "conversation.hpp"
#include "rng.hpp"
#include "topology.hpp"

namespace tcpr::gen {

// Where built conversations go: the generator's merge.
class Placer {
 public:
  virtual ~Placer() = default;
  virtual std::uint64_t duration_us() const noexcept = 0;
  bool fits(std::uint64_t start_us, const Conversation& conv) const noexcept {
    return start_us + conv.last_ts_us() < duration_us();
  }
  // Writes `conv` with its time 0 at `start_us` unless it would end after the capture (then it is
  // dropped: the agent did not start it); says which.
  virtual bool place(std::unique_ptr<Conversation> conv, std::uint64_t start_us) = 0;
};

struct AnomalySetup {
  const Topology& topology;
  PortAllocator& ports;
  std::uint32_t agent = 0;  // index into topology.agents()
  std::uint64_t onset_us = 0;
  std::uint64_t seed = 0;
};

class AnomalyDriver {
 public:
  virtual ~AnomalyDriver() = default;
  // Runs the step due at `now_us`; returns when the next one is due (nothing: the anomaly ends).
  virtual std::optional<std::uint64_t> step(Placer& out, std::uint64_t now_us) = 0;
  // What this agent's anomaly looks like (targets, rates), for the agents file.
  virtual nlohmann::ordered_json params() const = 0;
};

// The step loop shared by every kind; a kind says what step k builds and when step k+1 is due.
class AnomalyBase : public AnomalyDriver {
 public:
  std::optional<std::uint64_t> step(Placer& out, std::uint64_t now_us) final {
    Rng rng(derive_seed(seed_, step_ + 1));
    auto conv = build(step_, rng, false);
    if (step_ == 0 && !out.fits(now_us, *conv)) {
      Rng brief_rng(derive_seed(seed_, 0));
      conv = build(step_, brief_rng, true);
    }
    const std::uint64_t length = conv->last_ts_us();
    const bool kept = out.place(std::move(conv), now_us);
    if (step_ == 0 && !kept) throw std::logic_error("an anomaly's first conversation does not fit");
    std::optional<std::uint64_t> next = next_due(step_, now_us, length, rng);
    ++step_;
    if (next && *next < now_us) next = now_us;
    if (next && *next >= out.duration_us()) next.reset();
    return next;
  }

 protected:
  explicit AnomalyBase(const AnomalySetup& setup)
      : topology_(setup.topology),
        ports_(setup.ports),
        agent_index_(setup.agent),
        agent_(setup.topology.agents()[setup.agent]),
        onset_us_(setup.onset_us),
        seed_(setup.seed) {}

  // Step k's conversation (its time 0 is when the step is due); `brief`: its shortest form.
  virtual std::unique_ptr<Conversation> build(std::uint64_t k, Rng& rng, bool brief) = 0;
  // When step k+1 is due, step k having started at `start_us` and lasted `length_us`.
  virtual std::optional<std::uint64_t> next_due(std::uint64_t k, std::uint64_t start_us,
                                                std::uint64_t length_us, Rng& rng) = 0;

  // A conversation from this agent to `peer`:`port` from `client_port`; `rtt_us` 0: the peer's
  // round trip, jittered per connection as the plain generator does.
  std::unique_ptr<Conversation> open(const Host& peer, std::uint16_t port,
                                     std::uint16_t client_port, Rng& rng, std::string_view kind,
                                     std::uint32_t rtt_us = 0) const {
    if (rtt_us == 0) {
      rtt_us = static_cast<std::uint32_t>(peer.base_rtt_us * rng.between(90, 125) / 100);
    }
    const Endpoint client{agent_.ip, client_port, agent_.mac, agent_.ttl, agent_.name};
    const Endpoint server{peer.ip, port, peer.mac, peer.ttl, peer.name};
    auto conv = std::make_unique<Conversation>(client, server, rtt_us, true, rng);
    conv->label().scenario = std::string(kind);
    return conv;
  }
  std::unique_ptr<Conversation> open(const Host& peer, std::uint16_t port, Rng& rng,
                                     std::string_view kind) const {
    return open(peer, port, ports_.next(agent_index_), rng, kind);
  }
  // Step k of a regular pace of `per_second` steps a second from the onset, each but the first
  // jittered by less than half a period.
  std::uint64_t paced(std::uint64_t k, std::uint64_t per_second) const {
    const std::uint64_t period = 1'000'000 / per_second;
    const std::uint64_t jitter = k == 0 ? 0 : derive_seed(seed_ ^ 0x5eed, k) % (period / 2 + 1);
    return onset_us_ + k * 1'000'000 / per_second + jitter;
  }
  const Host& pick_server(Rng& rng) const {
    return rng.pick(std::span<const Host>(topology_.servers()));
  }

  const Topology& topology_;
  PortAllocator& ports_;
  std::uint32_t agent_index_;
  const Host& agent_;
  std::uint64_t onset_us_;
  std::uint64_t seed_;

 private:
  std::uint64_t step_ = 0;
};

std::unique_ptr<AnomalyDriver> port_scan_driver(const AnomalySetup& setup);     // scenario_probe
std::unique_ptr<AnomalyDriver> syn_flood_driver(const AnomalySetup& setup);     // scenario_probe
std::unique_ptr<AnomalyDriver> lateral_driver(const AnomalySetup& setup);       // scenario_probe
std::unique_ptr<AnomalyDriver> beacon_driver(const AnomalySetup& setup);        // scenario_probe
std::unique_ptr<AnomalyDriver> exfil_burst_driver(const AnomalySetup& setup);   // scenario_abuse
std::unique_ptr<AnomalyDriver> tool_storm_driver(const AnomalySetup& setup);    // scenario_abuse
std::unique_ptr<AnomalyDriver> secret_leak_driver(const AnomalySetup& setup);   // scenario_abuse
std::unique_ptr<AnomalyDriver> prompt_flood_driver(const AnomalySetup& setup);  // scenario_abuse

std::unique_ptr<AnomalyDriver> make_anomaly(AnomalyKind kind, const AnomalySetup& setup);

}  // namespace tcpr::gen
