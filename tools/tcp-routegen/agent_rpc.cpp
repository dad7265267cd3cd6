// agent_rpc.cpp — see agent_rpc.hpp.
#include "agent_rpc.hpp"

#include <fmt/format.h>

#include <span>

#include "json_text.hpp"
#include "text_gen.hpp"

namespace tcpr::gen {
namespace {

struct Tool {
  std::string_view name;
  std::string_view description;
  std::string_view argument;  // one required string argument
};
constexpr Tool kTools[] = {
    {"search_inventory", "Search the inventory by free text", "query"},
    {"get_order", "Fetch an order by its id", "order_id"},
    {"list_tickets", "List support tickets in a state", "state"},
    {"create_report", "Create a report draft for a period", "period"},
    {"read_file", "Read a file from the shared reports folder", "path"},
};
constexpr std::string_view kResources[] = {
    "file:///data/reports/weekly-summary.md", "file:///data/exports/orders.csv",
    "db://warehouse/shipments", "file:///data/kb/pricing.md"};

JsonWriter& rpc_head(JsonWriter& j, std::int64_t id) {
  j.object().key("jsonrpc").str("2.0");
  if (id >= 0) j.key("id").num(id);
  return j;
}

JsonWriter& text_content(JsonWriter& j, std::string_view text) {
  return j.key("content")
      .array()
      .object()
      .key("type")
      .str("text")
      .key("text")
      .str(text)
      .end()
      .end();
}

void mcp_params(JsonWriter& j, std::string_view method, std::int64_t id, Rng& rng,
                std::string_view version, const std::optional<ToolCall>& tool) {
  if (method == "initialize") {
    j.key("params").object().key("protocolVersion").str(version).key("capabilities").object();
    j.key("roots").object().key("listChanged").boolean(true).end().end();
    j.key("clientInfo").object().key("name").str(rng.chance(50) ? "agent-runtime" : "mcp-client");
    j.key("version").str("1.4.2").end().end();
  } else if (method == "tools/call") {
    j.key("params").object();
    if (tool) {
      j.key("name").str(tool->name).key("arguments").raw(tool->arguments_json);
    } else {
      const Tool& t = rng.pick(std::span<const Tool>(kTools));
      j.key("name").str(t.name).key("arguments").object().key(t.argument);
      j.str(words(rng, rng.between(8, 40))).end();
    }
    j.key("_meta").object().key("progressToken").num(id).end().end();
  } else if (method == "resources/read") {
    j.key("params").object().key("uri").str(
        rng.pick(std::span<const std::string_view>(kResources)));
    j.end();
  } else if (method == "prompts/get") {
    j.key("params").object().key("name").str("summarize_report").key("arguments").object();
    j.key("period").str(words(rng, 1)).end().end();
  } else if (method != "notifications/initialized") {
    j.key("params").object().end();
  }
}

void mcp_result(JsonWriter& j, std::string_view method, Rng& rng, std::string_view version) {
  j.key("result").object();
  if (method == "initialize") {
    j.key("protocolVersion").str(version).key("capabilities").object();
    j.key("tools").object().key("listChanged").boolean(true).end();
    j.key("resources").object().key("subscribe").boolean(false).end();
    j.key("prompts").object().end().end();
    j.key("serverInfo").object().key("name").str("inventory-tools").key("version").str("0.4.1");
    j.end();
  } else if (method == "tools/list") {
    j.key("tools").array();
    for (const Tool& t : kTools) {
      j.object().key("name").str(t.name).key("description").str(t.description);
      j.key("inputSchema").object().key("type").str("object").key("properties").object();
      j.key(t.argument).object().key("type").str("string").end().end();
      j.key("required").array().str(t.argument).end().end().end();
    }
    j.end();
  } else if (method == "tools/call") {
    text_content(j, words(rng, rng.log_uniform(40, 3'000))).key("isError").boolean(false);
  } else if (method == "resources/list") {
    j.key("resources").array();
    for (std::string_view uri : kResources) {
      j.object().key("uri").str(uri).key("name").str(uri.substr(uri.rfind('/') + 1));
      j.key("mimeType").str(uri.ends_with(".csv") ? "text/csv" : "text/markdown").end();
    }
    j.end();
  } else if (method == "resources/read") {
    j.key("contents").array().object().key("uri").str(kResources[0]);
    j.key("mimeType").str("text/markdown").key("text").str(words(rng, rng.log_uniform(100, 4'000)));
    j.end().end();
  } else if (method == "prompts/get") {
    j.key("description").str("Summarize a report").key("messages").array().object();
    j.key("role").str("user").key("content").object().key("type").str("text");
    j.key("text").str(words(rng, rng.between(40, 200))).end().end().end();
  }
  j.end().end();
}

}  // namespace

RpcExchange mcp_exchange(std::string_view method, std::int64_t id, Rng& rng,
                         std::string_view protocol_version, const std::optional<ToolCall>& tool) {
  RpcExchange ex{std::string(method), id, {}, {}};
  JsonWriter req(ex.request);
  rpc_head(req, id).key("method").str(method);
  mcp_params(req, method, id, rng, protocol_version, tool);
  req.end();
  if (id >= 0) {
    JsonWriter res(ex.result);
    rpc_head(res, id);
    mcp_result(res, method, rng, protocol_version);
  }
  return ex;
}

std::string mcp_progress(std::int64_t token, std::int64_t progress, std::int64_t total) {
  return fmt::format(R"({{"jsonrpc":"2.0","method":"notifications/progress","params":)"
                     R"({{"progressToken":{},"progress":{},"total":{}}}}})",
                     token, progress, total);
}

std::string a2a_agent_card(Rng& rng, std::string_view url) {
  std::string out;
  JsonWriter j(out);
  j.object().key("name").str("Logistics Planner").key("description");
  j.str("Plans shipments and answers questions about inventory").key("url").str(url);
  j.key("version").str("1.2.0").key("protocolVersion").str("0.3.0").key("capabilities").object();
  j.key("streaming").boolean(true).key("pushNotifications").boolean(false).end();
  j.key("defaultInputModes").array().str("text/plain").end();
  j.key("defaultOutputModes").array().str("text/plain").str("application/json").end();
  j.key("skills").array();
  for (std::string_view skill : {"plan_shipment", "inventory_status", "vendor_lookup"}) {
    j.object().key("id").str(skill).key("name").str(skill).key("description");
    j.str(words(rng, rng.between(30, 90))).key("tags").array().str(words(rng, 1)).end().end();
  }
  j.end().end();
  return out;
}

namespace {

JsonWriter& a2a_task(JsonWriter& j, Rng& rng, std::string_view task_id, std::string_view context_id,
                     std::string_view state) {
  j.object().key("kind").str("task").key("id").str(task_id).key("contextId").str(context_id);
  j.key("status").object().key("state").str(state).end();
  if (state == "completed") {
    j.key("artifacts").array().object().key("artifactId").str(uuid4(rng)).key("parts").array();
    j.object().key("kind").str("text").key("text").str(words(rng, rng.log_uniform(60, 2'500)));
    j.end().end().end().end();
  }
  return j.end();
}

}  // namespace

RpcExchange a2a_exchange(std::string_view method, std::string_view id, Rng& rng,
                         std::string_view task_id, std::string_view context_id) {
  RpcExchange ex{std::string(method), -1, {}, {}};
  JsonWriter req(ex.request);
  req.object().key("jsonrpc").str("2.0").key("id").str(id).key("method").str(method);
  req.key("params").object();
  if (method == "tasks/get") {
    req.key("id").str(task_id);
  } else {
    req.key("message").object().key("role").str("user").key("parts").array().object();
    req.key("kind").str("text").key("text").str(words(rng, rng.log_uniform(30, 600))).end().end();
    req.key("messageId").str(uuid4(rng)).key("kind").str("message").end();
  }
  req.end().end();
  JsonWriter res(ex.result);
  res.object().key("jsonrpc").str("2.0").key("id").str(id).key("result");
  a2a_task(res, rng, task_id, context_id, "completed").end();
  return ex;
}

std::vector<std::string> a2a_stream_events(std::string_view id, Rng& rng, std::string_view task_id,
                                           std::string_view context_id) {
  std::vector<std::string> events;
  const auto event = [&](const auto& result) {
    std::string out;
    JsonWriter j(out);
    j.object().key("jsonrpc").str("2.0").key("id").str(id).key("result").object();
    result(j);
    j.end().end();
    events.push_back(std::move(out));
  };
  const auto status = [&](std::string_view state, bool final) {
    event([&](JsonWriter& j) {
      j.key("kind")
          .str("status-update")
          .key("taskId")
          .str(task_id)
          .key("contextId")
          .str(context_id);
      j.key("status").object().key("state").str(state).end().key("final").boolean(final);
    });
  };
  event([&](JsonWriter& j) {
    j.key("kind").str("task").key("id").str(task_id).key("contextId").str(context_id);
    j.key("status").object().key("state").str("submitted").end();
  });
  status("working", false);
  const std::string artifact = uuid4(rng);
  const std::uint64_t chunks = rng.between(2, 6);
  for (std::uint64_t i = 0; i < chunks; ++i) {
    event([&](JsonWriter& j) {
      j.key("kind")
          .str("artifact-update")
          .key("taskId")
          .str(task_id)
          .key("contextId")
          .str(context_id);
      j.key("artifact").object().key("artifactId").str(artifact).key("parts").array().object();
      j.key("kind").str("text").key("text").str(words(rng, rng.between(40, 400))).end().end().end();
      j.key("append").boolean(i > 0).key("lastChunk").boolean(i + 1 == chunks);
    });
  }
  status("completed", true);
  return events;
}

}  // namespace tcpr::gen
