// fsskernels/errors.h: error conventions.
//
// C++ functions throw std::invalid_argument for bad input (message names the argument) and
// std::runtime_error for system or device faults. The C API (c_api.h) turns both into error
// codes; the Python bindings turn them into ValueError / RuntimeError.
#pragma once
#include <stdexcept>
#include <string>

namespace fss {

[[noreturn]] inline void bad_arg(const std::string& arg, const std::string& why) {
  throw std::invalid_argument(arg + ": " + why);
}

}  // namespace fss
