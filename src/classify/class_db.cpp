#include "tcpr/classify/class_db.hpp"

#include <fmt/format.h>
#include <hs/hs.h>
#include <xxhash.h>

#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace tcpr::classify {

namespace {

constexpr std::string_view kPlaceNames[] = {"c2s", "s2c", "sni", "host", "path", "method", "jsonrpc_method",
                                            "content_type", "response_content_type", "h2_content_type", "h2_path",
                                            "dns_name"};
static_assert(std::size(kPlaceNames) == static_cast<std::size_t>(Place::kCount));

struct LoadError {
  std::string message;
};

struct Pattern {
  std::string regex;
  unsigned flags;
  unsigned rule;
};

std::string where(const std::string& src, const toml::node& n) {
  return fmt::format("{}:{}:{}", src, n.source().begin.line, n.source().begin.column);
}

[[noreturn]] void fail(const std::string& src, const toml::node& n, const std::string& what) {
  throw LoadError{fmt::format("{}: {}", where(src, n), what)};
}

void check_keys(const std::string& src, const toml::table& t, std::initializer_list<std::string_view> allowed,
                const std::string& owner) {
  for (const auto& [k, v] : t) {
    bool ok = false;
    for (auto a : allowed) ok = ok || k.str() == a;
    if (!ok) fail(src, v, fmt::format("{}: unknown key '{}'", owner, k.str()));
  }
}

std::vector<std::string> string_list(const std::string& src, const toml::node& n, const std::string& what) {
  std::vector<std::string> out;
  if (const auto* s = n.as_string()) {
    out.push_back(s->get());
    return out;
  }
  const auto* a = n.as_array();
  if (a == nullptr) fail(src, n, what + " must be a string or an array of strings");
  for (const auto& e : *a) {
    const auto* s = e.as_string();
    if (s == nullptr) fail(src, e, what + " must contain only strings");
    out.push_back(s->get());
  }
  return out;
}

unsigned parse_flags(const std::string& src, const toml::node& n, const std::string& owner) {
  const auto* s = n.as_string();
  if (s == nullptr) fail(src, n, owner + ": flags must be a string of i, s, m");
  unsigned f = 0;
  for (char c : s->get()) {
    if (c == 'i') f |= HS_FLAG_CASELESS;
    else if (c == 's') f |= HS_FLAG_DOTALL;
    else if (c == 'm') f |= HS_FLAG_MULTILINE;
    else fail(src, n, fmt::format("{}: unknown flag '{}' (use i, s, m)", owner, c));
  }
  return f;
}

hs_database_t* compile(const std::vector<Pattern>& pats, unsigned mode, const std::vector<std::string>& owners,
                       const std::string& src) {
  if (pats.empty()) return nullptr;
  std::vector<const char*> exprs;
  std::vector<unsigned> flags, ids;
  for (const auto& p : pats) {
    exprs.push_back(p.regex.c_str());
    flags.push_back(p.flags);
    ids.push_back(p.rule);
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()), mode, nullptr,
                       &db, &err) != HS_SUCCESS) {
    const int bad = err->expression;
    std::string msg = bad >= 0 ? fmt::format("{}: pattern '{}' rejected by Hyperscan: {}", owners[pats[bad].rule],
                                             pats[bad].regex, err->message)
                               : fmt::format("{}: Hyperscan: {}", src, err->message);
    hs_free_compile_error(err);
    throw LoadError{msg};
  }
  return db;
}

}  // namespace

std::string_view place_name(Place p) noexcept {
  const auto i = static_cast<std::size_t>(p);
  return i < std::size(kPlaceNames) ? kPlaceNames[i] : "invalid";
}

std::string escape_regex(std::string_view literal) {
  std::string out;
  for (unsigned char c : literal) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == ' ' || c == '/' || c == ':' || c == '=' || c == '"' ||
        c == '@' || c == ',') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

std::string glob_to_regex(std::string_view glob) {
  std::string out = "^";
  for (char c : glob) {
    if (c == '*') out += ".*";
    else if (c == '?') out += ".";
    else out += escape_regex(std::string_view(&c, 1));
  }
  return out + "$";
}

ClassDb::~ClassDb() {
  for (auto* d : dbs_) hs_free_database(d);
  hs_free_scratch(scratch_);
}

int ClassDb::class_id(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < classes_.size(); ++i) {
    if (classes_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int ClassDb::tag_id(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < tags_.size(); ++i) {
    if (tags_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

Result<std::shared_ptr<const ClassDb>> ClassDb::parse(std::string_view text, const std::string& src) {
  std::shared_ptr<ClassDb> db(new ClassDb());
  db->classes_.push_back({"unknown", 0});
  db->revision = fmt::format("{:016x}", XXH3_64bits(text.data(), text.size()));
  std::vector<Pattern> by_place[static_cast<std::size_t>(Place::kCount)];
  std::vector<std::string> owners;  // rule id -> "FILE:LINE:COL: class NAME"
  try {
    const toml::table doc = toml::parse(text, src);
    check_keys(src, doc, {"class", "tag"}, src);
    for (const char* section : {"class", "tag"}) {
      const bool is_tag = section[0] == 't';
      const toml::node* arr = doc.get(section);
      if (arr == nullptr) continue;
      if (!arr->is_array_of_tables()) fail(src, *arr, fmt::format("'{}' must be written [[{}]]", section, section));
      for (const auto& entry : *arr->as_array()) {
        const toml::table& t = *entry.as_table();
        const auto* name_node = t.get("name");
        if (name_node == nullptr || !name_node->is_string()) fail(src, t, fmt::format("a [[{}]] needs a name", section));
        const std::string name = name_node->as_string()->get();
        const std::string owner = fmt::format("{} '{}'", section, name);
        check_keys(src, t, is_tag ? std::initializer_list<std::string_view>{"name", "rule"}
                                  : std::initializer_list<std::string_view>{"name", "priority", "method", "rule"}, owner);
        std::uint8_t id;
        if (is_tag) {
          if (db->tag_id(name) >= 0) fail(src, t, fmt::format("duplicate {}", owner));
          if (db->tags_.size() >= kMaxTags) fail(src, t, fmt::format("{}: at most {} tags", owner, kMaxTags));
          id = static_cast<std::uint8_t>(db->tags_.size());
          db->tags_.push_back(name);
        } else {
          if (db->class_id(name) >= 0) fail(src, t, fmt::format("duplicate {}", owner));
          if (db->classes_.size() >= 255) fail(src, t, fmt::format("{}: at most 254 classes", owner));
          int prio = 0;
          if (const auto* p = t.get("priority")) {
            if (!p->is_integer() || p->as_integer()->get() < 0 || p->as_integer()->get() > 1000)
              fail(src, *p, fmt::format("{}: priority must be an integer in [0, 1000]", owner));
            prio = static_cast<int>(p->as_integer()->get());
          }
          bool rpc = false;
          if (const auto* m = t.get("method")) {
            if (!m->is_string() || (m->as_string()->get() != "jsonrpc" && m->as_string()->get() != "http"))
              fail(src, *m, fmt::format("{}: method must be \"jsonrpc\" or \"http\"", owner));
            rpc = m->as_string()->get() == "jsonrpc";
          }
          id = static_cast<std::uint8_t>(db->classes_.size());
          db->classes_.push_back({name, prio, rpc});
        }
        const toml::node* rules = t.get("rule");
        if (rules == nullptr || !rules->is_array_of_tables() || rules->as_array()->empty())
          fail(src, t, fmt::format("{}: needs at least one [[{}.rule]]", owner, section));
        for (const auto& re : *rules->as_array()) {
          const toml::table& r = *re.as_table();
          check_keys(src, r, {"on", "regex", "literal", "glob", "flags", "ports", "kind", "credential"}, owner);
          RuleInfo info;
          info.is_tag = is_tag;
          info.id = id;
          const auto* on = r.get("on");
          if (on == nullptr || !on->is_string()) fail(src, r, fmt::format("{}: a rule needs on = \"c2s\", \"sni\", ...", owner));
          bool found = false;
          for (std::size_t p = 0; p < std::size(kPlaceNames); ++p) {
            if (on->as_string()->get() == kPlaceNames[p]) info.place = static_cast<Place>(p), found = true;
          }
          if (!found) fail(src, *on, fmt::format("{}: unknown place '{}'", owner, on->as_string()->get()));
          unsigned flags = HS_FLAG_SINGLEMATCH;
          if (const auto* f = r.get("flags")) flags |= parse_flags(src, *f, owner);
          if (const auto* ports = r.get("ports")) {
            const auto* a = ports->as_array();
            if (a == nullptr) fail(src, *ports, fmt::format("{}: ports must be an array of integers", owner));
            for (const auto& pe : *a) {
              if (!pe.is_integer() || pe.as_integer()->get() < 1 || pe.as_integer()->get() > 65535)
                fail(src, pe, fmt::format("{}: a port must be an integer in [1, 65535]", owner));
              info.ports.push_back(static_cast<std::uint16_t>(pe.as_integer()->get()));
            }
          }
          if (const auto* k = r.get("kind")) {
            if (!is_tag || !k->is_string()) fail(src, *k, fmt::format("{}: kind is a string, for tag rules", owner));
            const std::string kind = k->as_string()->get();
            std::size_t ki = 0;
            while (ki < db->kinds_.size() && db->kinds_[ki] != kind) ++ki;
            if (ki == db->kinds_.size()) db->kinds_.push_back(kind);
            info.kind = static_cast<std::uint8_t>(ki);
          } else if (is_tag) {
            std::size_t ki = 0;
            while (ki < db->kinds_.size() && db->kinds_[ki] != name) ++ki;
            if (ki == db->kinds_.size()) db->kinds_.push_back(name);
            info.kind = static_cast<std::uint8_t>(ki);
          }
          if (const auto* c = r.get("credential")) {
            if (!is_tag || !c->is_boolean()) fail(src, *c, fmt::format("{}: credential is a boolean, for tag rules", owner));
            info.credential = c->as_boolean()->get();
          }
          std::vector<std::string> regexes;
          int forms = 0;
          if (const auto* x = r.get("regex")) ++forms, regexes = string_list(src, *x, owner + ": regex");
          if (const auto* x = r.get("literal")) {
            ++forms;
            for (const auto& l : string_list(src, *x, owner + ": literal")) regexes.push_back(escape_regex(l));
          }
          if (const auto* x = r.get("glob")) {
            ++forms;
            for (const auto& g : string_list(src, *x, owner + ": glob")) regexes.push_back(glob_to_regex(g));
          }
          if (forms != 1 || regexes.empty()) fail(src, r, fmt::format("{}: a rule has exactly one of regex, literal, glob", owner));
          // A credential rule must report every occurrence: the first may be the agent's own key
          // in its header and a later one the same kind of key leaking in the body.
          if (info.credential) flags &= ~static_cast<unsigned>(HS_FLAG_SINGLEMATCH);
          for (auto& rx : regexes) {
            const auto rule_id = static_cast<unsigned>(db->rules_.size());
            by_place[static_cast<std::size_t>(info.place)].push_back({rx, flags, rule_id});
            db->rules_.push_back(info);
            owners.push_back(fmt::format("{}: {}", where(src, r), owner));
          }
        }
      }
    }
    for (std::size_t p = 0; p < static_cast<std::size_t>(Place::kCount); ++p) {
      const bool stream = p <= static_cast<std::size_t>(Place::kS2c);
      db->dbs_[p] = compile(by_place[p], stream ? HS_MODE_STREAM : HS_MODE_BLOCK, owners, src);
      if (db->dbs_[p] != nullptr) {
        if (hs_alloc_scratch(db->dbs_[p], &db->scratch_) != HS_SUCCESS) throw LoadError{src + ": cannot allocate scratch"};
        if (stream) hs_stream_size(db->dbs_[p], &db->stream_size_[p]);
      }
    }
  } catch (const toml::parse_error& e) {
    return Error{fmt::format("{}:{}:{}: {}", src, e.source().begin.line, e.source().begin.column, e.description())};
  } catch (const LoadError& e) {
    return Error{e.message};
  }
  return std::shared_ptr<const ClassDb>(std::move(db));
}

Result<std::shared_ptr<const ClassDb>> ClassDb::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{fmt::format("{}: cannot open classes file", path)};
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

}  // namespace tcpr::classify
