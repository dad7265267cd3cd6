// libFuzzer harness of the mergeable statistics' readers (tcpr/behavior/mergeable.hpp).
//
// Every deserialize() reads the input twice: as it is, and behind a valid header of its type
// (so the fuzzer reaches the payload checks without guessing the header). Each reads values
// from an exactly-sized heap copy (ASan sees any over-read) until one is rejected. Then:
//   - an accepted value re-serialises to exactly the bytes it consumed (the form is canonical);
//   - a rejection changes neither the span nor the output value;
//   - the merge of all accepted HyperLogLogs is itself accepted (merge keeps registers valid).
// Any violation traps.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "tcpr/behavior/mergeable.hpp"

namespace {

using namespace tcpr::behavior;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

template <class T> std::vector<std::uint8_t> bytes(const T& v) {
  std::vector<std::uint8_t> out;
  serialize(v, out);
  return out;
}

// Non-trivial values, so "left unchanged" is not confused with "reset to zero".
Moments make_sentinel(Moments*) { return Moments{3, 4, 5}; }
template <int D> CovarianceAcc<D> make_sentinel(CovarianceAcc<D>*) {
  CovarianceAcc<D> v;
  v.n = 2;
  v.mean.setConstant(1.5);
  v.comoment.setIdentity();
  return v;
}
template <unsigned P> HyperLogLog<P> make_sentinel(HyperLogLog<P>*) {
  HyperLogLog<P> v;
  for (std::size_t i = 0; i < v.reg.size(); ++i) v.reg[i] = static_cast<std::uint8_t>(i % 7);
  return v;
}
// Built once: per input, only what deserialize touched is compared (keeps exec/s up).
template <class T> const T& sentinel() {
  static const T v = make_sentinel(static_cast<T*>(nullptr));
  return v;
}

bool same(const Moments& a, const Moments& b) {
  return std::memcmp(&a.n, &b.n, 8) == 0 && std::memcmp(&a.mean, &b.mean, 8) == 0 &&
         std::memcmp(&a.m2, &b.m2, 8) == 0;
}
template <int D> bool same(const CovarianceAcc<D>& a, const CovarianceAcc<D>& b) {
  return std::memcmp(&a.n, &b.n, 8) == 0 &&
         std::memcmp(a.mean.data(), b.mean.data(), sizeof(double) * D) == 0 &&
         std::memcmp(a.comoment.data(), b.comoment.data(), sizeof(double) * D * D) == 0;
}
template <unsigned P> bool same(const HyperLogLog<P>& a, const HyperLogLog<P>& b) {
  return a.reg == b.reg;
}

void check_merged(const Moments&) {}
template <int D> void check_merged(const CovarianceAcc<D>&) {}
template <unsigned P> void check_merged(const HyperLogLog<P>& acc) {
  const auto b = bytes(acc);
  std::span<const std::uint8_t> in(b);
  HyperLogLog<P> back;
  check(deserialize(in, back) && in.empty() && back.reg == acc.reg);
}

template <class T> void drive(const std::vector<std::uint8_t>& input) {
  // Exactly sized: a vector's capacity could hide an over-read from ASan.
  const std::size_t size = input.size();
  std::unique_ptr<std::uint8_t[]> buf(new std::uint8_t[size == 0 ? 1 : size]);
  if (size != 0) std::memcpy(buf.get(), input.data(), size);
  std::span<const std::uint8_t> in(buf.get(), size);

  const T& ref = sentinel<T>();
  T acc{};
  bool merged = false;
  for (int i = 0; i < 64; ++i) {
    T v = ref;
    const auto before = in;
    if (!deserialize(in, v)) {
      check(in.data() == before.data() && in.size() == before.size());
      check(same(v, ref));
      break;
    }
    const std::size_t used = before.size() - in.size();
    check(used > 0 && in.data() == before.data() + used);
    const auto again = bytes(v);
    check(again.size() == used && std::memcmp(again.data(), before.data(), used) == 0);
    acc.merge(v);
    merged = true;
  }
  if (merged) check_merged(acc);
}

template <class T> void drive_both(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> raw(data, data + size);
  drive<T>(raw);
  // The same bytes behind this type's own header.
  static const std::vector<std::uint8_t> header = [] {
    auto b = bytes(sentinel<T>());
    b.resize(kWireHeaderSize);
    return b;
  }();
  std::vector<std::uint8_t> with_header = header;
  with_header.insert(with_header.end(), data, data + size);
  drive<T>(with_header);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  drive_both<Moments>(data, size);
  drive_both<CovarianceAcc<1>>(data, size);
  drive_both<CovarianceAcc<3>>(data, size);
  drive_both<CovarianceAcc<16>>(data, size);
  drive_both<HyperLogLog<4>>(data, size);
  drive_both<HyperLogLog<6>>(data, size);
  drive_both<HyperLogLog<8>>(data, size);
  drive_both<HyperLogLog<9>>(data, size);
  drive_both<HyperLogLog<10>>(data, size);
  drive_both<HyperLogLog<16>>(data, size);
  return 0;
}
