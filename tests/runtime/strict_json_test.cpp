// The strict JSON reader (runtime/net/strict_json.h): what it refuses beyond nlohmann's parser (a key
// twice, a number out of range, nesting past a limit), where it says the problem is, and that on
// everything else it agrees with nlohmann — checked on generated and mutated documents.
#include "runtime/net/strict_json.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>

using orgos::net::JsonFault;
using orgos::net::JsonReadError;
using orgos::net::read_strict_json;
using json = nlohmann::json;

namespace {

const JsonReadError* refusal(const std::variant<json, JsonReadError>& r) {
  return std::get_if<JsonReadError>(&r);
}

std::string message_of(std::string_view text, int depth = 64) {
  auto r = read_strict_json(text, depth);
  return refusal(r) ? refusal(r)->message : "(accepted)";
}

}  // namespace

TEST(StrictJson, AKeyTwiceIsRefusedNamingItAndItsObject) {
  auto r = read_strict_json(R"({"a": {"b": [0, {"k": 1, "x": 2, "k": 3}]}})", 64);
  ASSERT_TRUE(refusal(r));
  EXPECT_EQ(refusal(r)->fault, JsonFault::DuplicateKey);
  EXPECT_NE(refusal(r)->message.find(R"(duplicate key "k" in the object at /a/b/1)"), std::string::npos)
      << refusal(r)->message;
  EXPECT_NE(message_of(R"({"a": 1, "a": 1})").find("at the top level"), std::string::npos);
  // The same key in different objects, and a key equal to a value, are fine.
  EXPECT_FALSE(refusal(read_strict_json(R"({"a": {"a": "a"}, "b": [{"a": 1}, {"a": 2}]})", 64)));
}

TEST(StrictJson, ANumberOutOfRangeIsNamedWithWhereItIs) {
  for (const char* n : {"1e400", "-1e400", "1E+999", "123456789e999"}) {
    auto r = read_strict_json(std::string(R"({"x": {"y/z~": [)") + n + "]}}", 64);
    ASSERT_TRUE(refusal(r)) << n;
    EXPECT_EQ(refusal(r)->fault, JsonFault::NumberOutOfRange) << n;
    // JSON Pointer escapes: "/" is ~1, "~" is ~0.
    EXPECT_NE(refusal(r)->message.find("a number out of range at /x/y~1z~0/0 (byte "), std::string::npos)
        << refusal(r)->message;
    EXPECT_NE(refusal(r)->message.find(n), std::string::npos) << refusal(r)->message;
  }
  // What a double holds is a number like any other, also an integer past int64 (nlohmann keeps a double).
  auto big = read_strict_json("[1e308, 99999999999999999999, 18446744073709551615]", 64);
  ASSERT_FALSE(refusal(big));
  EXPECT_TRUE(std::get<json>(big)[1].is_number_float());
  EXPECT_TRUE(std::get<json>(big)[2].is_number_unsigned());
}

TEST(StrictJson, NestingPastTheLimitIsRefusedWhereItIsPassed) {
  EXPECT_FALSE(refusal(read_strict_json("[[[1]]]", 3)));
  auto r = read_strict_json(R"({"a": [[1]]})", 2);
  ASSERT_TRUE(refusal(r));
  EXPECT_EQ(refusal(r)->fault, JsonFault::TooDeep);
  EXPECT_NE(refusal(r)->message.find("more than 2 levels deep at /a/0"), std::string::npos)
      << refusal(r)->message;
}

TEST(StrictJson, ASyntaxErrorSaysWhereAndDoesNotQuoteTheBytes) {
  auto r = read_strict_json("{\"a\": [1, 2, \"\xff\"]}", 64);
  ASSERT_TRUE(refusal(r));
  EXPECT_EQ(refusal(r)->fault, JsonFault::Syntax);
  EXPECT_NE(refusal(r)->message.find("at /a/2 (byte "), std::string::npos) << refusal(r)->message;
  EXPECT_EQ(refusal(r)->message.find('\xff'), std::string::npos);
  EXPECT_NE(message_of("{} x").find("not valid JSON"), std::string::npos);  // trailing bytes
  EXPECT_NE(message_of("").find("not valid JSON"), std::string::npos);
  EXPECT_NE(message_of("{\"a\":").find("at /a"), std::string::npos);
}

// Documents built at random, then mutated byte by byte: whatever nlohmann's parser accepts, the strict
// reader accepts with the same value, unless it names a key the text holds twice; whatever nlohmann
// refuses, the strict reader refuses. It never crashes (the suite runs it under ASan too).
TEST(StrictJson, AgreesWithNlohmannOnGeneratedAndMutatedDocuments) {
  std::mt19937 rng(20261207);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> keys = {"a", "b", "k", "verb", "é", "x/y", "t~"};
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    switch (depth > 4 ? pick(5) : pick(7)) {
      case 0:
        return std::to_string(static_cast<int64_t>(rng()) - 2000000000);
      case 1:
        return std::vector<std::string>{"1e400", "-0.5", "1e308", "18446744073709551615", "3.25e-7"}[pick(5)];
      case 2:
        return std::vector<std::string>{"true", "false", "null"}[pick(3)];
      case 3:
      case 4:
        return "\"" + keys[static_cast<size_t>(pick(static_cast<int>(keys.size())))] + "\"";
      case 5: {
        std::string s = "[";
        for (int i = 0, n = pick(4); i < n; ++i) s += (i ? "," : "") + value(depth + 1);
        return s + "]";
      }
      default: {
        std::string s = "{";
        for (int i = 0, n = pick(4); i < n; ++i)  // keys may repeat: pick() is not told to avoid it
          s += (i ? "," : "") +
               ("\"" + keys[static_cast<size_t>(pick(static_cast<int>(keys.size())))] + "\":") +
               value(depth + 1);
        return s + "}";
      }
    }
  };
  const std::string noise = "{}[]\",:0123456789eE+-.tfn\\ \xff";
  int accepted = 0, duplicates = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string text = value(0);
    for (int m = pick(3); m > 0 && !text.empty(); --m)  // 0 to 2 mutations
      text[static_cast<size_t>(pick(static_cast<int>(text.size())))] =
          noise[static_cast<size_t>(pick(static_cast<int>(noise.size())))];
    json dom = json::parse(text, nullptr, false);
    auto strict = read_strict_json(text, 64);
    if (const JsonReadError* e = refusal(strict)) {
      if (e->fault == JsonFault::DuplicateKey) {  // found before anything after it is read
        ++duplicates;
        size_t from = e->message.find('"'), to = e->message.find('"', from + 1);
        std::string key =
            "\"" + e->message.substr(from + 1, to - from - 1) + "\"";  // ':' may be broken after
        size_t first = text.find(key);
        EXPECT_TRUE(first != std::string::npos && text.find(key, first + 1) != std::string::npos)
            << text << "\n"
            << e->message;
      } else {
        EXPECT_TRUE(dom.is_discarded()) << text << "\n" << e->message;
      }
    } else {
      ++accepted;
      ASSERT_FALSE(dom.is_discarded()) << text;
      EXPECT_EQ(std::get<json>(strict), dom) << text;
    }
  }
  EXPECT_GT(accepted, 500);  // the generator made enough of each kind for the check to mean something
  EXPECT_GT(duplicates, 50);
}
