// Internal DPF helpers shared by the full-domain evaluation and the fused lookup.
#pragma once

#include <cstdint>

#include "fsskernels/keyformat.h"

namespace fss {
namespace detail {

// Writes the 2^bits output values of key k (party's share, mod 2^out_bits) into row.
// row must hold 2^bits uint64 values; it also serves as the expansion scratch.
void dpf_expand_key(int party, const KeyView& v, uint64_t k, uint64_t* row);

// std::invalid_argument unless the batch is DPF keys of this party with bits <= 24.
void check_full_domain_keys(int party, const KeyView& v);

}  // namespace detail
}  // namespace fss
