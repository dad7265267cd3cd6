// llm_reply.cpp — the response side of llm_api.hpp: JSON answers and token streams.
//
// Streams are framed as the vendors frame them: OpenAI chat and Gemini as SSE "data:" events
// (OpenAI ends with "data: [DONE]"), OpenAI responses and Anthropic as named SSE events, Ollama as
// NDJSON lines; each in chunked transfer coding, flushed a few events at a time.
#include <fmt/format.h>

#include <cstdlib>
#include <string_view>

#include "codec.hpp"
#include "http_wire.hpp"
#include "json_text.hpp"
#include "llm_api.hpp"
#include "risk_text.hpp"
#include "text_gen.hpp"

namespace tcpr::gen {
namespace {

constexpr std::int64_t kCreated = 1'700'000'000;
constexpr std::string_view kOllamaTime = "2023-11-14T22:13:20.512345Z";

// Splits the answer into the deltas a model streams: one or two words each.
std::vector<std::string> deltas(Rng& rng, const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find(' ', at + 1);
    if (end != std::string::npos && rng.chance(40)) end = text.find(' ', end + 1);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(at, end - at));
    at = end;
  }
  return out;
}

std::string json(const auto& build) {
  std::string out;
  JsonWriter j(out);
  build(j);
  return out;
}

void usage(JsonWriter& j, std::string_view in, std::string_view out, Rng& rng) {
  j.key("usage").object().key(in).num(static_cast<std::int64_t>(rng.between(20, 900)));
  j.key(out).num(static_cast<std::int64_t>(rng.between(10, 400))).end();
}

std::string ollama_line(const LlmCall& c, std::string_view piece, bool done, Rng& rng) {
  return json([&](JsonWriter& j) {
           j.object().key("model").str(c.model).key("created_at").str(kOllamaTime);
           if (c.api == LlmApi::kOllamaChat) {
             j.key("message").object().key("role").str("assistant").key("content").str(piece).end();
           } else {
             j.key("response").str(piece);
           }
           j.key("done").boolean(done);
           if (done) {
             j.key("done_reason")
                 .str("stop")
                 .key("total_duration")
                 .num(static_cast<std::int64_t>(rng.between(200'000'000, 2'000'000'000)));
             j.key("eval_count").num(static_cast<std::int64_t>(rng.between(10, 400)));
           }
           j.end();
         }) +
         "\n";
}

// The events of a stream, in order.
std::vector<std::string> stream_events(const LlmCall& c, Rng& rng, const std::string& id) {
  std::vector<std::string> ev;
  const std::vector<std::string> parts = deltas(rng, words(rng, rng.log_uniform(60, 500)));
  const auto openai_chunk = [&](std::string_view content, bool last) {
    return sse_event(json([&](JsonWriter& j) {
      j.object().key("id").str(id).key("object").str("chat.completion.chunk");
      j.key("created").num(kCreated).key("model").str(c.model).key("choices").array().object();
      j.key("index").num(0).key("delta").object();
      if (!last) j.key("content").str(content);
      j.end().key("finish_reason");
      last ? j.str("stop") : j.null();
      j.end().end().end();
    }));
  };
  switch (c.api) {
    case LlmApi::kAnthropicMessages:
      ev.push_back(sse_event(
          json([&](JsonWriter& j) {
            j.object().key("type").str("message_start").key("message").object().key("id").str(id);
            j.key("type").str("message").key("role").str("assistant").key("model").str(c.model);
            j.key("content").array().end().key("stop_reason").null().end().end();
          }),
          "message_start"));
      ev.push_back(sse_event(
          R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
          "content_block_start"));
      ev.push_back(sse_event(R"({"type": "ping"})", "ping"));
      for (const std::string& p : parts) {
        ev.push_back(sse_event(
            json([&](JsonWriter& j) {
              j.object().key("type").str("content_block_delta").key("index").num(0).key("delta");
              j.object().key("type").str("text_delta").key("text").str(p).end().end();
            }),
            "content_block_delta"));
      }
      ev.push_back(sse_event(R"({"type":"content_block_stop","index":0})", "content_block_stop"));
      ev.push_back(sse_event(
          fmt::format(
              R"({{"type":"message_delta","delta":{{"stop_reason":"end_turn","stop_sequence":null}},"usage":{{"output_tokens":{}}}}})",
              parts.size()),
          "message_delta"));
      ev.push_back(sse_event(R"({"type":"message_stop"})", "message_stop"));
      break;
    case LlmApi::kOpenAiResponses:
      ev.push_back(sse_event(
          fmt::format(
              R"({{"type":"response.created","response":{{"id":"{}","object":"response","status":"in_progress","model":"{}"}}}})",
              id, c.model),
          "response.created"));
      for (const std::string& p : parts) {
        ev.push_back(sse_event(
            json([&](JsonWriter& j) {
              j.object().key("type").str("response.output_text.delta").key("output_index").num(0);
              j.key("content_index").num(0).key("delta").str(p).end();
            }),
            "response.output_text.delta"));
      }
      ev.push_back(sse_event(
          fmt::format(
              R"({{"type":"response.completed","response":{{"id":"{}","object":"response","status":"completed","model":"{}"}}}})",
              id, c.model),
          "response.completed"));
      break;
    case LlmApi::kGemini:
      for (std::size_t i = 0; i < parts.size(); ++i) {
        ev.push_back(sse_event(json([&](JsonWriter& j) {
          j.object().key("candidates").array().object().key("content").object().key("parts");
          j.array().object().key("text").str(parts[i]).end().end().key("role").str("model").end();
          if (i + 1 == parts.size()) j.key("finishReason").str("STOP");
          j.key("index").num(0).end().end().key("modelVersion").str(c.model).end();
        })));
      }
      break;
    case LlmApi::kOllamaChat:
    case LlmApi::kOllamaGenerate:
      for (const std::string& p : parts) ev.push_back(ollama_line(c, p, false, rng));
      ev.push_back(ollama_line(c, "", true, rng));
      break;
    default:  // OpenAI chat completions and compatible servers
      for (const std::string& p : parts) ev.push_back(openai_chunk(p, false));
      ev.push_back(openai_chunk("", true));
      ev.push_back(sse_event("[DONE]"));
  }
  return ev;
}

std::string float_text(Rng& rng) {
  const auto v = static_cast<std::int64_t>(rng.below(200'000)) - 100'000;
  return fmt::format("{}0.0{:05}", v < 0 ? "-" : "", std::llabs(v));
}

std::string answer_body(const LlmCall& c, Rng& rng, const std::string& id) {
  const std::string text = words(rng, rng.log_uniform(60, 2'000));
  if (c.api == LlmApi::kOllamaChat || c.api == LlmApi::kOllamaGenerate) {
    std::string line = ollama_line(c, text, true, rng);
    line.pop_back();  // a whole answer is one JSON document, not an NDJSON line
    return line;
  }
  return json([&](JsonWriter& j) {
    j.object();
    switch (c.api) {
      case LlmApi::kOpenAiEmbeddings:
        j.key("object").str("list").key("data").array();
        for (std::size_t i = 0; i < c.inputs; ++i) {
          j.object().key("object").str("embedding").key("index").num(static_cast<std::int64_t>(i));
          j.key("embedding");
          if (c.base64) {
            std::vector<std::uint8_t> raw(c.dimensions * 4);
            rng.fill(raw);
            for (std::size_t k = 3; k < raw.size(); k += 4) raw[k] = (raw[k] & 0x80) | 0x3c;
            j.str(base64(raw));
          } else {
            j.array();
            for (std::size_t k = 0; k < c.dimensions; ++k) j.raw(float_text(rng));
            j.end();
          }
          j.end();
        }
        j.end().key("model").str(c.model);
        usage(j, "prompt_tokens", "total_tokens", rng);
        break;
      case LlmApi::kAnthropicMessages:
      case LlmApi::kBedrockInvoke:
        j.key("id").str(id).key("type").str("message").key("role").str("assistant");
        j.key("model").str(c.model).key("content").array().object().key("type").str("text");
        j.key("text").str(text).end().end().key("stop_reason").str("end_turn");
        usage(j, "input_tokens", "output_tokens", rng);
        break;
      case LlmApi::kGemini:
        j.key("candidates").array().object().key("content").object().key("parts").array();
        j.object().key("text").str(text).end().end().key("role").str("model").end();
        j.key("finishReason").str("STOP").key("index").num(0).end().end();
        j.key("modelVersion").str(c.model);
        break;
      case LlmApi::kCohereChat:
        j.key("id").str(id).key("message").object().key("role").str("assistant");
        j.key("content").array().object().key("type").str("text").key("text").str(text).end();
        j.end().end().key("finish_reason").str("COMPLETE");
        break;
      case LlmApi::kOpenAiResponses:
        j.key("id").str(id).key("object").str("response").key("created_at").num(kCreated);
        j.key("status").str("completed").key("model").str(c.model).key("output").array();
        j.object().key("type").str("message").key("role").str("assistant").key("content");
        j.array().object().key("type").str("output_text").key("text").str(text).end().end();
        j.end().end();
        usage(j, "input_tokens", "output_tokens", rng);
        break;
      default:  // chat completions and completions
        const bool chat = c.api != LlmApi::kOpenAiCompletions;
        j.key("id").str(id).key("object").str(chat ? "chat.completion" : "text_completion");
        j.key("created").num(kCreated).key("model").str(c.model).key("choices").array().object();
        j.key("index").num(0);
        if (chat)
          j.key("message").object().key("role").str("assistant").key("content").str(text).end();
        if (!chat) j.key("text").str(text);
        j.key("finish_reason").str("stop").end().end();
        usage(j, "prompt_tokens", "completion_tokens", rng);
    }
    j.end();
  });
}

}  // namespace

std::vector<std::string> llm_reply(const LlmCall& c, Rng& rng) {
  const bool anthropic = c.api == LlmApi::kAnthropicMessages || c.api == LlmApi::kBedrockInvoke;
  const bool ollama = c.api == LlmApi::kOllamaChat || c.api == LlmApi::kOllamaGenerate;
  const std::string id = anthropic ? "msg_01" + random_chars(rng, 22, kAlnum)
                                   : "chatcmpl-" + random_chars(rng, 29, kAlnum);
  HttpFields f;
  if (!c.stream) {
    const std::string body = answer_body(c, rng, id);
    f.emplace_back("Content-Type", ollama ? "application/json; charset=utf-8" : "application/json");
    f.emplace_back("x-request-id", "req_" + hex_id(rng, 16));
    return {http_response(200, f, body)};
  }
  f.emplace_back("Content-Type",
                 ollama ? "application/x-ndjson" : "text/event-stream; charset=utf-8");
  f.emplace_back("Transfer-Encoding", "chunked");
  f.emplace_back("Cache-Control", "no-cache");
  const std::vector<std::string> events = stream_events(c, rng, id);
  const std::size_t per_write = 1 + events.size() / 16;
  std::vector<std::string> pieces{http_response(200, f)};
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i > 0 && i % per_write == 0) pieces.emplace_back();
    pieces.back() += http_chunk(events[i]);
  }
  pieces.emplace_back(kLastChunk);
  return pieces;
}

}  // namespace tcpr::gen
