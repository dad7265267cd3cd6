// scenario_ssh.cpp — ssh: an agent running commands on a host over SSH (port 22, or 2222).
//
// Identification strings (RFC 4253 §4.2) both ways; both KEXINITs with the name-lists OpenSSH or
// Paramiko clients and an OpenSSH 8.4 server really send (the client's host key list includes
// the FIDO "sk-" algorithms such as sk-ecdsa-sha2-nistp256@openssh.com: algorithm names, not
// secrets); a curve25519-sha256 key exchange (the first client kex the server also offers) with
// an ed25519 host key; NEWKEYS both ways; then encrypted packets — opaque,
// chacha20-poly1305 for OpenSSH, aes128-ctr + hmac-sha2-256 for Paramiko — for the service
// request, user authentication, a session channel and its command traffic.
// Label: class ssh; no host, method or path.
#include "scenario_kinds.hpp"
#include "ssh_wire.hpp"
#include "tcp_session.hpp"

namespace tcpr::gen {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr SshAlgorithms kOpenSshClient{
    "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,"
    "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
    "diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,"
    "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256,ext-info-c,"
    "kex-strict-c-v00@openssh.com",
    "ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,"
    "ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,"
    "sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,"
    "rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,"
    "ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,"
    "sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256",
    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
    "aes256-gcm@openssh.com",
    "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
    "hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,"
    "umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
    "none,zlib@openssh.com,zlib"};
constexpr SshAlgorithms kParamikoClient{
    "curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
    "diffie-hellman-group16-sha512,diffie-hellman-group-exchange-sha256,"
    "diffie-hellman-group14-sha256,ext-info-c",
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,"
    "rsa-sha2-256,ssh-rsa",
    "aes128-ctr,aes192-ctr,aes256-ctr,aes128-cbc,aes192-cbc,aes256-cbc,3des-cbc",
    "hmac-sha2-256,hmac-sha2-512,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
    "hmac-sha1,hmac-md5,hmac-sha1-96,hmac-md5-96",
    "none"};
constexpr SshAlgorithms kOpenSshServer{
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,"
    "ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,"
    "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
    "rsa-sha2-512,rsa-sha2-256,ssh-rsa,ecdsa-sha2-nistp256,ssh-ed25519",
    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
    "aes256-gcm@openssh.com",
    "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
    "hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,"
    "umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
    "none,zlib@openssh.com"};

class Ssh final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "ssh"; }
  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    return any_server(topology, rng, rng.chance(85) ? 22 : 2222);
  }

  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    conv.label().content_class = "ssh";
    const bool paramiko = rng.chance(20);
    TcpSession tcp(conv, rng);
    tcp.connect();
    const auto send = [&](Side from, const Bytes& bytes, std::uint64_t wait_us) {
      conv.advance_us(wait_us);
      tcp.send(from, bytes);
    };
    const SshCipher cipher =
        paramiko ? SshCipher::kAes128CtrHmacSha256 : SshCipher::kChaCha20Poly1305;
    // tshark cannot find packet boundaries in ciphertext and takes each TCP segment as whole
    // packets, so a write's last segment must not be shorter than a MAC: grow such a payload.
    const auto encrypted = [&](Bytes& out, std::size_t payload) {
      const auto tail = [&] {
        return (out.size() + ssh_encrypted_size(payload, cipher)) % TcpSession::kMss;
      };
      while (out.size() + ssh_encrypted_size(payload, cipher) > TcpSession::kMss && tail() != 0 &&
             tail() < 64) {
        payload += 32;
      }
      ssh_encrypted(out, payload, cipher, rng);
    };
    const auto text = [](std::string_view s) { return Bytes(s.begin(), s.end()); };
    const auto packet = [&](Bytes& out, auto&& payload_writer) {
      Bytes payload;
      payload_writer(payload);
      ssh_packet(out, payload, rng);
    };

    send(Side::kClient,
         text(paramiko ? "SSH-2.0-paramiko_3.4.0\r\n"
                       : "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
         rng.between(50, 300));
    send(Side::kServer, text("SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3\r\n"),
         rng.between(100, 2'000));
    Bytes out;
    packet(out,
           [&](Bytes& p) { ssh_kexinit(p, paramiko ? kParamikoClient : kOpenSshClient, rng); });
    send(Side::kClient, out, rng.between(30, 300));
    out.clear();
    packet(out, [&](Bytes& p) { ssh_kexinit(p, kOpenSshServer, rng); });
    send(Side::kServer, out, rng.between(50, 500));
    out.clear();
    packet(out, [&](Bytes& p) { ssh_ecdh_init(p, rng); });
    send(Side::kClient, out, rng.between(100, 900));
    out.clear();
    packet(out, [&](Bytes& p) { ssh_ecdh_reply(p, rng); });
    packet(out, [&](Bytes& p) { ssh_newkeys(p); });
    send(Side::kServer, out, rng.between(300, 2'500));  // the server signs the exchange hash

    out.clear();
    packet(out, [&](Bytes& p) { ssh_newkeys(p); });
    encrypted(out, 17 + 5);  // SERVICE_REQUEST "ssh-userauth"
    send(Side::kClient, out, rng.between(100, 900));
    // Then: EXT_INFO + SERVICE_ACCEPT; publickey auth; PK_OK; signed auth; SUCCESS;
    // CHANNEL_OPEN; CONFIRMATION; exec request; SUCCESS — payload sizes as OpenSSH sends them.
    static constexpr std::size_t kSetup[][2] = {{0, 300}, {420, 0}, {0, 380}, {500, 0},
                                                {0, 12},  {50, 0},  {0, 30},  {80, 0}};
    for (const auto& [up, down] : kSetup) {
      out.clear();
      encrypted(out, up != 0 ? up + rng.below(40) : down + rng.below(20));
      send(up != 0 ? Side::kClient : Side::kServer, out,
           up != 0 ? rng.between(100, 2'000) : rng.between(200, 6'000));
    }
    const std::uint64_t exchanges = rng.between(1, 12);
    for (std::uint64_t i = 0; i < exchanges; ++i) {
      out.clear();
      encrypted(out, 14 + rng.log_uniform(1, 200));  // command input or keystrokes
      send(Side::kClient, out, rng.log_uniform(500, 60'000));
      out.clear();
      encrypted(out, 14 + rng.log_uniform(20, 6'000));  // its output
      send(Side::kServer, out, rng.log_uniform(500, 40'000));
    }
    out.clear();
    encrypted(out, 9);  // CHANNEL_EOF / CHANNEL_CLOSE
    send(Side::kServer, out, rng.between(200, 3'000));
    out.clear();
    encrypted(out, 5);
    send(Side::kClient, out, rng.between(50, 500));
    tcp.close(Side::kClient);
  }
};

}  // namespace

std::unique_ptr<Scenario> make_ssh() { return std::make_unique<Ssh>(); }

}  // namespace tcpr::gen
