// ssh_wire.hpp — SSH transport packets (RFC 4253) up to NEWKEYS, and what follows them.
//
// ssh_packet()     the binary packet protocol before keys are in use: uint32 packet_length,
//                  byte padding_length, payload, 4..255 random padding bytes making the whole a
//                  multiple of 8 (§6), no MAC.
// ssh_kexinit()    SSH_MSG_KEXINIT (§7.1): a random cookie and the ten name-lists.
// ssh_ecdh_init()/ssh_ecdh_reply()  SSH_MSG_KEX_ECDH_INIT/REPLY (RFC 5656 §4) for
//                  curve25519-sha256 (RFC 8731): the client's 32-byte key; the server's ed25519
//                  host key (RFC 8709), its 32-byte key and an ed25519 signature. (tshark 4.0
//                  decodes no signature but ssh-rsa/ssh-dss and warns "Decoded 19 bytes, but
//                  packet legnth is 83 bytes" on every such reply, real OpenSSH ones included.)
// ssh_newkeys()    SSH_MSG_NEWKEYS.
// ssh_encrypted()  a packet after NEWKEYS — random bytes of the right size for a payload of
//                  `payload_len` bytes: chacha20-poly1305@openssh.com (length encrypted too,
//                  8-byte blocks, 16-byte tag) or aes128-ctr with hmac-sha2-256 (16-byte blocks
//                  over the whole packet, 32-byte MAC).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "rng.hpp"

namespace tcpr::gen {

struct SshAlgorithms {
  std::string_view kex;
  std::string_view host_key;
  std::string_view ciphers;
  std::string_view macs;
  std::string_view compression;
};

enum class SshCipher : std::uint8_t { kChaCha20Poly1305, kAes128CtrHmacSha256 };

void ssh_packet(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> payload, Rng& rng);
void ssh_kexinit(std::vector<std::uint8_t>& payload, const SshAlgorithms& algorithms, Rng& rng);
void ssh_ecdh_init(std::vector<std::uint8_t>& payload, Rng& rng);
void ssh_ecdh_reply(std::vector<std::uint8_t>& payload, Rng& rng);
void ssh_newkeys(std::vector<std::uint8_t>& payload);
std::size_t ssh_encrypted_size(std::size_t payload_len, SshCipher cipher) noexcept;
void ssh_encrypted(std::vector<std::uint8_t>& out, std::size_t payload_len, SshCipher cipher,
                   Rng& rng);

}  // namespace tcpr::gen
