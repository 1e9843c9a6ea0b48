#include "runtime/net/strict_json.h"

#include <optional>
#include <vector>

namespace orgos::net {

namespace {

using json = nlohmann::json;

// A name the sender chose, for a message: at most `max` bytes, cut at a character boundary.
std::string cut(std::string_view s, size_t max = 48) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "…";
}

// Builds the value from nlohmann's SAX events (its parser keeps its own stack, so nothing here recurses),
// checking what the DOM parser does not. Returning false from an event stops the parse.
class Builder {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit Builder(int max_depth) : max_depth_(max_depth) {}

  bool null() { return value(nullptr); }
  bool boolean(bool v) { return value(v); }
  bool number_integer(number_integer_t v) { return value(v); }
  bool number_unsigned(number_unsigned_t v) { return value(v); }
  bool number_float(number_float_t v, const string_t&) { return value(v); }
  bool string(string_t& v) { return value(std::move(v)); }
  bool binary(binary_t& v) { return value(json::binary(std::move(v))); }  // never from JSON text

  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(string_t& k) {
    Frame& f = stack_.back();
    if (f.node->contains(k)) {
      error_ = JsonReadError{JsonFault::DuplicateKey, "a duplicate key \"" + cut(k) + "\" in the object at " +
                                                          where(stack_.size() - 1) + ": give each key once"};
      return false;
    }
    f.key = std::move(k);
    return true;
  }

  bool parse_error(std::size_t position, const std::string& token, const json::exception& ex) {
    std::string at = where() + " (byte " + std::to_string(position) + ")";
    if (ex.id == 406)  // out_of_range.406: a number that overflows a double
      error_ =
          JsonReadError{JsonFault::NumberOutOfRange, "a number out of range at " + at + ": " + cut(token) +
                                                         " does not fit a 64-bit float (about ±1.8e308)"};
    else
      error_ =
          JsonReadError{JsonFault::Syntax, "not valid JSON at " + at + ": " + cut(plain(ex.what()), 300)};
    return false;
  }

  std::optional<JsonReadError>& error() { return error_; }
  json& root() { return root_; }

 private:
  struct Frame {
    json* node;
    std::string key;  // objects: the key whose value comes next
  };

  // nlohmann's message without its "[json.exception.parse_error.101] " tag and without the "; last read:
  // '…'" it ends with: those are the sender's bytes as they came, perhaps not UTF-8 (which a reply cannot
  // carry), and the position says where they are.
  static std::string plain(const char* what) {
    std::string s = what;
    if (auto p = s.find("] "); s.rfind("[json.exception.", 0) == 0 && p != std::string::npos)
      s = s.substr(p + 2);
    if (auto p = s.find("; last read: "); p != std::string::npos) s = s.substr(0, p);
    return s;
  }

  // Where the parser is, as a JSON Pointer: the keys and indices down to the value it reads next (or, with
  // `frames` one less than the stack, to the container it is in).
  std::string where(size_t frames) const {
    std::string p;
    for (size_t i = 0; i < frames; ++i) {
      const Frame& f = stack_[i];
      p += '/';
      if (f.node->is_array()) {
        // A frame below the top holds its open child as its last element already.
        size_t n = f.node->size();
        p += std::to_string(i + 1 < stack_.size() && n > 0 ? n - 1 : n);
      } else {
        for (char c : cut(f.key)) p += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
      }
    }
    return p.empty() ? "the top level" : p;
  }
  std::string where() const { return where(stack_.size()); }

  // Where a new value goes: the root, the current object's key, or the end of the current array.
  json* place(json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Frame& f = stack_.back();
    if (f.node->is_array()) {
      f.node->push_back(std::move(v));
      return &f.node->back();
    }
    json& slot = (*f.node)[f.key];
    slot = std::move(v);
    return &slot;
  }

  bool value(json v) {
    place(std::move(v));
    return true;
  }

  bool open(json container) {
    if (static_cast<int>(stack_.size()) >= max_depth_) {
      error_ = JsonReadError{JsonFault::TooDeep, "arrays and objects nested more than " +
                                                     std::to_string(max_depth_) + " levels deep at " +
                                                     where() + ": flatten it"};
      return false;
    }
    // A pointer into its parent stays valid: the parent changes again only after this one is closed.
    stack_.push_back({place(std::move(container)), {}});
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  int max_depth_;
  json root_;
  std::vector<Frame> stack_;
  std::optional<JsonReadError> error_;
};

}  // namespace

std::variant<nlohmann::json, JsonReadError> read_strict_json(std::string_view bytes, int max_depth) {
  Builder b(max_depth);
  bool ok = json::sax_parse(bytes, &b);
  if (b.error()) return *b.error();
  if (!ok) return JsonReadError{JsonFault::Syntax, "not valid JSON"};  // every refusal sets error(); a guard
  return std::move(b.root());
}

}  // namespace orgos::net
