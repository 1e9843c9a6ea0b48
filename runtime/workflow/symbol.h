// Sym: an interned string for the engine's short repeated words (statuses, step and role names, wait
// kinds). Each distinct text is stored once for the process; a Sym is one pointer to it, so a million
// waiting instances and their tasks do not each carry a handful of 32-byte strings.
#pragma once
#include <mutex>
#include <string>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace orgos::workflow {

class Sym {
 public:
  Sym() = default;
  Sym(const char* s) : p_(intern(s)) {}         // NOLINT: implicit, like std::string
  Sym(const std::string& s) : p_(intern(s)) {}  // NOLINT
  const std::string& str() const { return p_ ? *p_ : empty_string(); }
  operator const std::string&() const { return str(); }  // NOLINT
  const char* c_str() const { return str().c_str(); }
  bool empty() const { return !p_; }
  void clear() { p_ = nullptr; }
  friend bool operator==(const Sym& a, const Sym& b) { return a.p_ == b.p_; }
  friend bool operator==(const Sym& a, const char* b) { return a.str() == b; }
  friend bool operator==(const Sym& a, const std::string& b) { return a.str() == b; }
  friend bool operator<(const Sym& a, const Sym& b) { return a.str() < b.str(); }

 private:
  // Interned texts live in a node-based set: their addresses never move, so reading a Sym needs no lock.
  static const std::string* intern(const std::string& s) {
    if (s.empty()) return nullptr;
    static std::mutex m;
    static std::unordered_set<std::string> texts;
    std::lock_guard<std::mutex> lock(m);
    return &*texts.insert(s).first;
  }
  static const std::string& empty_string() {
    static const std::string e;
    return e;
  }
  const std::string* p_ = nullptr;
};

inline std::string operator+(const std::string& a, const Sym& b) { return a + b.str(); }
inline std::string operator+(const char* a, const Sym& b) { return a + b.str(); }
inline std::string operator+(const Sym& a, const std::string& b) { return a.str() + b; }
inline std::string operator+(const Sym& a, const char* b) { return a.str() + b; }

inline void to_json(nlohmann::json& j, const Sym& s) { j = s.str(); }
inline void from_json(const nlohmann::json& j, Sym& s) { s = Sym(j.get<std::string>()); }

}  // namespace orgos::workflow
