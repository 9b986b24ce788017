#pragma once
// errno values as text for error messages. libbpf and libudev return -errno, the libc calls set
// errno: both signs are accepted.
#include <string>

namespace iohealth {

// strerror's text: "Input/output error".
std::string errno_text(int err);

// The symbolic name for grep, the text for people: "EIO (Input/output error)".
std::string errno_name_text(int err);

}  // namespace iohealth
