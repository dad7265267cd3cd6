// llm_request.cpp — the request side of llm_api.hpp.
#include <fmt/format.h>

#include <span>

#include "http_wire.hpp"
#include "json_text.hpp"
#include "llm_api.hpp"
#include "risk_text.hpp"
#include "text_gen.hpp"

namespace tcpr::gen {
namespace {

using Names = std::span<const std::string_view>;

std::string_view pick(Rng& rng, Names names) { return rng.pick(names); }

void stainless(HttpFields& f, std::string_view sdk, std::string_view version) {
  f.emplace_back("User-Agent", fmt::format("{}/Python {}", sdk, version));
  f.emplace_back("X-Stainless-Lang", "python");
  f.emplace_back("X-Stainless-Package-Version", std::string(version));
  f.emplace_back("X-Stainless-OS", "Linux");
  f.emplace_back("X-Stainless-Runtime", "CPython");
}

std::string user_text(Rng& rng, const LlmExtras& x) {
  std::string text = words(rng, rng.log_uniform(40, 900));
  if (!x.user_note.empty()) text += "\n\n" + x.user_note;
  return text;
}

std::string system_text(Rng& rng) {
  return fmt::format("You are an operations assistant for the {} team. Answer briefly.",
                     words(rng, 1));
}

// role/content messages; with a tool command, the assistant's earlier call and its result.
void chat_messages(JsonWriter& j, Rng& rng, const LlmExtras& x, bool with_system) {
  j.key("messages").array();
  if (with_system) j.object().key("role").str("system").key("content").str(system_text(rng)).end();
  j.object().key("role").str("user").key("content").str(user_text(rng, x)).end();
  if (!x.tool_command.empty()) {
    const std::string id = "call_" + random_chars(rng, 24, kAlnum);
    std::string args;
    JsonWriter(args).object().key("command").str(x.tool_command).end();
    j.object().key("role").str("assistant").key("content").null().key("tool_calls").array();
    j.object().key("id").str(id).key("type").str("function").key("function").object();
    j.key("name").str("run_shell").key("arguments").str(args).end().end().end().end();
    j.object().key("role").str("tool").key("tool_call_id").str(id);
    j.key("content").str(words(rng, 60)).end();
  }
  j.end();
}

void anthropic_messages(JsonWriter& j, Rng& rng, const LlmExtras& x) {
  j.key("messages").array();
  j.object().key("role").str("user").key("content").str(user_text(rng, x)).end();
  if (!x.tool_command.empty()) {
    const std::string id = "toolu_01" + random_chars(rng, 22, kAlnum);
    j.object().key("role").str("assistant").key("content").array().object();
    j.key("type").str("tool_use").key("id").str(id).key("name").str("bash");
    j.key("input").object().key("command").str(x.tool_command).end().end().end().end();
    j.object().key("role").str("user").key("content").array().object();
    j.key("type").str("tool_result").key("tool_use_id").str(id);
    j.key("content").str(words(rng, 60)).end().end().end();
  }
  j.end();
}

void gemini_contents(JsonWriter& j, Rng& rng, const LlmExtras& x) {
  j.key("contents").array();
  j.object().key("role").str("user").key("parts").array();
  j.object().key("text").str(user_text(rng, x)).end().end().end();
  if (!x.tool_command.empty()) {
    j.object().key("role").str("model").key("parts").array().object().key("functionCall").object();
    j.key("name").str("run_shell").key("args").object().key("command").str(x.tool_command);
    j.end().end().end().end().end();
    j.object().key("role").str("user").key("parts").array().object().key("functionResponse");
    j.object().key("name").str("run_shell").key("response").object().key("output");
    j.str(words(rng, 60)).end().end().end().end().end();
  }
  j.end();
}

void sigv4(HttpFields& f, Rng& rng, std::string_view region) {
  f.emplace_back("X-Amz-Date", "20231114T221320Z");
  f.emplace_back("X-Amz-Security-Token", random_chars(rng, 600, kAlnum) + "==");
  f.emplace_back(
      "Authorization",
      fmt::format("AWS4-HMAC-SHA256 Credential=ASIA{}/20231114/{}/bedrock/aws4_request, "
                  "SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token,"
                  " Signature={}",
                  random_chars(rng, 16, kUpperDigits), region, random_chars(rng, 64, kLowerHex)));
}

}  // namespace

std::uint16_t pick_llm_port(Rng& rng) {
  static constexpr std::uint16_t kPorts[] = {80, 80, 80, 8080, 4000, 4000, 8000, 11434, 11434};
  return rng.pick(std::span<const std::uint16_t>(kPorts));
}

LlmApi pick_llm_api(std::uint16_t port, Rng& rng, const LlmExtras& extras) {
  using A = LlmApi;
  static constexpr A kOllama[] = {A::kOllamaChat, A::kOllamaChat, A::kOllamaGenerate,
                                  A::kCompatibleChat};
  static constexpr A kVllm[] = {A::kCompatibleChat, A::kCompatibleChat, A::kOpenAiCompletions,
                                A::kOpenAiEmbeddings};
  static constexpr A kGateway[] = {
      A::kOpenAiChat,       A::kOpenAiChat,        A::kOpenAiResponses,   A::kOpenAiCompletions,
      A::kOpenAiEmbeddings, A::kAnthropicMessages, A::kAnthropicMessages, A::kGemini,
      A::kCompatibleChat,   A::kCohereChat,        A::kBedrockInvoke};
  static constexpr A kWithTools[] = {A::kOpenAiChat, A::kAnthropicMessages, A::kGemini,
                                     A::kCompatibleChat};
  if (!extras.tool_command.empty()) return rng.pick(std::span<const A>(kWithTools));
  if (port == 11434) return rng.pick(std::span<const A>(kOllama));
  if (port == 8000) return rng.pick(std::span<const A>(kVllm));
  return rng.pick(std::span<const A>(kGateway));
}

LlmExchange llm_exchange(LlmApi api, std::string_view host, Rng& rng, const LlmExtras& x) {
  static constexpr std::string_view kGpt[] = {"gpt-4o", "gpt-4o-mini", "gpt-4.1-mini", "o3-mini"};
  static constexpr std::string_view kClaude[] = {
      "claude-3-5-sonnet-20241022", "claude-3-5-haiku-20241022", "claude-sonnet-4-20250514"};
  static constexpr std::string_view kGemini[] = {"gemini-1.5-flash", "gemini-2.0-flash",
                                                 "gemini-1.5-pro"};
  static constexpr std::string_view kOpen[] = {
      "mistral-large-latest",     "mistral-small-latest",
      "llama-3.3-70b-versatile",  "deepseek-chat",
      "Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.3-70B-Instruct-Turbo"};
  static constexpr std::string_view kOllama[] = {"llama3.1:8b", "qwen2.5:7b", "mistral:7b",
                                                 "gemma2:9b"};
  static constexpr std::string_view kBedrock[] = {"anthropic.claude-3-5-sonnet-20240620-v1:0",
                                                  "anthropic.claude-3-haiku-20240307-v1:0"};
  LlmExchange ex;
  LlmCall call{api, "", rng.chance(45)};
  HttpFields f;
  std::string body;
  JsonWriter j(body);
  j.object();
  switch (api) {
    case LlmApi::kOpenAiChat:
    case LlmApi::kCompatibleChat: {
      const bool openai = api == LlmApi::kOpenAiChat;
      call.model = pick(rng, openai ? Names(kGpt) : Names(kOpen));
      ex.path = "/v1/chat/completions";
      f.emplace_back("Authorization",
                     "Bearer " + (openai ? openai_key(rng) : random_chars(rng, 32, kAlnum)));
      stainless(f, "OpenAI", "1.54.3");
      j.key("model").str(call.model);
      chat_messages(j, rng, x, true);
      j.key("temperature").raw("0.2");
      if (call.stream) j.key("stream").boolean(true);
      break;
    }
    case LlmApi::kOpenAiCompletions:
      call.model = "gpt-3.5-turbo-instruct", call.stream = false;
      ex.path = "/v1/completions";
      f.emplace_back("Authorization", "Bearer " + openai_key(rng));
      stainless(f, "OpenAI", "1.54.3");
      j.key("model").str(call.model).key("prompt").str(user_text(rng, x));
      j.key("max_tokens").num(static_cast<std::int64_t>(rng.between(64, 512)));
      break;
    case LlmApi::kOpenAiResponses:
      call.model = pick(rng, kGpt);
      ex.path = "/v1/responses";
      f.emplace_back("Authorization", "Bearer " + openai_key(rng));
      stainless(f, "OpenAI", "1.66.3");
      j.key("model").str(call.model).key("instructions").str(system_text(rng));
      j.key("input").str(user_text(rng, x));
      if (call.stream) j.key("stream").boolean(true);
      break;
    case LlmApi::kOpenAiEmbeddings:
      call.model = "text-embedding-3-small", call.stream = false;
      call.inputs = rng.between(1, 3), call.dimensions = 64u << rng.below(3);
      call.base64 = rng.chance(50);
      ex.path = "/v1/embeddings";
      f.emplace_back("Authorization", "Bearer " + openai_key(rng));
      stainless(f, "OpenAI", "1.54.3");
      j.key("model").str(call.model).key("input").array();
      for (std::size_t i = 0; i < call.inputs; ++i)
        j.str(i == 0 ? user_text(rng, x) : words(rng, 200));
      j.end().key("dimensions").num(static_cast<std::int64_t>(call.dimensions));
      j.key("encoding_format").str(call.base64 ? "base64" : "float");
      break;
    case LlmApi::kAnthropicMessages:
      call.model = pick(rng, kClaude);
      ex.path = "/v1/messages";
      f.emplace_back("x-api-key", anthropic_key(rng));
      f.emplace_back("anthropic-version", "2023-06-01");
      stainless(f, "Anthropic", "0.39.0");
      j.key("model").str(call.model).key("max_tokens").num(1024);
      j.key("system").str(system_text(rng));
      anthropic_messages(j, rng, x);
      if (call.stream) j.key("stream").boolean(true);
      break;
    case LlmApi::kGemini:
      call.model = pick(rng, kGemini);
      ex.path = fmt::format("/v1beta/models/{}:{}", call.model,
                            call.stream ? "streamGenerateContent?alt=sse" : "generateContent");
      f.emplace_back("x-goog-api-key", gemini_key(rng));
      f.emplace_back("User-Agent", "google-genai-sdk/1.2.0 gl-python/3.11.9");
      gemini_contents(j, rng, x);
      j.key("systemInstruction").object().key("parts").array().object();
      j.key("text").str(system_text(rng)).end().end().end();
      j.key("generationConfig").object().key("temperature").raw("0.4").end();
      break;
    case LlmApi::kCohereChat:
      call.model = "command-r-plus-08-2024", call.stream = false;
      ex.path = "/v2/chat";
      f.emplace_back("Authorization", "Bearer " + random_chars(rng, 40, kAlnum));
      f.emplace_back("X-Fern-Language", "Python");
      f.emplace_back("X-Fern-SDK-Name", "cohere");
      j.key("model").str(call.model);
      chat_messages(j, rng, x, true);
      break;
    case LlmApi::kOllamaChat:
    case LlmApi::kOllamaGenerate: {
      const bool chat = api == LlmApi::kOllamaChat;
      call.model = pick(rng, kOllama);
      ex.path = chat ? "/api/chat" : "/api/generate";
      f.emplace_back("User-Agent", "ollama-python/0.4.4 (x86_64 linux) Python/3.11.9");
      j.key("model").str(call.model);
      if (chat) chat_messages(j, rng, x, rng.chance(50));
      if (!chat) j.key("prompt").str(user_text(rng, x));
      j.key("stream").boolean(call.stream);
      break;
    }
    case LlmApi::kBedrockInvoke: {
      call.model = pick(rng, kBedrock), call.stream = false;
      std::string id = call.model;
      id.replace(id.find(':'), 1, "%3A");  // botocore quotes the model id in the path
      ex.path = fmt::format("/model/{}/invoke", id);
      f.emplace_back("User-Agent",
                     "Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux lang/python#3.11.9");
      sigv4(f, rng, rng.chance(50) ? "us-east-1" : "us-west-2");
      j.key("anthropic_version").str("bedrock-2023-05-31").key("max_tokens").num(512);
      anthropic_messages(j, rng, x);
      break;
    }
  }
  j.end();
  f.emplace_back("Content-Type", "application/json");
  f.emplace_back("Accept", "application/json");
  ex.request = http_request("POST", ex.path, host, f, body);
  ex.streamed = call.stream;
  ex.response = llm_reply(call, rng);
  return ex;
}

}  // namespace tcpr::gen
