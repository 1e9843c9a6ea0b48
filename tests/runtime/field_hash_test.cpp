// The audit chain's hashes are a format: stores written by earlier builds must verify with later ones. These
// tests pin the bytes hashed (length-prefixed fields) and the results against an independent BLAKE2b
// (Python's hashlib, values below), and check the streaming hash against one hash of the whole buffer.
#include "runtime/store/field_hash.h"

#include <gtest/gtest.h>

#include <array>
#include <random>

#include "runtime/store/audit_chain.h"
#include "runtime/store/audit_key.h"
#include "runtime/store/store.h"

using namespace orgos::store;

namespace {

// The reference: every field as "<length>:<bytes>" in one buffer, hashed at once.
std::string buffer_hash(const std::vector<std::string>& fields) {
  std::string buf;
  for (const std::string& f : fields) buf += std::to_string(f.size()) + ":" + f;
  unsigned char out[32];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), nullptr,
                     0);
  return to_hex(out, sizeof out);
}

}  // namespace

TEST(FieldHash, StreamingEqualsOneHashOfTheLengthPrefixedBuffer) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> fields(rng() % 8);
    FieldHash h;
    for (std::string& f : fields) {
      // Empty fields, short ones, and ones longer than a BLAKE2b block (128 bytes), with any byte.
      f.resize(rng() % 3 == 0 ? 0 : rng() % 400);
      for (char& c : f) c = static_cast<char>(rng());
      h.add(f);
    }
    EXPECT_EQ(h.hex(), buffer_hash(fields)) << "round " << round;
  }
}

TEST(FieldHash, NumbersAreTheirDecimalText) {
  EXPECT_EQ(FieldHash().add(int64_t{-42}).add(int64_t{0}).hex(), buffer_hash({"-42", "0"}));
  EXPECT_EQ(FieldHash().add(INT64_MIN).hex(), buffer_hash({std::to_string(INT64_MIN)}));
}

TEST(FieldHash, HexIsLowerCaseTwoDigitsPerByte) {
  const unsigned char bytes[] = {0x00, 0x0f, 0xa0, 0xff};
  EXPECT_EQ(to_hex(bytes, sizeof bytes), "000fa0ff");
  EXPECT_EQ(to_hex(bytes, 0), "");
}

// Known answers computed with Python's hashlib.blake2b(digest_size=32): the format of stores on disk.
TEST(FieldHash, AuditHashesKeepTheirFormat) {
  AuditEntry e;
  e.seq = 7;
  e.at = 1767225600;
  e.kind = AuditKind::Input;
  e.actor = "ann";
  e.action = "decide";
  e.resource = "input 7 (k)";
  e.decision = "applied";
  e.ref = 7;
  e.digest = std::string(64, 'd');
  e.prev_hash = std::string(64, '0');
  EXPECT_EQ(audit_hash(e), "1c15d17d012ba5aed50a8a3c2d5c644118ecb84a4e9072a8f8125b42b5016d3f");

  Input in;
  in.kind = "decide";
  in.key = "3:ann|decide:k";
  in.at = 1767225600;
  in.actor = "ann";
  in.payload = R"({"approve":true,"task":2})";
  EXPECT_EQ(input_digest(in, ""), "40a9d67cb8c1beb6bc94d67395c6f93b505f39c1ccf28e0541c73584ae51ced1");

  std::array<unsigned char, AuditKey::kBytes> key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i);
  std::string hash;
  for (int i = 0; i < 32; ++i) hash += "ab";
  EXPECT_EQ(AuditKey(key).mac("orgos-audit-entry/1 " + hash),
            "116ba809b12f1f06daafb2a2a5178b9923691dd925eedc9be4c77ead5d099aed");
}
