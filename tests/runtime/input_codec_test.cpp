// The inputs' one codec (runtime/workflow/input.h): every kind round-trips, writes the payload text the log
// has always held (stores written before replay unchanged), and a logged input that does not decode — an
// unknown kind, a missing or mistyped field — is a clear refusal, never a silently skipped input.
#include "runtime/workflow/input.h"

#include <gtest/gtest.h>

using namespace orgos::workflow;

TEST(InputCodec, EveryKindRoundTripsAndKeepsTheLogsText) {
  const json payload = {{"expense", {{"amount", "12 USD"}}}};
  // Each body, its kind, and the text the engine logged for it before the codec (json{…}.dump()).
  std::vector<std::tuple<InputBody, std::string, std::string>> cases = {
      {EventInput{"expense.submitted", payload}, "event",
       json{{"name", "expense.submitted"}, {"payload", payload}}.dump()},
      {StartInput{"Approve", {{"x", 1}}}, "start", json{{"process", "Approve"}, {"args", {{"x", 1}}}}.dump()},
      {CompleteInput{7, "booked", {{"note", "ok"}}}, "complete",
       json{{"task", 7}, {"outcome", "booked"}, {"data", {{"note", "ok"}}}}.dump()},
      {ClaimInput{8}, "claim", json{{"task", 8}}.dump()},
      {DecideInput{9, true}, "decide", json{{"task", 9}, {"approve", true}}.dump()},
      {TickInput{1767225600}, "tick", json{{"to", 1767225600}}.dump()},
      {ConnectorResultInput{3, {{"ok", true}}}, "connector_result",
       json{{"outbox", 3}, {"result", {{"ok", true}}}}.dump()},
      {TransitionInput{"Order", {{"$id", 4}}, "place"}, "transition",
       json{{"type", "Order"}, {"record", {{"$id", 4}}}, {"name", "place"}}.dump()},
  };
  ASSERT_EQ(cases.size(), std::variant_size_v<InputBody>) << "a kind without a case here";
  for (auto& [body, kind, text] : cases) {
    EXPECT_EQ(input_kind(body), kind);
    EXPECT_EQ(encode_input(body), text) << kind;
    std::string error;
    auto back = decode_input(kind, text, error);
    ASSERT_TRUE(back) << kind << ": " << error;
    EXPECT_EQ(back->index(), body.index()) << kind;
    EXPECT_EQ(encode_input(*back), text) << kind;
  }
}

TEST(InputCodec, ALoggedInputThatDoesNotDecodeIsRefusedSayingWhy) {
  std::string error;
  EXPECT_FALSE(decode_input("frobnicate", "{}", error));
  EXPECT_NE(error.find("unknown kind `frobnicate`"), std::string::npos) << error;
  error.clear();
  EXPECT_FALSE(decode_input("decide", R"({"task": 9})", error));  // no `approve`
  EXPECT_NE(error.find("decide"), std::string::npos) << error;
  error.clear();
  EXPECT_FALSE(decode_input("claim", R"({"task": "nine"})", error));  // the wrong type
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(decode_input("tick", "not json", error));
  EXPECT_FALSE(error.empty());
}
