#pragma once
// What a fallible construction returns: the value, or the one-line reason it could not be made
// (for the log and the caller's decision). Every make()/open()/read_*() that can fail at run
// time returns one; exceptions stay for programming errors and start-up refusals.
#include <string>
#include <utility>
#include <variant>

namespace iohealth {

template <typename T>
class Expected {
  public:
    Expected(T value) : v_(std::move(value)) {}  // NOLINT: implicit, like std::expected
    static Expected failure(std::string why) { return Expected(Why{std::move(why)}); }

    bool has_value() const { return std::holds_alternative<T>(v_); }
    explicit operator bool() const { return has_value(); }
    T& value() { return std::get<T>(v_); }
    const T& value() const { return std::get<T>(v_); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    // Why not; empty when there is a value.
    const std::string& error() const {
        static const std::string none;
        return has_value() ? none : std::get<Why>(v_).text;
    }

  private:
    struct Why {
        std::string text;
    };
    explicit Expected(Why why) : v_(std::move(why)) {}
    std::variant<T, Why> v_;
};

}  // namespace iohealth
