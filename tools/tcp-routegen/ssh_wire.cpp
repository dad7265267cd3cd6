// ssh_wire.cpp — see ssh_wire.hpp.
#include "ssh_wire.hpp"

#include "byte_writer.hpp"

namespace tcpr::gen {
namespace {

constexpr std::uint8_t kMsgKexinit = 20;
constexpr std::uint8_t kMsgNewkeys = 21;
constexpr std::uint8_t kMsgKexEcdhInit = 30;
constexpr std::uint8_t kMsgKexEcdhReply = 31;
constexpr std::size_t kBlock = 8;  // before keys, and for chacha20-poly1305

void ssh_string(ByteWriter& w, std::string_view text) {
  w.u32(static_cast<std::uint32_t>(text.size()));
  w.text(text);
}

void random_string(ByteWriter& w, std::size_t n, Rng& rng) {
  w.u32(static_cast<std::uint32_t>(n));
  rng.fill(w.grow(n));
}

// RFC 4253 §6: at least 4 bytes of padding, total (length field excluded for AEAD/EtM modes,
// included otherwise) a multiple of the block size.
std::size_t padding_for(std::size_t covered, std::size_t block = kBlock) {
  std::size_t pad = block - covered % block;
  if (pad < 4) pad += block;
  return pad;
}

}  // namespace

void ssh_packet(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> payload, Rng& rng) {
  const std::size_t pad = padding_for(4 + 1 + payload.size());
  ByteWriter w(out);
  w.u32(static_cast<std::uint32_t>(1 + payload.size() + pad));
  w.u8(static_cast<std::uint8_t>(pad));
  w.bytes(payload);
  rng.fill(w.grow(pad));
}

void ssh_kexinit(std::vector<std::uint8_t>& payload, const SshAlgorithms& a, Rng& rng) {
  ByteWriter w(payload);
  w.u8(kMsgKexinit);
  rng.fill(w.grow(16));  // cookie
  for (std::string_view list :
       {a.kex, a.host_key, a.ciphers, a.ciphers, a.macs, a.macs, a.compression, a.compression}) {
    ssh_string(w, list);
  }
  ssh_string(w, "");  // languages client to server
  ssh_string(w, "");  // languages server to client
  w.u8(0);            // first_kex_packet_follows
  w.u32(0);           // reserved
}

void ssh_ecdh_init(std::vector<std::uint8_t>& payload, Rng& rng) {
  ByteWriter w(payload);
  w.u8(kMsgKexEcdhInit);
  random_string(w, 32, rng);  // Q_C
}

void ssh_ecdh_reply(std::vector<std::uint8_t>& payload, Rng& rng) {
  ByteWriter w(payload);
  w.u8(kMsgKexEcdhReply);
  w.nested(4, [&] {  // K_S: the ed25519 host key blob
    ssh_string(w, "ssh-ed25519");
    random_string(w, 32, rng);
  });
  random_string(w, 32, rng);  // Q_S
  w.nested(4, [&] {           // the signature of the exchange hash
    ssh_string(w, "ssh-ed25519");
    random_string(w, 64, rng);
  });
}

void ssh_newkeys(std::vector<std::uint8_t>& payload) { payload.push_back(kMsgNewkeys); }

std::size_t ssh_encrypted_size(std::size_t payload_len, SshCipher cipher) noexcept {
  if (cipher == SshCipher::kChaCha20Poly1305) {  // the length is not part of the padded blocks
    return 4 + 1 + payload_len + padding_for(1 + payload_len) + 16;
  }
  return 4 + 1 + payload_len + padding_for(4 + 1 + payload_len, 16) + 32;
}

void ssh_encrypted(std::vector<std::uint8_t>& out, std::size_t payload_len, SshCipher cipher,
                   Rng& rng) {
  ByteWriter w(out);
  rng.fill(w.grow(ssh_encrypted_size(payload_len, cipher)));
}

}  // namespace tcpr::gen
