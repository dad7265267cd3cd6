#include "tcpr/enforce/zone_guard.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "tcpr/behavior/agent.hpp"
#include "zone_guard.skel.h"

namespace tcpr::enforce {

namespace {

constexpr long kBpfFsMagic = 0xcafe4a11;
constexpr const char* kProgPin = "zone_guard";

std::string errstr(int err) { return std::strerror(err < 0 ? -err : err); }

// bpffs on /sys/fs/bpf (mounted when absent), then the pin directory inside it.
Result<bool> prepare_dir(const std::string& dir) {
  struct statfs fs{};
  if (statfs("/sys/fs/bpf", &fs) != 0 || fs.f_type != kBpfFsMagic) {
    if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") != 0)
      return Error{fmt::format("cannot mount bpffs on /sys/fs/bpf: {} (needs root)", std::strerror(errno))};
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{fmt::format("cannot create {}: {}", dir, ec.message())};
  if (statfs(dir.c_str(), &fs) != 0 || fs.f_type != kBpfFsMagic)
    return Error{fmt::format("{} is not on a bpffs mount", dir)};
  return true;
}

std::uint32_t xdp_flags(AttachMode mode) {
  return mode == AttachMode::kNative ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

Result<int> ifindex_of(const std::string& iface) {
  const unsigned idx = if_nametoindex(iface.c_str());
  if (idx == 0) return Error{fmt::format("no interface named '{}'", iface)};
  return static_cast<int>(idx);
}

tcpr_addr to_key(const packet::IpAddr& a) {
  tcpr_addr k{};
  std::memcpy(k.b, a.b, 16);
  return k;
}

}  // namespace

std::vector<std::uint64_t> remedy4_words(const std::vector<std::pair<packet::IpAddr, std::uint8_t>>& prefixes) {
  std::vector<std::uint64_t> words(TCPR_XDP_REMEDY4_WORDS, 0);
  const std::uint8_t zero4[4] = {};
  const packet::IpAddr mapped_base = packet::IpAddr::from_v4(zero4);   // ::ffff:0.0.0.0
  for (const auto& [addr, bits] : prefixes) {
    // Only a prefix that covers the mapped space ::ffff:0:0/96 or lies in it marks /24s: its
    // first min(bits, 96) bits are those of the mapped space.
    if (!behavior::prefix_of(addr, std::min<unsigned>(bits, 96)).contains(mapped_base)) continue;
    // The /24s it covers (or the one it lies in): [first, first + count).
    const unsigned v4_bits = bits > 96 ? bits - 96u : 0u;
    const std::uint32_t a = static_cast<std::uint32_t>(addr.b[12]) << 24 | static_cast<std::uint32_t>(addr.b[13]) << 16 |
                            static_cast<std::uint32_t>(addr.b[14]) << 8 | addr.b[15];
    const unsigned span = v4_bits >= 24 ? 0 : 24 - v4_bits;   // log2 of the /24s covered
    const std::uint32_t first = (a >> 8) & ~((1u << span) - 1) & 0xffffffu;
    const std::uint32_t count = 1u << span;
    // Word and bit by the ABI's own functions, of the /24's first address.
    if (count >= 64) {
      std::fill(words.begin() + tcpr_remedy4_word(first << 8), words.begin() + tcpr_remedy4_word((first + count - 1) << 8) + 1,
                ~0ull);
    } else {
      for (std::uint32_t i = first; i < first + count; ++i) words[tcpr_remedy4_word(i << 8)] |= 1ull << tcpr_remedy4_bit(i << 8);
    }
  }
  return words;
}

struct ZoneGuard::Skel {
  zone_guard* obj = nullptr;
};

Result<std::unique_ptr<ZoneGuard>> ZoneGuard::open(const GuardConfig& cfg) {
  if (auto r = prepare_dir(cfg.bpffs); !r) return Error{r.error()};
  // tcpr_index replaced the counting filter of earlier builds; its pin would only linger.
  ::unlink((cfg.bpffs + "/tcpr_filter").c_str());
  libbpf_set_print([](enum libbpf_print_level level, const char* fmt, va_list args) -> int {
    return level == LIBBPF_WARN ? std::vfprintf(stderr, fmt, args) : 0;
  });
  LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = cfg.bpffs.c_str());
  std::unique_ptr<ZoneGuard> g(new ZoneGuard());
  g->dir_ = cfg.bpffs;
  g->skel_ = new Skel;
  g->skel_->obj = zone_guard__open_opts(&opts);
  if (g->skel_->obj == nullptr) return Error{fmt::format("cannot open the zone guard: {}", errstr(errno))};
  if (const int err = zone_guard__load(g->skel_->obj); err != 0)
    return Error{fmt::format("cannot load the zone guard into the kernel: {} (root and BPF needed; a map "
                             "pinned in {} by an incompatible build is refused: remove it)",
                             errstr(err), cfg.bpffs)};
  // The program, pinned for tcp-routectl: a newer load replaces the pin; interfaces keep the
  // program they run, which shares these maps.
  const std::string pin = cfg.bpffs + "/" + kProgPin;
  ::unlink(pin.c_str());
  if (const int err = bpf_program__pin(g->skel_->obj->progs.tcpr_zone_guard, pin.c_str()); err != 0)
    return Error{fmt::format("cannot pin the zone guard at {}: {}", pin, errstr(err))};
  g->default_zone_ = cfg.default_zone;
  if (auto r = g->load_mirror(); !r) return Error{r.error()};
  if (auto r = g->write_policy(cfg); !r) return Error{r.error()};
  return g;
}

// tcpr_agents as pinned (a restart finds the last run's entries), and tcpr_index made to show it:
// what the slots hold is read back (a run that died between its two writes left them behind
// tcpr_agents, never ahead of it) and every slot that differs is written by the rules.
Result<bool> ZoneGuard::load_mirror() {
  const int fd = agents_fd();
  tcpr_addr key{}, prev{};
  bool first = true;
  while (bpf_map_get_next_key(fd, first ? nullptr : &prev, &key) == 0) {
    first = false;
    prev = key;
    tcpr_agent_value v{};
    if (bpf_map_lookup_elem(fd, &key, &v) != 0) continue;
    const std::string k(reinterpret_cast<const char*>(key.b), sizeof key.b);
    mirror_[k] = v;
    members_[tcpr_index_slot_of(key.b)].push_back(k);
  }
  written_.assign(TCPR_XDP_INDEX_SLOTS, tcpr_index_slot{});
  std::vector<std::uint32_t> keys(TCPR_XDP_INDEX_SLOTS);
  std::uint32_t out_batch = 0, count = TCPR_XDP_INDEX_SLOTS;
  LIBBPF_OPTS(bpf_map_batch_opts, bo);
  const int ix = bpf_map__fd(skel_->obj->maps.tcpr_index);
  // An array's batch lookup returns every slot in one call (ENOENT: "and that was the last").
  if (bpf_map_lookup_batch(ix, nullptr, &out_batch, keys.data(), written_.data(), &count, &bo) != 0 && errno != ENOENT)
    return Error{fmt::format("cannot read tcpr_index: {}", std::strerror(errno))};
  std::vector<std::uint32_t> differ;
  for (std::uint32_t s = 0; s < TCPR_XDP_INDEX_SLOTS; ++s) {
    const tcpr_index_slot want = desired_slot(s);
    if (want.state != written_[s].state || want.other_zone != written_[s].other_zone ||
        (want.state == TCPR_INDEX_SINGLE && std::memcmp(&want, &written_[s], sizeof want) != 0))
      differ.push_back(s);
  }
  return sync_slots(differ);
}

tcpr_index_slot ZoneGuard::desired_slot(std::uint32_t slot) const {
  tcpr_index_slot v = written_[slot];
  const auto it = members_.find(slot);
  const std::size_t n = it == members_.end() ? 0 : it->second.size();
  v.state = n == 0 ? TCPR_INDEX_EMPTY : n == 1 ? TCPR_INDEX_SINGLE : TCPR_INDEX_SHARED;
  v.other_zone = default_zone_;
  if (n == 1) {
    std::memcpy(v.addr, it->second.front().data(), 16);
    v.zone = mirror_.at(it->second.front()).zone;
  }
  return v;
}

// Each slot goes from what it holds to what it should hold in at most three writes (the rules in
// include/tcpr/abi/xdp.h): out of SINGLE by its state byte; the new address while the state is not
// SINGLE; into SINGLE by its state byte. Step k of every slot goes in batch k.
Result<bool> ZoneGuard::sync_slots(const std::vector<std::uint32_t>& slots) {
  std::vector<std::uint32_t> keys[3];
  std::vector<tcpr_index_slot> values[3];
  auto emit = [&](unsigned step, std::uint32_t slot, const tcpr_index_slot& v) {
    keys[step].push_back(slot);
    values[step].push_back(v);
  };
  for (const std::uint32_t s : slots) {
    const tcpr_index_slot want = desired_slot(s);
    tcpr_index_slot v = written_[s];
    const bool other_moves = v.other_zone != want.other_zone;   // a single byte: any write may carry it
    v.other_zone = want.other_zone;
    if (want.state != TCPR_INDEX_SINGLE) {
      if (v.state != want.state || other_moves) v.state = want.state, emit(0, s, v);
    } else if (v.state == TCPR_INDEX_SINGLE && std::memcmp(v.addr, want.addr, 16) == 0) {
      if (v.zone != want.zone || other_moves) v.zone = want.zone, emit(0, s, v);
    } else {
      if (v.state == TCPR_INDEX_SINGLE) v.state = TCPR_INDEX_SHARED, emit(0, s, v);
      std::memcpy(v.addr, want.addr, 16);
      v.zone = want.zone;
      emit(1, s, v);
      v.state = TCPR_INDEX_SINGLE;
      emit(2, s, v);
    }
    written_[s] = v;
  }
  const int fd = bpf_map__fd(skel_->obj->maps.tcpr_index);
  for (unsigned step = 0; step < 3; ++step) {
    if (keys[step].empty()) continue;
    auto count = static_cast<std::uint32_t>(keys[step].size());
    LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);
    if (bpf_map_update_batch(fd, keys[step].data(), values[step].data(), &count, &bo) != 0)
      return Error{fmt::format("cannot write tcpr_index: {}", std::strerror(errno))};
  }
  return true;
}

ZoneGuard::~ZoneGuard() {
  if (skel_ != nullptr) {
    zone_guard__destroy(skel_->obj);   // closes fds: pinned maps, the pinned program, XDP attachments stay
    delete skel_;
  }
}

int ZoneGuard::prog_fd() const noexcept { return bpf_program__fd(skel_->obj->progs.tcpr_zone_guard); }
int ZoneGuard::agents_fd() const noexcept { return bpf_map__fd(skel_->obj->maps.tcpr_agents); }
int ZoneGuard::counters_fd() const noexcept { return bpf_map__fd(skel_->obj->maps.tcpr_counters); }

Result<bool> ZoneGuard::attach(const std::string& iface, AttachMode mode) {
  auto idx = ifindex_of(iface);
  if (!idx) return Error{idx.error()};
  if (const int err = bpf_xdp_attach(idx.value(), prog_fd(), xdp_flags(mode), nullptr); err != 0)
    return Error{fmt::format("cannot attach the zone guard to {} ({}): {}", iface,
                             mode == AttachMode::kNative ? "native" : "generic", errstr(err))};
  attached_.push_back(iface);
  return true;
}

void ZoneGuard::detach_all() noexcept {
  for (const auto& i : attached_) (void)detach_iface(i);
  attached_.clear();
}

Result<bool> ZoneGuard::write_policy(const GuardConfig& cfg) {
  const std::uint32_t zero = 0;
  tcpr_settings st{};
  st.default_zone = cfg.default_zone;
  st.sample_monitored = cfg.sample_monitored ? 1 : 0;
  st.allow_dhcp = cfg.allow_dhcp ? 1 : 0;
  st.epoch = ++epoch_;
  if (bpf_map_update_elem(bpf_map__fd(skel_->obj->maps.tcpr_settings), &zero, &st, BPF_ANY) != 0)
    return Error{fmt::format("cannot write tcpr_settings: {}", std::strerror(errno))};
  // The guard reads the default zone from the index slots.
  default_zone_ = cfg.default_zone;
  std::vector<std::uint32_t> moved;
  for (std::uint32_t s = 0; s < written_.size(); ++s)
    if (written_[s].other_zone != default_zone_) moved.push_back(s);
  if (auto r = sync_slots(moved); !r) return r;
  // Replace the remediation trie and the services: delete what is there, write the config.
  const int rem = bpf_map__fd(skel_->obj->maps.tcpr_remediation);
  tcpr_lpm_key lk{}, next{};
  while (bpf_map_get_next_key(rem, nullptr, &next) == 0) bpf_map_delete_elem(rem, &next);
  const std::uint8_t one = 1;
  for (const auto& [addr, bits] : cfg.remediation) {
    lk.prefixlen = bits;
    std::memcpy(lk.addr, addr.b, 16);
    if (bpf_map_update_elem(rem, &lk, &one, BPF_ANY) != 0)
      return Error{fmt::format("cannot write tcpr_remediation: {}", std::strerror(errno))};
  }
  // Then the trie's IPv4 summary, the words that differ from what it holds (the pinned map's
  // words read back the first time). A bit set late or cleared early only drops a frame.
  const int r4 = bpf_map__fd(skel_->obj->maps.tcpr_remedy4);
  if (remedy4_.empty()) {
    remedy4_.assign(TCPR_XDP_REMEDY4_WORDS, 0);
    std::vector<std::uint32_t> keys(TCPR_XDP_REMEDY4_WORDS);
    std::uint32_t out_batch = 0, count = TCPR_XDP_REMEDY4_WORDS;
    LIBBPF_OPTS(bpf_map_batch_opts, bo);
    if (bpf_map_lookup_batch(r4, nullptr, &out_batch, keys.data(), remedy4_.data(), &count, &bo) != 0 && errno != ENOENT)
      return Error{fmt::format("cannot read tcpr_remedy4: {}", std::strerror(errno))};
  }
  const std::vector<std::uint64_t> want = remedy4_words(cfg.remediation);
  std::vector<std::uint32_t> keys;
  std::vector<std::uint64_t> values;
  for (std::uint32_t w = 0; w < TCPR_XDP_REMEDY4_WORDS; ++w)
    if (want[w] != remedy4_[w]) keys.push_back(w), values.push_back(want[w]);
  if (!keys.empty()) {
    auto count = static_cast<std::uint32_t>(keys.size());
    LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);
    if (bpf_map_update_batch(r4, keys.data(), values.data(), &count, &bo) != 0)
      return Error{fmt::format("cannot write tcpr_remedy4: {}", std::strerror(errno))};
  }
  remedy4_ = want;
  const int svc = bpf_map__fd(skel_->obj->maps.tcpr_services);
  tcpr_addr sk{};
  while (bpf_map_get_next_key(svc, nullptr, &sk) == 0) bpf_map_delete_elem(svc, &sk);
  for (const auto& a : cfg.services) {
    sk = to_key(a);
    if (bpf_map_update_elem(svc, &sk, &one, BPF_ANY) != 0)
      return Error{fmt::format("cannot write tcpr_services: {}", std::strerror(errno))};
  }
  return true;
}

// tcpr_agents first, then the index slots, then deletions from tcpr_agents: a slot never shows
// an entry that is not in the hash map.
Result<bool> ZoneGuard::apply(const std::vector<AgentEntry>& set, const std::vector<packet::IpAddr>& removed) {
  const int fd = agents_fd();
  ++epoch_;
  std::vector<std::uint32_t> touched;
  if (!set.empty()) {
    std::vector<tcpr_addr> keys;
    std::vector<tcpr_agent_value> values;
    keys.reserve(set.size());
    values.reserve(set.size());
    for (const auto& e : set) {
      keys.push_back(to_key(e.addr));
      values.push_back({e.zone, e.flags, 0, epoch_});
    }
    auto count = static_cast<std::uint32_t>(keys.size());
    LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);
    if (bpf_map_update_batch(fd, keys.data(), values.data(), &count, &bo) != 0)
      return Error{fmt::format("cannot write tcpr_agents ({} of {} written): {}", count, keys.size(), std::strerror(errno))};
    for (std::size_t i = 0; i < set.size(); ++i) {
      const std::string k = key_of(set[i].addr);
      const std::uint32_t slot = tcpr_index_slot_of(set[i].addr.b);
      // A new address (once, if it comes twice: two workers' local decisions) joins its slot.
      if (mirror_.insert_or_assign(k, values[i]).second) members_[slot].push_back(k);
      touched.push_back(slot);
    }
  }
  std::vector<tcpr_addr> gone;
  for (const auto& a : removed) {
    const std::string k = key_of(a);
    if (mirror_.erase(k) == 0) continue;
    const std::uint32_t slot = tcpr_index_slot_of(a.b);
    auto& m = members_[slot];
    m.erase(std::find(m.begin(), m.end(), k));
    if (m.empty()) members_.erase(slot);
    touched.push_back(slot);
    gone.push_back(to_key(a));
  }
  if (auto r = sync_slots(touched); !r) return r;
  for (const auto& key : gone)
    if (bpf_map_delete_elem(fd, &key) != 0 && errno != ENOENT)
      return Error{fmt::format("cannot delete from tcpr_agents: {}", std::strerror(errno))};
  return true;
}

Result<ReconcileStats> ZoneGuard::reconcile(const std::vector<AgentEntry>& all) {
  std::unordered_map<std::string, const AgentEntry*> want;
  for (const auto& e : all) want[key_of(e.addr)] = &e;
  ReconcileStats stats;
  std::vector<AgentEntry> write;
  std::vector<packet::IpAddr> stale;
  for (const auto& [k, v] : mirror_) {
    const auto it = want.find(k);
    if (it == want.end()) {
      packet::IpAddr a;
      std::memcpy(a.b, k.data(), 16);
      stale.push_back(a);
    } else if (v.zone == it->second->zone && v.flags == it->second->flags) {
      ++stats.kept;
    } else {
      write.push_back(*it->second);
    }
  }
  for (const auto& [k, e] : want)
    if (!mirror_.count(k)) write.push_back(*e);
  if (auto r = apply(write, stale); !r) return Error{r.error()};
  stats.written = write.size();
  stats.removed = stale.size();
  return stats;
}

Result<bool> attach_pinned(const std::string& bpffs, const std::string& iface, AttachMode mode) {
  auto idx = ifindex_of(iface);
  if (!idx) return Error{idx.error()};
  const std::string pin = bpffs + "/" + kProgPin;
  const int fd = bpf_obj_get(pin.c_str());
  if (fd < 0)
    return Error{fmt::format("no zone guard pinned at {}: {} (tcp-routed with [enforce] loads it)", pin, std::strerror(errno))};
  const int err = bpf_xdp_attach(idx.value(), fd, xdp_flags(mode), nullptr);
  ::close(fd);
  if (err != 0)
    return Error{fmt::format("cannot attach the zone guard to {} ({}): {}", iface,
                             mode == AttachMode::kNative ? "native" : "generic", errstr(err))};
  return true;
}

Result<bool> detach_iface(const std::string& iface) {
  auto idx = ifindex_of(iface);
  if (!idx) return Error{idx.error()};
  LIBBPF_OPTS(bpf_xdp_query_opts, q);
  if (bpf_xdp_query(idx.value(), 0, &q) != 0 || q.attach_mode == XDP_ATTACHED_NONE)
    return Error{fmt::format("{} has no XDP program attached", iface)};
  const std::uint32_t flags = q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
  if (const int err = bpf_xdp_detach(idx.value(), flags, nullptr); err != 0)
    return Error{fmt::format("cannot detach XDP from {}: {}", iface, errstr(err))};
  return true;
}

Result<std::vector<AttachInfo>> guarded_interfaces(const std::string& bpffs) {
  const std::string pin = bpffs + "/" + kProgPin;
  const int fd = bpf_obj_get(pin.c_str());
  if (fd < 0) return Error{fmt::format("no zone guard pinned at {}: {}", pin, std::strerror(errno))};
  bpf_prog_info info{};
  std::uint32_t len = sizeof info;
  const int err = bpf_obj_get_info_by_fd(fd, &info, &len);
  ::close(fd);
  if (err != 0) return Error{fmt::format("cannot read the pinned guard: {}", errstr(err))};
  // Every interface whose XDP program has the guard's name: the pinned one, or an earlier load
  // of it (a restart re-pins; interfaces keep the program they were given).
  std::vector<AttachInfo> out;
  struct if_nameindex* names = if_nameindex();
  if (names == nullptr) return out;
  for (struct if_nameindex* n = names; n->if_index != 0; ++n) {
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (bpf_xdp_query(static_cast<int>(n->if_index), 0, &q) != 0 || q.attach_mode == XDP_ATTACHED_NONE) continue;
    const std::uint32_t id = q.attach_mode == XDP_ATTACHED_SKB ? q.skb_prog_id : q.drv_prog_id ? q.drv_prog_id : q.prog_id;
    const int pfd = bpf_prog_get_fd_by_id(id);
    if (pfd < 0) continue;
    bpf_prog_info pi{};
    std::uint32_t pl = sizeof pi;
    const bool named = bpf_obj_get_info_by_fd(pfd, &pi, &pl) == 0 && std::strcmp(pi.name, info.name) == 0;
    ::close(pfd);
    if (!named) continue;
    out.push_back({n->if_name, id,
                   q.attach_mode == XDP_ATTACHED_SKB ? "generic" : q.attach_mode == XDP_ATTACHED_HW ? "offload" : "native"});
  }
  if_freenameindex(names);
  return out;
}

Result<std::vector<std::uint64_t>> read_counters(int fd) {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return Error{"cannot count the CPUs"};
  std::vector<std::uint64_t> sum(TCPR_XDP_COUNTERS, 0), per(static_cast<std::size_t>(cpus));
  for (std::uint32_t i = 0; i < TCPR_XDP_COUNTERS; ++i) {
    if (bpf_map_lookup_elem(fd, &i, per.data()) != 0)
      return Error{fmt::format("cannot read tcpr_counters: {}", std::strerror(errno))};
    for (auto v : per) sum[i] += v;
  }
  return sum;
}

Result<std::vector<std::uint64_t>> read_pinned_counters(const std::string& bpffs) {
  const std::string pin = bpffs + "/tcpr_counters";
  const int fd = bpf_obj_get(pin.c_str());
  if (fd < 0) return Error{fmt::format("no counters pinned at {}: {}", pin, std::strerror(errno))};
  auto r = read_counters(fd);
  ::close(fd);
  return r;
}

}  // namespace tcpr::enforce
