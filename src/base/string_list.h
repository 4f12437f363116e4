// SPDX-License-Identifier: Apache-2.0
// Strings kept back to back in one buffer, each followed by a NUL: what an
// argument list costs is its bytes plus five per string (the NUL and an end
// offset), whatever the count, and exec takes pointers into it as they are.
// (A std::string each costs 32 bytes and an allocation beyond 15 bytes.)
#ifndef CAPSPAWN_SRC_BASE_STRING_LIST_H_
#define CAPSPAWN_SRC_BASE_STRING_LIST_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace capspawn {

class StringList {
 public:
  // What one string of `length` bytes costs the list.
  static constexpr size_t Cost(size_t length) { return length + 1 + sizeof(uint32_t); }

  void Add(std::string_view s) {
    data_.append(s.data(), s.size());
    data_.push_back('\0');
    ends_.push_back(static_cast<uint32_t>(data_.size()));
  }
  void Append(const StringList& other) {
    const uint32_t base = static_cast<uint32_t>(data_.size());
    data_ += other.data_;
    for (uint32_t e : other.ends_) ends_.push_back(base + e);
  }
  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  // The bytes it holds (strings, NULs and offsets).
  size_t bytes() const { return data_.size() + ends_.size() * sizeof(uint32_t); }
  std::string_view operator[](size_t i) const {
    const uint32_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(data_).substr(begin, ends_[i] - begin - 1);
  }
  std::vector<std::string> Copy() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < size(); ++i) out.emplace_back((*this)[i]);
    return out;
  }
  // NULL-terminated pointers to the strings, as execve takes them; valid
  // until the list changes.
  std::vector<char*> Pointers() {
    std::vector<char*> out;
    out.reserve(ends_.size() + 1);
    uint32_t begin = 0;
    for (uint32_t e : ends_) {
      out.push_back(data_.data() + begin);
      begin = e;
    }
    out.push_back(nullptr);
    return out;
  }

 private:
  std::string data_;
  std::vector<uint32_t> ends_;
};

}  // namespace capspawn

#endif  // CAPSPAWN_SRC_BASE_STRING_LIST_H_
