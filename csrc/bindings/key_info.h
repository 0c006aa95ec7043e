// The Python view of a key-batch header (the dict behind KeyBatch's attributes), shared by
// the CPU and CUDA modules so both describe keys identically.
#pragma once
#include <pybind11/pybind11.h>

#include "fsskernels/keyformat.h"

namespace fss_py {

inline pybind11::dict key_header_dict(const fss::KeyHeader& h) {
  const fss::KeyLayout lay = fss::key_layout(h.scheme, h.bits, h.out_bits);
  pybind11::dict d;
  d["scheme"] = h.scheme == fss::Scheme::DPF ? "dpf" : "dcf";
  d["party"] = static_cast<int>(h.party);
  d["bits"] = static_cast<int>(h.bits);
  d["out_bits"] = static_cast<int>(h.out_bits);
  d["count"] = h.count;
  d["levels"] = lay.levels;
  d["key_size"] = lay.bytes_per_key;
  return d;
}

}  // namespace fss_py
