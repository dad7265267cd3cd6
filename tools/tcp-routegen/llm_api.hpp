// llm_api.hpp — LLM API calls over HTTP/1.1, as the vendors' SDKs write them.
//
// APIs (path, credential, body; a streamed answer where the API has one):
//   OpenAI    POST /v1/chat/completions (SSE "data:" chunks, "[DONE]"), /v1/completions,
//             /v1/responses (SSE "event:" + "data:"), /v1/embeddings; Authorization: Bearer sk-…
//   Anthropic POST /v1/messages, x-api-key: sk-ant-…, anthropic-version (SSE message_start …
//             message_stop)
//   Gemini    POST /v1beta/models/M:generateContent, :streamGenerateContent?alt=sse, x-goog-api-key
//   OpenAI-compatible chat (Mistral, Groq, Together, OpenRouter, DeepSeek, vLLM, LiteLLM)
//   Cohere    POST /v2/chat;  Ollama POST /api/chat, /api/generate (NDJSON streams), no credential
//   Bedrock   POST /model/ID/invoke, AWS SigV4 with temporary (ASIA…) credentials
// Agents reach them through an internal gateway (ports 80, 8080, LiteLLM 4000), vLLM (8000) or
// Ollama (11434); the port decides which APIs are plausible. A credential in its API's credential
// header is normal use, not a leak. LlmExtras put risk content into the request body: a note in
// the user's message (a pasted secret) or an earlier tool call that ran a shell command.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rng.hpp"

namespace tcpr::gen {

enum class LlmApi : std::uint8_t {
  kOpenAiChat,
  kOpenAiCompletions,
  kOpenAiResponses,
  kOpenAiEmbeddings,
  kAnthropicMessages,
  kGemini,
  kCompatibleChat,
  kCohereChat,
  kOllamaChat,
  kOllamaGenerate,
  kBedrockInvoke,
};

struct LlmExtras {
  std::string user_note;     // appended to the user's message
  std::string tool_command;  // a shell command an earlier tool call in the conversation ran
};

std::uint16_t pick_llm_port(Rng& rng);
LlmApi pick_llm_api(std::uint16_t port, Rng& rng, const LlmExtras& extras);

struct LlmExchange {
  std::string path;                   // the request target, for the label
  std::string request;                // the whole HTTP request
  std::vector<std::string> response;  // as written: one piece, or a head + event pieces
  bool streamed = false;
};

LlmExchange llm_exchange(LlmApi api, std::string_view host, Rng& rng, const LlmExtras& extras);

// Between llm_request.cpp and llm_reply.cpp: what the answer depends on.
struct LlmCall {
  LlmApi api = LlmApi::kOpenAiChat;
  std::string model;
  bool stream = false;
  std::size_t inputs = 0;      // embeddings: number of input texts
  std::size_t dimensions = 0;  // embeddings: vector size
  bool base64 = false;         // embeddings: encoding_format
};
std::vector<std::string> llm_reply(const LlmCall& call, Rng& rng);

}  // namespace tcpr::gen
