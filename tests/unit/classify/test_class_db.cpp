// Class definitions: the shipped file compiles; mistakes name the file, line and class.
#include <catch2/catch.hpp>

#include "tcpr/classify/class_db.hpp"

using tcpr::classify::ClassDb;
using tcpr::classify::Place;

namespace {
std::string error_of(const std::string& text) {
  auto r = ClassDb::parse(text, "c.toml");
  REQUIRE_FALSE(r.ok());
  return r.error();
}
}  // namespace

TEST_CASE("the shipped classes compile, with small stream state", "[class_db]") {
  auto r = ClassDb::load(TCPR_SOURCE_DIR "/config/classes.toml");
  REQUIRE(r.ok());
  const ClassDb& db = *r.value();
  for (const char* c : {"unknown", "llm.api", "mcp", "a2a", "grpc", "websocket", "http", "tls", "ssh", "dns"})
    CHECK(db.class_id(c) >= 0);
  CHECK(db.tag_id("secret") >= 0);
  CHECK(db.tag_id("shell") >= 0);
  CHECK(db.class_id("unknown") == 0);
  CHECK(db.db(Place::kC2s) != nullptr);
  CHECK(db.db(Place::kSni) != nullptr);
  // Stream state is allocated per open direction: keep it to a few hundred bytes.
  CHECK(db.stream_size(Place::kC2s) < 512);
  CHECK(db.stream_size(Place::kS2c) < 512);
  CHECK(db.revision.size() == 16);
}

TEST_CASE("globs and literals become anchored, escaped regexes", "[class_db]") {
  CHECK(tcpr::classify::glob_to_regex("*.openai.azure.com") == "^.*\\x2eopenai\\x2eazure\\x2ecom$");
  CHECK(tcpr::classify::glob_to_regex("a?c") == "^a.c$");
  CHECK(tcpr::classify::escape_regex("a+b") == "a\\x2bb");
}

TEST_CASE("class mistakes stop with file:line:column and the class", "[class_db]") {
  CHECK(error_of("[[class]]\nname = \"x\"\n") == "c.toml:1:1: class 'x': needs at least one [[class.rule]]");
  CHECK(error_of("[[class]]\nname = \"x\"\n[[class.rule]]\non = \"c2s\"\nregex = \"a(\"\n")
            .find("c.toml:3:1: class 'x': pattern 'a(' rejected by Hyperscan") == 0);
  CHECK(error_of("[[class]]\nname = \"x\"\n[[class.rule]]\non = \"nowhere\"\nregex = \"a\"\n") ==
        "c.toml:4:6: class 'x': unknown place 'nowhere'");
  CHECK(error_of("[[class]]\nname = \"x\"\ncolour = 1\n[[class.rule]]\non = \"c2s\"\nregex = \"a\"\n") ==
        "c.toml:3:10: class 'x': unknown key 'colour'");
  CHECK(error_of("[[class]]\nname = \"x\"\n[[class.rule]]\non = \"c2s\"\nregex = \"a\"\nliteral = \"b\"\n") ==
        "c.toml:3:1: class 'x': a rule has exactly one of regex, literal, glob");
  CHECK(error_of("[[tag]]\nname = \"t\"\n[[tag.rule]]\non = \"c2s\"\nregex = \"a\"\nports = [70000]\n") ==
        "c.toml:6:10: tag 't': a port must be an integer in [1, 65535]");
  CHECK(error_of("[[class]]\nname = \"x\"\npriority = 5000\n[[class.rule]]\non = \"c2s\"\nregex = \"a\"\n") ==
        "c.toml:3:12: class 'x': priority must be an integer in [0, 1000]");
  CHECK(error_of("[[class]\n").rfind("c.toml:1:", 0) == 0);
}
