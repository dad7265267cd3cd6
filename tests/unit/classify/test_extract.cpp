// Extractors of the classify stage (extract.hpp) against vectors from independent sources:
//   - TLS ClientHellos sent by real programs (tests/data/openssl_tls.pcap frame 4; openssl 3.0
//     s_client and curl 7.88 recorded on a loopback socket), one built field by field per RFC 8446
//     with GREASE (RFC 8701) and cross-checked with tshark 4.0, which also gave every expected
//     value below;
//   - HTTP/1.1 heads sent by curl 7.88 and Python's http.client, an SSE response head written by
//     Python's http.server, the RFC 6455 §1.2 handshake;
//   - JSON-RPC bodies from the JSON-RPC 2.0 specification §7 and the MCP specification;
//   - HTTP/2 client streams sent by nghttp 1.52 and curl (to a python3-h2 server), one framed
//     with python3-hyperframe and HPACK-encoded by python3-hpack (Huffman on), RFC 7541 C.4.1;
//     all decoded by tshark for the expected values.
// Each call gets an exactly-sized heap copy, so ASan builds catch any read past the input.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tcpr/classify/extract.hpp"

using namespace tcpr::classify;

namespace Catch {
template <>
struct StringMaker<Extract> {
  static std::string convert(Extract e) {
    return e == Extract::kOk ? "kOk" : e == Extract::kNeedMore ? "kNeedMore" : "kNo";
  }
};
}  // namespace Catch

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes hex(std::string_view h) {
  const auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  Bytes b;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    b.push_back(static_cast<std::uint8_t>(nibble(h[i]) << 4 | nibble(h[i + 1])));
  }
  return b;
}

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Replaces the one occurrence of `from` by `to` (same length, hex): a targeted corruption.
Bytes patch(Bytes v, std::string_view from, std::string_view to) {
  const Bytes f = hex(from), t = hex(to);
  REQUIRE(f.size() == t.size());
  const auto it = std::search(v.begin(), v.end(), f.begin(), f.end());
  REQUIRE(it != v.end());
  REQUIRE(std::search(it + 1, v.end(), f.begin(), f.end()) == v.end());
  std::copy(t.begin(), t.end(), it);
  return v;
}

template <typename Out, typename Fn>
Extract call(Fn fn, const Bytes& v, std::size_t n, Out& out) {
  const Bytes copy(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n));
  return fn(copy.data(), copy.size(), out);
}

Extract tls(const Bytes& v, TlsClientHello& out, std::size_t n) {
  return call(parse_client_hello, v, n, out);
}
Extract tls(const Bytes& v, TlsClientHello& out) { return tls(v, out, v.size()); }
Extract tls(const Bytes& v) {
  TlsClientHello o;
  return tls(v, o);
}
Extract req(const Bytes& v, HttpRequest& out, std::size_t n) {
  return call(parse_http_request, v, n, out);
}
Extract req(const Bytes& v, HttpRequest& out) { return req(v, out, v.size()); }
Extract req(const Bytes& v) {
  HttpRequest o;
  return req(v, o);
}
Extract resp(const Bytes& v, HttpResponse& out) {
  return call(parse_http_response, v, v.size(), out);
}
Extract resp(const Bytes& v) {
  HttpResponse o;
  return resp(v, o);
}
Extract h2(const Bytes& v, H2Request& out, std::size_t n) {
  return call(parse_h2_request, v, n, out);
}
Extract h2(const Bytes& v, H2Request& out) { return h2(v, out, v.size()); }
Extract h2(const Bytes& v) {
  H2Request o;
  return h2(v, o);
}
Extract rpc(const Bytes& v, JsonRpcCall& out, bool chunked = false, std::size_t n = SIZE_MAX) {
  const auto fn = [chunked](const std::uint8_t* p, std::size_t l, JsonRpcCall& o) {
    return find_jsonrpc_method(p, l, chunked, o);
  };
  return call(fn, v, std::min(n, v.size()), out);
}
Extract rpc(std::string_view s, bool chunked = false) {
  JsonRpcCall o;
  return rpc(text(s), o, chunked);
}

// ---- TLS vectors -------------------------------------------------------------------------------

// clang-format off
// tests/data/openssl_tls.pcap frame 4: openssl s_client -servername api.openai.com.
const Bytes kTlsPcap = hex(
    "160301013b01000137030335b183c10072b059c9df706dc141140ef5c7426a113b254d770cfa1e925128e1200d1427d3"
    "9771ff1fc9b3f5491076fffa49926c2bd219cf1f4a754b70cbca2eba003e130213031301c02cc030009fcca9cca8ccaa"
    "c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000b0"
    "00000013001100000e6170692e6f70656e61692e636f6d000b000403000102000a00160014001d0017001e0019001801"
    "000101010201030104002300000016000000170000000d002a0028040305030603080708080809080a080b0804080508"
    "06040105010601030303010302040205020602002b0009080304030303020301002d00020101003300260024001d0020"
    "046cadd443b4420fe7edb1e889cf8d1b8cf7082037b3414163a4997597f9cb08");
// openssl s_client -servername MCP.Example.COM -alpn h2,http/1.1
const Bytes kTlsOpensslAlpn = hex(
    "160301014e0100014a0303f74b4e1f8119c5f6055e1a2cfa90c0c66eeaadb5ba35a5c56618d75fb380789320aa1bd65b"
    "06941984e029bcb734c4b8914104e4bc84cb0e2e610c4e7e0a9a6024003e130213031301c02cc030009fcca9cca8ccaa"
    "c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000c3"
    "00000014001200000f4d43502e4578616d706c652e434f4d000b000403000102000a00160014001d0017001e00190018"
    "01000101010201030104002300000010000e000c02683208687474702f312e310016000000170000000d002a00280403"
    "05030603080708080809080a080b080408050806040105010601030303010302040205020602002b0009080304030303"
    "020301002d00020101003300260024001d0020d9440c5b46c7f5c2b9499c5f558740aa7ee331d8d8ad6c1c0cb19e42f0"
    "861b66");
// openssl s_client -servername api.anthropic.com -tls1_2 (no supported_versions, no ALPN)
const Bytes kTlsOpenssl12 = hex(
    "16030100d1010000cd030396c73aadee60546a34e4a4ede74a8dac704bbb43a7c4067c32d034440af8787a000038c02c"
    "c030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c"
    "0035002f00ff0100006c0000001600140000116170692e616e7468726f7069632e636f6d000b000403000102000a000c"
    "000a001d0017001e00190018002300000016000000170000000d002a0028040305030603080708080809080a080b0804"
    "08050806040105010601030303010302040205020602");
// curl --http2 https://Generativelanguage.GoogleApis.com/ (curl lower-cases; padding extension)
const Bytes kTlsCurl = hex(
    "1603010200010001fc0303da20082fd7ab53cbb3ec5acf24235a15f63b7471d728d6e7881b4e475f79d913208f0364ea"
    "ef3561ed21768fa6a25d4634a360ea9681a28e916e25eee2760fc61b003e130213031301c02cc030009fcca9cca8ccaa"
    "c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff01000175"
    "00000026002400002167656e657261746976656c616e67756167652e676f6f676c65617069732e636f6d000b00040300"
    "0102000a00160014001d0017001e00190018010001010102010301040010000e000c02683208687474702f312e310016"
    "00000017000000310000000d002a0028040305030603080708080809080a080b08040805080604010501060103030301"
    "0302040205020602002b0009080304030303020301002d00020101003300260024001d0020559a119f33e7dfe03960ed"
    "f1c683e9f04f68bac6d7e6a4bdd42ad8daaeb0ad360015009c" + std::string(312, '0'));
// openssl s_client -max_send_frag 512 with 29 ALPN ids: the 553-byte hello in records of 512 + 45.
const Bytes kTlsSplit = hex(
    "1603010200010002290303abbd2ceda06b9ff6e856cfcfdbf61ce0f03d5d2d825c6e7332e163f21cd2c32f20377a7652"
    "b7df6910e58246e8ac22e4158cac36fc5c93480bb44ac93a0413e252003e130213031301c02cc030009fcca9cca8ccaa"
    "c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010001a2"
    "0000003a0038000035766572792d6c6f6e672d686f73742d6e616d652d666f722d73706c697474696e672e7265636f72"
    "64732e6578616d706c652e636f6d000b000403000102000a00160014001d0017001e0019001801000101010201030104"
    "00230000001000c700c502683208687474702f312e3108737064792f332e310368326308687474702f312e300a61636d"
    "652d746c732f3103646f7403646f7104696d617004706f70330b6d616e616765736965766504636f61700b786d70702d"
    "636c69656e740b786d70702d7365727665720366747003697263046e6e74700673756e727063097374756e2e7475726e"
    "0677656272746308632d776562727463057369702f32077464732f382e30046d717474076e74736b652f310268330a70"
    "6f737467726573716c02636f02626f0016000000170000000d002a0028040305030603080708080809080a080b080408"
    "050806040105010601030303010302040205020602002b0009080304030303020301002d00160301002d020101003300"
    "260024001d0020a0b6fac853d7d385a15eaa97b300937b38fd9820cf53c8cae6fe89ce4c4ad10d");
// By hand (RFC 8446 §4.1.2): GREASE cipher suite, extensions 0x0a0a (first) and 0xdada, GREASE
// group, key share, supported version 0x9a9a and ALPN id 0x3a3a; SNI Agent-Gateway.Example.NET;
// 19 extensions including ECH outer (0xfe0d) and padding.
const std::string kCraftedHs =
    "010001a50303202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f20a0a1a2a3"
    "a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf000a7a7a130113021303c02b010001520a0a0000"
    "0000001e001c0000194167656e742d476174657761792e4578616d706c652e4e455400170000ff01000100000a000800"
    "062a2a001d0017000b000201000023000000100011000f023a3a02683208687474702f312e3100050005010000000000"
    "0d00080006040308040401001200000033002b00292a2a000100001d0020000102030405060708090a0b0c0d0e0f1011"
    "12131415161718191a1b1c1d1e1f002d00020101002b0007069a9a03040303001b0003020002446900050003026832fe"
    "0d005a000001000142002000000000000000000000000000000000000000000000000000000000000000000030000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000dada00"
    "01000015002800000000000000000000000000000000000000000000000000000000000000000000000000000000";
const Bytes kTlsCrafted = hex("16030101a9" + kCraftedHs);
// The same message in three records of 61, 139 and 225 bytes (record version 0x0303).
const Bytes kTlsCrafted3 = cat(cat(hex("160303003d" + kCraftedHs.substr(0, 122)),
                                   hex("160303008b" + kCraftedHs.substr(122, 278))),
                               hex("16030300e1" + kCraftedHs.substr(400)));
// By hand: a TLS 1.0 ClientHello with no extensions block at all (RFC 5246 §7.4.1.2).
const Bytes kTlsNoExt = hex(
    "160301002d010000290301000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f000002002f0100");
// clang-format on

}  // namespace

TEST_CASE("extract: ClientHellos of real programs and by hand", "[extract]") {
  struct Case {
    const char* name;
    const Bytes& bytes;
    std::string_view sni, alpn_first, alpn_all;
    std::uint16_t record_version, hello_version;
    bool tls13;
  };
  const Case cases[] = {
      {"pcap frame 4", kTlsPcap, "api.openai.com", "", "", 0x0301, 0x0303, true},
      {"openssl alpn", kTlsOpensslAlpn, "mcp.example.com", "h2", "h2,http/1.1", 0x0301, 0x0303,
       true},
      {"openssl tls1.2", kTlsOpenssl12, "api.anthropic.com", "", "", 0x0301, 0x0303, false},
      {"curl", kTlsCurl, "generativelanguage.googleapis.com", "h2", "h2,http/1.1", 0x0301, 0x0303,
       true},
      // alpn_all stops before the first id that would pass 96 bytes (xmpp-server).
      {"split", kTlsSplit, "very-long-host-name-for-splitting.records.example.com", "h2",
       "h2,http/1.1,spdy/3.1,h2c,http/1.0,acme-tls/1,dot,doq,imap,pop3,managesieve,coap,xmpp-client",
       0x0301, 0x0303, true},
      {"crafted", kTlsCrafted, "agent-gateway.example.net", "h2", "h2,http/1.1", 0x0301, 0x0303,
       true},
      {"crafted 3 records", kTlsCrafted3, "agent-gateway.example.net", "h2", "h2,http/1.1", 0x0303,
       0x0303, true},
      {"no extensions", kTlsNoExt, "", "", "", 0x0301, 0x0301, false},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    TlsClientHello h;
    REQUIRE(tls(c.bytes, h) == Extract::kOk);
    CHECK(h.sni.view() == c.sni);
    CHECK(h.alpn_first.view() == c.alpn_first);
    CHECK(h.alpn_all.view() == c.alpn_all);
    CHECK(h.record_version == c.record_version);
    CHECK(h.hello_version == c.hello_version);
    CHECK(h.tls13 == c.tls13);
    // Every strict prefix (each ends before the message does) waits for more, at every byte.
    for (std::size_t n = 0; n < c.bytes.size(); ++n) {
      TlsClientHello p;
      const Extract r = tls(c.bytes, p, n);
      if (r != Extract::kNeedMore)
        FAIL("prefix of " << n << " bytes gave " << Catch::StringMaker<Extract>::convert(r));
    }
    // Bytes after the message (the next flight) change nothing.
    TlsClientHello more;
    REQUIRE(tls(cat(c.bytes, hex("1403030001011703030005")), more) == Extract::kOk);
    CHECK(more.sni.view() == c.sni);
  }
}

TEST_CASE("extract: GREASE and version fields of the crafted ClientHello", "[extract]") {
  TlsClientHello h;
  // supported_versions {GREASE, 0x0303, 0x0302}: no TLS 1.3.
  REQUIRE(tls(patch(kTlsCrafted, "002b0007069a9a03040303", "002b0007069a9a03030302"), h) ==
          Extract::kOk);
  CHECK_FALSE(h.tls13);
  // An ALPN list of GREASE ids only (RFC 8701 §2: {0x3A,0x3A}, {0xFA,0xFA}, ...) names nothing.
  REQUIRE(
      tls(patch(kTlsCrafted, "023a3a02683208687474702f312e31", "023a3a02fafa020a0a021a1a022a2a"),
          h) == Extract::kOk);
  CHECK(h.alpn_first.empty());
  CHECK(h.alpn_all.empty());
  CHECK(h.tls13);
  // 0x3A3B (two different bytes) is not GREASE: ":;" is an ALPN id like any other.
  REQUIRE(tls(patch(kTlsCrafted, "023a3a026832", "023a3b026832"), h) == Extract::kOk);
  CHECK(h.alpn_first.view() == ":;");
  CHECK(h.alpn_all.view() == ":;,h2,http/1.1");
}

TEST_CASE("extract: inconsistent ClientHellos are refused", "[extract]") {
  // The crafted hello's padding extension (type 21, 40 zero bytes), and a server_name extension
  // body of the same size (list of one host_name "duplicate-server-name.example.testx").
  const std::string kPadding = "00150028" + std::string(80, '0');
  const std::string kSecondSni =
      "002800260000236475706c69636174652d7365727665722d6e616d652e6578616d706c652e7465737478";
  struct Case {
    const char* name;
    Bytes bytes;
  };
  const Case cases[] = {
      {"host name past its list", patch(kTlsPcap, "00000013001100000e", "00000013001100000f")},
      {"list shorter than extension", patch(kTlsPcap, "00000013001100000e", "00000013001000000e")},
      {"extensions past the message", patch(kTlsPcap, "010000b0", "010000b1")},
      {"session id of 33 bytes", patch(kTlsPcap, "200d1427d3", "210d1427d3")},
      {"ServerHello", patch(kTlsPcap, "160301013b01", "160301013b02")},
      {"legacy_version 2.1", patch(kTlsNoExt, "010000290301", "010000290201")},
      {"no compression method", patch(kTlsNoExt, "002f0100", "002f0000")},
      {"extensions length cut",
       cat(patch(kTlsNoExt, "160301002d01000029", "160301002e0100002a"), hex("00"))},
      {"bytes after extensions",
       cat(patch(kTlsPcap, "160301013b01000137", "160301013d01000139"), hex("0000"))},
      {"odd supported_versions",
       patch(kTlsCrafted, "002b0007069a9a03040303", "002b0007059a9a03040303")},
      {"ALPN list past extension", patch(kTlsCrafted, "00100011000f023a3a", "001000110010023a3a")},
      {"empty ALPN id", patch(kTlsCrafted, "000f023a3a", "000f003a3a")},
      // The padding extension turned into a second (well-formed) server_name: RFC 8446 §4.2.
      {"two server_name extensions", patch(kTlsCrafted, kPadding, "0000" + kSecondSni)},
      {"record type 23 between fragments", patch(kTlsCrafted3, "160303008b", "170303008b")},
      {"record version 3.5", patch(kTlsPcap, "160301013b", "160305013b")},
      {"record version 3.0", patch(kTlsPcap, "160301013b", "160300013b")},
      {"empty record", hex("1603010000")},
      {"record over 2^14", hex("160301400101")},
      {"handshake over 16 KiB", hex("160301000401010000")},
      {"HTTP", text("GET / HTTP/1.1\r\n")},
      {"SSH", text("SSH-2.0-OpenSSH_9.2p1\r\n")},
      {"h2 preface", text("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")},
      {"SSLv2 hello", hex("802e0103010015")},
      {"application data", hex("17")},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK(tls(c.bytes) == Extract::kNo);
  }
  // The duplicate-SNI patch is well-formed otherwise: as padding (type 21) it is accepted.
  CHECK(tls(patch(kTlsCrafted, kPadding, "0015" + kSecondSni)) == Extract::kOk);
  // Too little to tell: wait.
  for (const char* h : {"16", "1603", "160301", "16030100", "1603010200", "160301020001"}) {
    INFO(h);
    CHECK(tls(hex(h)) == Extract::kNeedMore);
  }
}

// ---- HTTP/1.x ----------------------------------------------------------------------------------

namespace {

// clang-format off
// curl 7.88: curl -H 'Host: API.OpenAI.com' http://.../v1/models?limit=5
const Bytes kCurlGet = text(
    "GET /v1/models?limit=5 HTTP/1.1\r\n"
    "Host: API.OpenAI.com\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n");
// tests/data/curl_http.pcap frame 16.
const Bytes kCurlPost = text(
    "POST /v1/chat/completions HTTP/1.1\r\n"
    "Host: 10.99.0.2:8080\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 65\r\n"
    "\r\n"
    "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
// curl -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' --data-binary @body
const Bytes kCurlChunked = text(
    "POST /mcp HTTP/1.1\r\n"
    "Host: 127.0.0.1:24442\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Content-Type: application/json\r\n"
    "\r\n"
    "6b\r\n"
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}}\r\n"
    "0\r\n"
    "\r\n");
// Python 3.11 http.client, MCP Streamable HTTP (spec 2025-03-26, "Sending Messages to the Server").
const Bytes kPyMcp = text(
    "POST /mcp HTTP/1.1\r\n"
    "Accept-Encoding: identity\r\n"
    "Content-Length: 178\r\n"
    "Host: mcp.example.com:8443\r\n"
    "Content-Type: application/json\r\n"
    "Accept: application/json, text/event-stream\r\n"
    "Mcp-Session-Id: 1868a90c-3a6e-4d8e-a5c3-5e5a2d1b0f7e\r\n"
    "\r\n"
    "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"initialize\", \"params\": {\"protocolVersion\": \"2025-03-26\", \"capabilities\": {}, \"clientInfo\": {\"name\": \"example-client\", \"version\": \"1.0.0\"}}}");
// Python http.client, encode_chunked=True with two body parts: note the upper-case "2F".
const Bytes kPyChunked = text(
    "POST /rpc HTTP/1.1\r\n"
    "Host: 127.0.0.1:24444\r\n"
    "Accept-Encoding: identity\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Content-Type: application/json\r\n"
    "\r\n"
    "38\r\n"
    "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},\r\n"
    "2F\r\n"
    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}]\r\n"
    "0\r\n"
    "\r\n");
// RFC 6455 §1.2, the client handshake.
const Bytes kWebSocket = text(
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n");
// Python http.server answering a Streamable HTTP POST with an SSE stream.
const Bytes kSseResponse = text(
    "HTTP/1.1 200 OK\r\n"
    "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
    "Date: Wed, 25 Nov 2026 15:54:56 GMT\r\n"
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-cache\r\n"
    "Mcp-Session-Id: 1868a90c-3a6e-4d8e-a5c3-5e5a2d1b0f7e\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "3b\r\n"
    "event: message\n"
    "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
    "\n"
    "\r\n"
    "0\r\n"
    "\r\n");
// tests/data/curl_http.pcap frame 6 (Python http.server, HTTP/1.0).
const Bytes kJsonResponse = text(
    "HTTP/1.0 200 OK\r\n"
    "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
    "Date: Wed, 25 Nov 2026 15:23:44 GMT\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 40\r\n"
    "\r\n");
// clang-format on

std::size_t head_end(const Bytes& v) {
  const std::string_view s(reinterpret_cast<const char*>(v.data()), v.size());
  return s.find("\r\n\r\n") + 4;
}

Bytes body_of(const Bytes& v) {
  return Bytes(v.begin() + static_cast<std::ptrdiff_t>(head_end(v)), v.end());
}

}  // namespace

TEST_CASE("extract: HTTP requests of curl and Python", "[extract]") {
  HttpRequest r;
  REQUIRE(req(kCurlGet, r) == Extract::kOk);
  CHECK(r.method.view() == "GET");
  CHECK(r.target.view() == "/v1/models?limit=5");
  CHECK(r.host.view() == "api.openai.com");
  CHECK(r.content_type.empty());
  CHECK(r.content_length == -1);
  CHECK_FALSE(r.chunked);
  CHECK_FALSE(r.mcp_session);
  CHECK_FALSE(r.upgrade_websocket);
  CHECK(r.body_offset == kCurlGet.size());

  REQUIRE(req(kCurlPost, r) == Extract::kOk);
  CHECK(r.method.view() == "POST");
  CHECK(r.target.view() == "/v1/chat/completions");
  CHECK(r.host.view() == "10.99.0.2:8080");
  CHECK(r.content_type.view() == "application/json");
  CHECK(r.content_length == 65);
  CHECK(r.body_offset == kCurlPost.size() - 65);

  REQUIRE(req(kCurlChunked, r) == Extract::kOk);
  CHECK(r.chunked);
  CHECK(r.content_length == -1);
  CHECK(r.body_offset == head_end(kCurlChunked));

  REQUIRE(req(kPyMcp, r) == Extract::kOk);
  CHECK(r.host.view() == "mcp.example.com:8443");
  CHECK(r.mcp_session);
  CHECK(r.content_length == 178);
  CHECK(r.body_offset == kPyMcp.size() - 178);

  REQUIRE(req(kPyChunked, r) == Extract::kOk);
  CHECK(r.target.view() == "/rpc");
  CHECK(r.chunked);

  REQUIRE(req(kWebSocket, r) == Extract::kOk);
  CHECK(r.upgrade_websocket);
  CHECK(r.host.view() == "server.example.com");

  // Every prefix that ends before the blank line waits; from there on the answer is the same.
  for (const Bytes* v : {&kCurlGet, &kCurlPost, &kCurlChunked, &kPyMcp, &kPyChunked, &kWebSocket}) {
    HttpRequest full, p;
    REQUIRE(req(*v, full) == Extract::kOk);
    for (std::size_t n = 0; n < v->size(); ++n) {
      const Extract e = req(*v, p, n);
      if (n < head_end(*v)) {
        if (e != Extract::kNeedMore)
          FAIL("prefix " << n << " gave " << Catch::StringMaker<Extract>::convert(e));
      } else {
        REQUIRE(e == Extract::kOk);
        REQUIRE(p.body_offset == full.body_offset);
        REQUIRE(p.host.view() == full.host.view());
      }
    }
  }
}

TEST_CASE("extract: HTTP request header rules", "[extract]") {
  HttpRequest r;
  // Browsers send "Connection: keep-alive, Upgrade"; tokens are case-insensitive (RFC 6455 §4.1).
  REQUIRE(req(text("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n"
                   "Upgrade: WebSocket\r\n\r\n"),
              r) == Extract::kOk);
  CHECK(r.upgrade_websocket);
  REQUIRE(req(text("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n"), r) ==
          Extract::kOk);
  CHECK_FALSE(r.upgrade_websocket);  // no Connection: upgrade
  REQUIRE(req(text("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                   "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"),
              r) == Extract::kOk);
  CHECK_FALSE(r.upgrade_websocket);
  // Transfer-Encoding: only a final "chunked" counts (RFC 9112 §6.1), across lines too.
  REQUIRE(req(text("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"), r) ==
          Extract::kOk);
  CHECK(r.chunked);
  REQUIRE(req(text("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), r) ==
          Extract::kOk);
  CHECK_FALSE(r.chunked);
  REQUIRE(
      req(text("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"),
          r) == Extract::kOk);
  CHECK(r.chunked);
  // Content-Length: a list of identical values is one value (RFC 9110 §8.6).
  REQUIRE(req(text("POST / HTTP/1.1\r\nContent-Length: 12, 12\r\nContent-Length: 12\r\n\r\n"), r) ==
          Extract::kOk);
  CHECK(r.content_length == 12);
  // Content-Type lower-cased with its parameters; bare LF line ends; OWS trimmed; obs-fold lines.
  const Bytes lf = text(
      "PUT /x HTTP/1.0\nHOST:\tExample.ORG \ncontent-TYPE: Application/JSON; Charset=UTF-8\n"
      "X-Folded: a\n  b\nMCP-SESSION-ID: 1\n\n{}");
  REQUIRE(req(lf, r) == Extract::kOk);
  CHECK(r.method.view() == "PUT");
  CHECK(r.host.view() == "example.org");
  CHECK(r.content_type.view() == "application/json; charset=utf-8");
  CHECK(r.mcp_session);
  CHECK(r.body_offset == lf.size() - 2);  // the body is "{}"
  // A 300-byte target is stored truncated to the field size.
  REQUIRE(req(text("GET /" + std::string(299, 'a') + " HTTP/1.1\r\n\r\n"), r) == Extract::kOk);
  CHECK(r.target.len == sizeof(r.target.data));
  CHECK(r.body_offset == 4 + 300 + 11 + 2);
}

TEST_CASE("extract: malformed or foreign HTTP requests are refused", "[extract]") {
  const std::string big_head = "GET / HTTP/1.1\r\nX-Long: " + std::string(8192, 'a');
  struct Case {
    const char* name;
    Bytes bytes;
    Extract want;
  };
  const Case cases[] = {
      {"TLS record", kTlsPcap, Extract::kNo},
      {"h2 preface", text("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Extract::kNo},
      {"SSH banner", text("SSH-2.0-OpenSSH_9.2p1\r\n"), Extract::kNo},
      {"JSON", text("{\"method\":\"x\"}"), Extract::kNo},
      {"binary", hex("00ff00ff"), Extract::kNo},
      {"HTTP/2.0 request line", text("GET / HTTP/2.0\r\n\r\n"), Extract::kNo},
      {"HTTP/1.x without digit", text("GET / HTTP/1.x\r\n\r\n"), Extract::kNo},
      {"two spaces", text("GET  / HTTP/1.1\r\n\r\n"), Extract::kNo},
      {"control in target", text("GET /\x01 HTTP/1.1\r\n\r\n"), Extract::kNo},
      {"method of 25 bytes", text(std::string(25, 'A') + " / HTTP/1.1\r\n\r\n"), Extract::kNo},
      {"text after version", text("GET / HTTP/1.1 x\r\n\r\n"), Extract::kNo},
      {"two Host lines", text("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), Extract::kNo},
      {"space before colon", text("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), Extract::kNo},
      {"no colon", text("GET / HTTP/1.1\r\nHost a\r\n\r\n"), Extract::kNo},
      {"conflicting Content-Length", text("GET / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n"),
       Extract::kNo},
      {"negative Content-Length", text("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
       Extract::kNo},
      {"huge Content-Length",
       text("GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"), Extract::kNo},
      {"NUL in value", text(std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 27)), Extract::kNo},
      {"bare CR", text("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n"), Extract::kNo},
      {"fold before first field", text("GET / HTTP/1.1\r\n X: a\r\n\r\n"), Extract::kNo},
      {"head past 8 KiB", text(big_head), Extract::kNo},
      {"head growing under 8 KiB", text(big_head.substr(0, 8191)), Extract::kNeedMore},
      {"empty", Bytes{}, Extract::kNeedMore},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK(req(c.bytes) == c.want);
  }
}

TEST_CASE("extract: HTTP responses", "[extract]") {
  HttpResponse r;
  REQUIRE(resp(kSseResponse, r) == Extract::kOk);
  CHECK(r.status == 200);
  CHECK(r.content_type.view() == "text/event-stream");
  CHECK(r.mcp_session);
  CHECK(r.body_offset == head_end(kSseResponse));
  REQUIRE(resp(kJsonResponse, r) == Extract::kOk);
  CHECK(r.status == 200);
  CHECK(r.content_type.view() == "application/json");
  CHECK_FALSE(r.mcp_session);
  CHECK(r.body_offset == kJsonResponse.size());
  // RFC 6455 §1.2 server handshake; a status line without reason phrase.
  REQUIRE(
      resp(text("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGJzzhZRbK+xOo=\r\n\r\n"),
           r) == Extract::kOk);
  CHECK(r.status == 101);
  REQUIRE(resp(text("HTTP/1.1 204\r\n\r\n"), r) == Extract::kOk);
  CHECK(r.status == 204);
  CHECK(r.body_offset == 16);
  for (std::size_t n = 0; n < head_end(kSseResponse); ++n) {
    const Bytes p(kSseResponse.begin(), kSseResponse.begin() + static_cast<std::ptrdiff_t>(n));
    if (resp(p) != Extract::kNeedMore) FAIL("prefix " << n);
  }
  for (const char* bad : {"HTTP/1.1 20x OK\r\n\r\n", "HTTP/2 200\r\n\r\n", "HTTP/1.1 2000\r\n\r\n",
                          "HTTP/1.1  200 OK\r\n\r\n", "HTTP/1.1 200 O\x01K\r\n\r\n",
                          "SSH-2.0-x\r\n", "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1\r\n\r\n"}) {
    INFO(bad);
    CHECK(resp(text(bad)) == Extract::kNo);
  }
  CHECK(resp(kTlsPcap) == Extract::kNo);
}

// ---- JSON-RPC ----------------------------------------------------------------------------------

namespace {

// MCP specification 2025-03-26, lifecycle: the initialize request as printed there.
constexpr std::string_view kMcpInitialize = R"({
  "jsonrpc": "2.0",
  "id": 1,
  "method": "initialize",
  "params": {
    "protocolVersion": "2024-11-05",
    "capabilities": {
      "roots": {
        "listChanged": true
      },
      "sampling": {}
    },
    "clientInfo": {
      "name": "ExampleClient",
      "version": "1.0.0"
    }
  }
})";
// JSON-RPC 2.0 specification §7, "rpc call Batch".
constexpr std::string_view kSpecBatch = R"([
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ])";

// Chunked framing (RFC 9112 §7.1) of `parts`, each "ext" put after the size.
std::string chunked(std::initializer_list<std::string_view> parts, std::string_view ext = "") {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const std::string_view p : parts) {
    std::string size;
    for (std::size_t n = p.size(); n != 0; n >>= 4) size.insert(size.begin(), kHex[n & 15]);
    out += size + std::string(ext) + "\r\n" + std::string(p) + "\r\n";
  }
  return out + "0\r\n\r\n";
}

}  // namespace

TEST_CASE("extract: JSON-RPC methods of MCP and the JSON-RPC 2.0 specification", "[extract]") {
  struct Case {
    std::string_view body;
    std::string_view method;
    bool batch, jsonrpc2;
  };
  const Case cases[] = {
      {kMcpInitialize, "initialize", false, true},
      {R"({"jsonrpc": "2.0", "method": "notifications/initialized"})", "notifications/initialized",
       false, true},
      {R"({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_weather", "arguments": {"location": "New York"}}})",
       "tools/call", false, true},
      {R"({"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3})",
       "subtract", false, true},
      {kSpecBatch, "sum", true, true},
      // Nested "method" members are not the request's; the top-level one after them is.
      {R"({"jsonrpc":"2.0","id":5,"params":{"method":"nested/no","args":["method"]},"method":"tools/list"})",
       "tools/list", false, true},
      {R"([{"id":1,"params":{"method":"inner"},"method":"outer"}])", "outer", true, false},
      // jsonrpc2 only for "2.0" as a string, seen before the method.
      {R"({"method":"a","jsonrpc":"2.0"})", "a", false, false},
      {R"({"jsonrpc":"1.0","method":"a"})", "a", false, false},
      {R"({"jsonrpc":2.0,"method":"a"})", "a", false, false},
      // JSON escapes are decoded (RFC 8259 §7); whitespace before the value is fine.
      {"\r\n\t {\"\\u006Dethod\":\"tools\\/call\"}", "tools/call", false, false},
      // Early stop: what follows the method is never read, valid or not (JSON-RPC 2.0 §7's
      // "invalid JSON" examples).
      {R"({"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz])", "foobar, ", false, true},
      {R"([{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method")",
       "sum", true, true},
  };
  for (const Case& c : cases) {
    INFO(c.body);
    JsonRpcCall call;
    REQUIRE(rpc(text(c.body), call) == Extract::kOk);
    CHECK(call.method.view() == c.method);
    CHECK(call.batch == c.batch);
    CHECK(call.jsonrpc2 == c.jsonrpc2);
  }
  JsonRpcCall call;
  REQUIRE(rpc(text(R"({"method":")" + std::string(100, 'm') + "\"}"), call) == Extract::kOk);
  CHECK(call.method.view() == std::string(64, 'm'));
  // Deep nesting before the method: the SAX parser does not recurse.
  REQUIRE(rpc(text(R"({"params":)" + std::string(5000, '[') + std::string(5000, ']') +
                   R"(,"method":"deep"})"),
              call) == Extract::kOk);
  CHECK(call.method.view() == "deep");
}

TEST_CASE("extract: JSON bodies without a JSON-RPC method are refused", "[extract]") {
  for (const std::string_view body :
       {R"({"jsonrpc": "2.0", "method": 1, "params": "bar"})",  // §7: invalid Request
        R"({"jsonrpc": "2.0", "result": 19, "id": 1})",         // a response
        R"({"jsonrpc":"2.0","id":6,"params":{"method":"nested/only"}})",
        R"({"jsonrpc":"2.0","id":7,"result":{"text":"{\"method\":\"tools/call\"}"}})",
        R"({"note":"\"method\":\"tools/call\"","jsonrpc":"2.0"})",
        R"({"method":{"name":"x"}})",
        R"({"method":["x"]})",
        R"({"method":null})",
        R"([])",
        R"([1,2,3])",
        R"([[{"method":"x"}]])",
        R"(["method","x"])",
        R"([{"id":1,"result":0},{"jsonrpc":"2.0","method":"second"}])",
        R"({"method" "x"})",
        R"({"method":"x)"
        "\x01"
        R"("})",
        "method=tools/call",
        R"("method")",
        "\xef\xbb\xbf{\"method\":\"x\"}",
        // The offending byte is the last one: refused now, not "wait for more".
        R"({"method"x)",
        R"({"a"6)",
        "<html>",
        "{\"a\":1} {\"method\":\"x\"}"}) {
    INFO(body);
    CHECK(rpc(body) == Extract::kNo);
  }
}

TEST_CASE("extract: truncated JSON-RPC bodies", "[extract]") {
  // Before the method's closing quote: wait; from it on: the method, whatever follows.
  struct Case {
    std::string_view body, through;
  };
  const Case cases[] = {
      {kMcpInitialize, R"("method": "initialize")"},
      {kSpecBatch, R"("method": "sum")"},
      {R"({"jsonrpc":"2.0","id":5,"params":{"method":"nested/no","n":-1.5e3,"t":true},"method":"x"})",
       R"("method":"x")"},
  };
  for (const Case& c : cases) {
    const std::size_t end = c.body.find(c.through) + c.through.size();
    JsonRpcCall call;
    for (std::size_t n = 0; n <= c.body.size(); ++n) {
      const Extract e = rpc(text(c.body), call, false, n);
      if (e != (n < end ? Extract::kNeedMore : Extract::kOk)) FAIL(c.body.substr(0, n));
    }
  }
  CHECK(rpc(" \r\n\t") == Extract::kNeedMore);
  CHECK(rpc("") == Extract::kNeedMore);
  // The scan stops at 64 KiB.
  const std::string long_params = R"({"params":")" + std::string(70000, 'p');
  CHECK(rpc(std::string_view(long_params).substr(0, 60000)) == Extract::kNeedMore);
  CHECK(rpc(long_params) == Extract::kNo);
}

TEST_CASE("extract: JSON-RPC in chunked bodies", "[extract]") {
  JsonRpcCall call;
  REQUIRE(rpc(body_of(kCurlChunked), call, true) == Extract::kOk);
  CHECK(call.method.view() == "tools/call");
  CHECK(call.jsonrpc2);
  REQUIRE(rpc(body_of(kPyChunked), call, true) == Extract::kOk);
  CHECK(call.method.view() == "notifications/initialized");
  CHECK(call.batch);
  REQUIRE(rpc(body_of(kPyMcp), call) == Extract::kOk);
  CHECK(call.method.view() == "initialize");
  CHECK(rpc(body_of(kCurlPost), call) == Extract::kNo);  // OpenAI chat body: no "method"

  // One byte per chunk, with chunk extensions; bare LF line ends.
  REQUIRE(rpc(text(chunked({"{", "\"", "method", "\"", ":", "\"x\"", "}"}, ";ext=\"v\"")), call,
              true) == Extract::kOk);
  CHECK(call.method.view() == "x");
  REQUIRE(rpc(text("5\n{\"met\n9\nhod\":\"y\"}\n0\n\n"), call, true) == Extract::kOk);
  CHECK(call.method.view() == "y");

  // Every prefix of a chunked body before the method's closing quote waits.
  const Bytes framed = body_of(kPyChunked);
  const std::string_view fs(reinterpret_cast<const char*>(framed.data()), framed.size());
  const std::size_t end = fs.find("initialized\"") + 12;
  for (std::size_t n = 0; n <= framed.size(); ++n) {
    if (rpc(framed, call, true, n) != (n < end ? Extract::kNeedMore : Extract::kOk)) FAIL(n);
  }

  CHECK(rpc("zz\r\n{}\r\n0\r\n\r\n", true) == Extract::kNo);            // not a chunk size
  CHECK(rpc("2\r\n{}X\r\n0\r\n\r\n", true) == Extract::kNo);            // no CRLF after the data
  CHECK(rpc(chunked({R"({"jsonrpc":"2.0",)"}), true) == Extract::kNo);  // body over, no method
  CHECK(rpc(chunked({"[]"}), true) == Extract::kNo);
  CHECK(rpc("1234567890abcdef0\r\n{", true) == Extract::kNo);  // size past 15 hex digits
  // Chunk sizes are HEXDIG (RFC 9112 §7.1), either case: ABNF strings are case-insensitive
  // (RFC 5234 §2.3).
  REQUIRE(rpc(text("1E\r\n{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\r\n0\r\n\r\n"), call, true) ==
          Extract::kOk);
  CHECK(call.method.view() == "x");
  CHECK(rpc("1a", true) == Extract::kNeedMore);
  CHECK(rpc("1a;ext", true) == Extract::kNeedMore);
  CHECK(rpc("1a\r", true) == Extract::kNeedMore);
  CHECK(rpc("1a\r\n{\"met", true) == Extract::kNeedMore);
  // De-chunked bytes stop at 4 KiB: a method beyond them is never found.
  const std::string pad = std::string(5000, ' ');
  CHECK(rpc(chunked({"{" + pad + R"("method":"late"})"}), true) == Extract::kNo);
  REQUIRE(rpc(text(chunked({std::string(4000, ' ') + R"({"method":"early"})" + pad})), call,
              true) == Extract::kOk);
  CHECK(call.method.view() == "early");
}

// ---- HTTP/2 ------------------------------------------------------------------------------------

namespace {

// clang-format off
// nghttp -v 'http://[::1]:24461/v1/models?x=1' (HEADERS with PRIORITY, after 5 PRIORITY frames).
const Bytes kH2NghttpGet = hex(
    "505249202a20485454502f322e300d0a0d0a534d0d0a0d0a00000c04000000000000030000006400040000ffff000005"
    "02000000000300000000c800000502000000000500000000640000050200000000070000000000000005020000000009"
    "000000070000000502000000000b000000030000003201250000000d0000000b0f82048b63b858a4f216847f9e600f86"
    "418affddcb81ffe5c134d38153032a2f2a907a8aaa69d29ac4c0576c4b83000000040100000000000008070000000000"
    "0000000000000000");
// nghttp -d body.json -H 'content-type: application/json' -H ':authority: MCP.Example.com'
// (a dynamic table size update first, SETTINGS ACK before the request).
const Bytes kH2NghttpPost = hex(
    "505249202a20485454502f322e300d0a0d0a534d0d0a0d0a00000c04000000000000030000006400040000ffff000000"
    "04010000000000000502000000000300000000c800000502000000000500000000640000050200000000070000000000"
    "000005020000000009000000070000000502000000000b000000030000004101240000000d0000000b0f3fe11f830483"
    "62925786418cd17b5af83c8e9ae82ae43d3f53032a2f2a907a8aaa69d29ac4c0576c4b830f0d82081d5f8b1d75d0620d"
    "263d4c7441ea00006b00010000000d7b226a736f6e727063223a22322e30222c226964223a372c226d6574686f64223a"
    "22746f6f6c732f63616c6c222c22706172616d73223a7b226e616d65223a226765745f77656174686572222c22617267"
    "756d656e7473223a7b2263697479223a225061726973227d7d7d0000080700000000000000000000000000");
// curl --http2-prior-knowledge --data-binary @body.json http://[::1]:24463/v1/chat/completions
const Bytes kH2CurlPost = hex(
    "505249202a20485454502f322e300d0a0d0a534d0d0a0d0a000012040000000000000300000064000402000000000200"
    "00000000000408000000000001ff000100004001040000000183048e63b85824e34b043d35d05498f52386410b5b3a3a"
    "315d3a32343436337a8825b650c3abbcf2e153032a2f2a5f8b1d75d0620d263d4c7441ea0f0d82081d00006b00010000"
    "00017b226a736f6e727063223a22322e30222c226964223a372c226d6574686f64223a22746f6f6c732f63616c6c222c"
    "22706172616d73223a7b226e616d65223a226765745f77656174686572222c22617267756d656e7473223a7b22636974"
    "79223a225061726973227d7d7d000000040100000000");
// python3-hyperframe + python3-hpack (Huffman): SETTINGS, WINDOW_UPDATE, unknown type 0xfa, PING,
// PRIORITY, then HEADERS (PADDED|PRIORITY, pad 7) + 2 CONTINUATION; "x-trace" twice, the second
// from the dynamic table.
const Bytes kH2Crafted = hex(
    "505249202a20485454502f322e300d0a0d0a534d0d0a0d0a00000c040000000000000200000000000400100000000004"
    "08000000000000ef0001000011fa0000000000756e6b6e6f776e2d657874656e73696f6e000008060000000000313233"
    "343536373800000502000000000300000000c80000170128000000010700000003108387418e8662d4942f8300000000"
    "00000000000f090000000001c8e9ae82afab6e2f449360621b091a0000440904000000013aa18416a93fc4150831ea81"
    "a17f4085f2b26c190b841c640899be5f961d75d0620d263d4c7441eafb50938ec415305a99567b7a8fafd2673d4b4e25"
    "8960e54964602b830000310001000000017b226a736f6e727063223a22322e30222c226964223a227431222c226d6574"
    "686f64223a227461736b732f73656e64227d");
// clang-format on

const Bytes kPreface = text("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
// RFC 7541 C.4.1, first request with Huffman: GET http / www.example.com.
const Bytes kRfc7541C41 = hex("828684418cf1e3c2e5f23a6ba0ab90f4ff");

// One frame, RFC 9113 §4.1: length(24) type(8) flags(8) R+stream(32), payload. (Built in a string:
// GCC 12 -O3 warns falsely on inserting into a vector made from a short initializer list.)
Bytes frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream, const Bytes& payload) {
  const std::size_t n = payload.size();
  std::string f;
  for (const unsigned v :
       {unsigned(n >> 16), unsigned(n >> 8), unsigned(n), unsigned(type), unsigned(flags),
        unsigned(stream >> 24), unsigned(stream >> 16), unsigned(stream >> 8), unsigned(stream)}) {
    f.push_back(static_cast<char>(v & 0xff));
  }
  return cat(text(f), payload);
}
constexpr std::uint8_t kHeaders = 1, kEndHeaders = 4;
const Bytes kSettings = frame(4, 0, 0, {});

// preface + empty SETTINGS + HEADERS(END_HEADERS) on stream 1 with `block`.
Bytes h2_request(const Bytes& block) {
  return cat(cat(kPreface, kSettings), frame(kHeaders, kEndHeaders, 1, block));
}

// HPACK literal without indexing, new name (RFC 7541 §6.2.2), raw strings under 127 bytes.
Bytes literal(std::string_view name, std::string_view value, std::uint8_t first = 0x00) {
  std::string b;
  b.push_back(static_cast<char>(first));
  b.push_back(static_cast<char>(name.size()));
  b += name;
  b.push_back(static_cast<char>(value.size()));
  b += value;
  return text(b);
}

}  // namespace

TEST_CASE("extract: HTTP/2 requests of nghttp, curl and python-h2", "[extract]") {
  struct Case {
    const char* name;
    const Bytes bytes;
    std::size_t headers_end;  // where the END_HEADERS frame ends (python3-hyperframe)
    std::string_view method, path, authority, content_type;
  };
  const Case cases[] = {
      {"nghttp GET", kH2NghttpGet, 174, "GET", "/v1/models?x=1", "[::1]:24461", ""},
      {"nghttp POST", kH2NghttpPost, 198, "POST", "/mcp", "mcp.example.com", "application/json"},
      {"curl POST", kH2CurlPost, 137, "POST", "/v1/chat/completions", "[::1]:24463",
       "application/json"},
      {"crafted", kH2Crafted, 248, "POST", "/a2a/tasks/send?session=42", "agents.example.org",
       "application/json; charset=utf-8"},
      {"RFC 7541 C.4.1", h2_request(kRfc7541C41), 24 + 9 + 9 + 17, "GET", "/", "www.example.com",
       ""},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    H2Request r;
    REQUIRE(h2(c.bytes, r) == Extract::kOk);
    CHECK(r.method.view() == c.method);
    CHECK(r.path.view() == c.path);
    CHECK(r.authority.view() == c.authority);
    CHECK(r.content_type.view() == c.content_type);
    for (std::size_t n = 0; n <= c.bytes.size(); ++n) {
      H2Request p;
      const Extract e = h2(c.bytes, p, n);
      if (e != (n < c.headers_end ? Extract::kNeedMore : Extract::kOk)) FAIL("prefix " << n);
      if (e == Extract::kOk && p.path.view() != c.path) FAIL("prefix " << n);
    }
  }
}

TEST_CASE("extract: HTTP/2 header blocks at the limits", "[extract]") {
  H2Request r;
  // A 10000-byte :path, raw then Huffman-coded ('a' = 00011, RFC 7541 Appendix B), lengths as
  // RFC 7541 §5.1 prefixed integers: stored truncated to the field size.
  Bytes raw = hex("82047f914d");
  raw.insert(raw.end(), 10000, 'a');
  Bytes huff = hex("8204ffeb2f");
  for (int i = 0; i < 1250; ++i) huff = cat(huff, hex("18c6318c63"));
  for (const Bytes* block : {&raw, &huff}) {
    REQUIRE(h2(h2_request(*block), r) == Extract::kOk);
    CHECK(r.method.view() == "GET");
    CHECK(r.path.view() == std::string(256, 'a'));
  }
  // 120 literals with incremental indexing (RFC 7541 §6.2.1), 120 bytes each: the 4096-byte
  // dynamic table evicts all along; host stands in for :authority.
  Bytes many = cat(hex("83"), literal("host", "Many.Example"));
  for (int i = 0; i < 120; ++i)
    many = cat(many, literal("x-h" + std::to_string(i), std::string(110, 'v'), 0x40));
  many = cat(many, literal("content-type", "text/plain"));
  REQUIRE(many.size() <= 16384);
  REQUIRE(h2(h2_request(many), r) == Extract::kOk);
  CHECK(r.method.view() == "POST");
  CHECK(r.authority.view() == "many.example");
  CHECK(r.content_type.view() == "text/plain");
  // 16 KiB of header block is the most: 16384 and 16385 indexed :method fields (0x82), the
  // latter over HEADERS + CONTINUATION.
  const Bytes gets(16385, 0x82);
  const auto split = [&](std::size_t n) {
    const Bytes head(gets.begin(), gets.begin() + 16384),
        tail(gets.begin() + 16384, gets.begin() + static_cast<std::ptrdiff_t>(n));
    return cat(cat(cat(kPreface, kSettings), frame(kHeaders, 0, 1, head)),
               frame(9, kEndHeaders, 1, tail));
  };
  CHECK(h2(split(16384)) == Extract::kOk);
  CHECK(h2(split(16385)) == Extract::kNo);
}

TEST_CASE("extract: malformed or foreign HTTP/2 streams are refused", "[extract]") {
  const Bytes settings_headers = cat(kPreface, kSettings);
  // SETTINGS and `n` WINDOW_UPDATE frames, then the request.
  const auto with_frames_before = [&](int n) {
    Bytes b = settings_headers;
    for (int i = 0; i < n; ++i) b = cat(b, frame(8, 0, 0, hex("00000001")));
    return cat(b, frame(kHeaders, kEndHeaders, 1, kRfc7541C41));
  };
  // ":method GET" in a HEADERS frame, ":path /" in the last of n - 1 CONTINUATION frames.
  const auto with_fragments = [&](int n) {
    Bytes b = cat(settings_headers, frame(kHeaders, 0, 1, hex("82")));
    for (int i = 0; i < n - 2; ++i) b = cat(b, frame(9, 0, 1, {}));
    return cat(b, frame(9, kEndHeaders, 1, hex("84")));
  };
  CHECK(h2(with_frames_before(31)) == Extract::kOk);
  CHECK(h2(with_fragments(16)) == Extract::kOk);
  const Bytes headers_open =
      frame(kHeaders, 0, 1, Bytes(kRfc7541C41.begin(), kRfc7541C41.begin() + 5));
  const Bytes rest = Bytes(kRfc7541C41.begin() + 5, kRfc7541C41.end());
  struct Case {
    const char* name;
    Bytes bytes;
  };
  const Case cases[] = {
      {"HTTP/1.1", text("GET / HTTP/1.1\r\n\r\n")},
      {"TLS", kTlsPcap},
      {"preface typo", text("PRI * HTTP/2.0\r\n\r\nSM\r\n\n")},
      {"HEADERS first", cat(kPreface, frame(kHeaders, kEndHeaders, 1, kRfc7541C41))},
      {"SETTINGS ACK first", cat(kPreface, frame(4, 1, 0, {}))},
      {"SETTINGS of 5 bytes", cat(kPreface, frame(4, 0, 0, Bytes(5, 0)))},
      {"SETTINGS on stream 1", cat(kPreface, frame(4, 0, 1, {}))},
      {"DATA before HEADERS", cat(settings_headers, frame(0, 0, 1, text("{}")))},
      {"GOAWAY", cat(settings_headers, frame(7, 0, 0, Bytes(8, 0)))},
      {"HEADERS on stream 2", cat(settings_headers, frame(kHeaders, kEndHeaders, 2, kRfc7541C41))},
      {"HEADERS on stream 0", cat(settings_headers, frame(kHeaders, kEndHeaders, 0, kRfc7541C41))},
      {"frame over 16 KiB", cat(settings_headers, hex("004001010400000001"))},
      {"PING between HEADERS and CONTINUATION",
       cat(cat(settings_headers, headers_open), frame(6, 0, 0, Bytes(8, 0)))},
      {"CONTINUATION on another stream",
       cat(cat(settings_headers, headers_open), frame(9, kEndHeaders, 3, rest))},
      {"stray CONTINUATION", cat(settings_headers, frame(9, kEndHeaders, 1, kRfc7541C41))},
      {"padding past the payload",
       cat(settings_headers, frame(kHeaders, kEndHeaders | 0x8, 1, cat(hex("12"), kRfc7541C41)))},
      {"PRIORITY fields missing",
       cat(settings_headers, frame(kHeaders, kEndHeaders | 0x20, 1, hex("0000")))},
      {"33 frames before HEADERS", with_frames_before(32)},
      {"17 header fragments", with_fragments(17)},
      // HPACK (checked against python3-hpack, which refuses them too).
      {"index 0", h2_request(hex("80"))},
      {"no :method", h2_request(Bytes(kRfc7541C41.begin() + 1, kRfc7541C41.end()))},
      {"table size update over 4096", h2_request(hex("3fe21f82"))},
      {"Huffman string with EOS", h2_request(hex("820484ffffffff"))},
      {"string past the block", h2_request(hex("8204830000"))},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK(h2(c.bytes) == Extract::kNo);
  }
  // Frames that may precede the request, and a table size update to 4096, are fine.
  CHECK(h2(cat(cat(cat(settings_headers, frame(4, 1, 0, {})), frame(0xfa, 0xff, 7, text("x"))),
               frame(kHeaders, kEndHeaders, 1, cat(hex("3fe11f"), kRfc7541C41)))) == Extract::kOk);
  CHECK(h2(cat(cat(settings_headers, headers_open), frame(9, kEndHeaders, 1, rest))) ==
        Extract::kOk);
  CHECK(h2(Bytes{}) == Extract::kNeedMore);
  CHECK(h2(text("PRI * HT")) == Extract::kNeedMore);
  CHECK(h2(cat(settings_headers, hex("0000110105"))) == Extract::kNeedMore);
}

TEST_CASE("extract: fixed garbage is refused by every extractor", "[extract]") {
  // xorshift64 bytes behind a NUL: no protocol here starts with 0x00.
  std::uint64_t s = 0x9e3779b97f4a7c15u;
  for (int round = 0; round < 200; ++round) {
    Bytes g = {0x00};
    for (int i = 0; i < round * 7; ++i) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      g.push_back(static_cast<std::uint8_t>(s));
    }
    CHECK(tls(g) == Extract::kNo);
    CHECK(req(g) == Extract::kNo);
    CHECK(resp(g) == Extract::kNo);
    CHECK(h2(g) == Extract::kNo);
    JsonRpcCall call;
    CHECK(rpc(g, call) == Extract::kNo);
    CHECK(rpc(g, call, true) == Extract::kNo);
  }
}
