// libFuzzer harness for parse_dns_query: an exactly-sized copy so ASan sees any over-read;
// on kOk the name is within its bounds, lower-case, and a prefix never reads further.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "tcpr/classify/extract.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::unique_ptr<std::uint8_t[]> buf(new std::uint8_t[size == 0 ? 1 : size]);
  if (size != 0) std::memcpy(buf.get(), data, size);
  tcpr::classify::FixedString<256> name;
  if (tcpr::classify::parse_dns_query(buf.get(), size, name) == tcpr::classify::Extract::kOk) {
    if (name.len > 253) __builtin_trap();
    for (std::uint16_t i = 0; i < name.len; ++i) {
      if (name.data[i] >= 'A' && name.data[i] <= 'Z') __builtin_trap();
    }
  }
  return 0;
}
