// risk_text.hpp — the strings behind risk tags, their near misses, and API keys that are fine.
//
// Secrets (tag "secret"), in the formats their issuers document:
//   AWS access key id "AKIA" + 16 of [0-9A-Z], with its 40-character secret access key;
//   PEM private-key blocks (RSA, EC, PKCS#8, OpenSSH) with Base64 bodies;
//   GitHub "ghp_" + 36 and "github_pat_" + 22 + "_" + 59; GitLab "glpat-" + 20;
//   Slack bot "xoxb-…" and user "xoxp-…" tokens; "sk-" style API keys; JWTs (RFC 7519: three
//   base64url parts, the first a JSON header).
// A Secret is a list of (field name, value) pairs — the AWS kind is a pair of fields — so that a
// scenario can put it in a JSON body, a query, a form, a header or a file.
// Shell commands (tag "shell"): sh -c, curl | sh, wget -O- | bash, nc -e, base64 -d | sh,
// python -c with socket/subprocess, rm -rf /.
// Near misses carry no tag: "AKIA" + fewer than 16 characters.
// LLM API keys (openai_key(), …) belong in the Authorization/x-api-key header of an LLM API
// request, where they are not a leak.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rng.hpp"

namespace tcpr::gen {

inline constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
inline constexpr std::string_view kUpperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
inline constexpr std::string_view kLowerHex = "0123456789abcdef";
inline constexpr std::string_view kUrlSafe =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string random_chars(Rng& rng, std::size_t n, std::string_view alphabet);

enum class SecretKind {
  kAwsKeyPair,
  kPrivateKey,
  kGithubToken,
  kGithubFineGrained,
  kGitlabToken,
  kSlackBot,
  kSlackUser,
  kSkKey,
  kJwt,
};
inline constexpr int kSecretKinds = 9;

struct Secret {
  SecretKind kind;
  std::vector<std::pair<std::string_view, std::string>> fields;  // e.g. {"github_token", "ghp_…"}
  bool multiline() const noexcept { return kind == SecretKind::kPrivateKey; }
};

Secret make_secret(Rng& rng, SecretKind kind);
Secret make_secret(Rng& rng);
// The secret as a file an agent would upload: ~/.aws/credentials, id_rsa, or a .env file.
struct SecretFile {
  std::string_view name;
  std::string_view content_type;
  std::string content;
};
SecretFile secret_file(Rng& rng, const Secret& secret);

std::string shell_command(Rng& rng);
std::string short_akia(Rng& rng);  // "AKIA" + 4..12 of [0-9A-Z]: looks like a key id, is not

// Keys that travel in the credential header of an LLM API request.
std::string openai_key(Rng& rng);     // sk-proj-… or legacy sk-…T3BlbkFJ…
std::string anthropic_key(Rng& rng);  // sk-ant-api03-…AA
std::string gemini_key(Rng& rng);     // AIza…

}  // namespace tcpr::gen
