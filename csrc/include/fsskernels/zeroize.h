// fsskernels/zeroize.h: erase secret bytes so the compiler cannot drop the stores.
//
// secure_zero(p, n) overwrites n bytes with zeros through explicit_bzero (glibc >= 2.25) or a
// volatile byte loop. A plain memset before free or at the end of a scope is a dead store
// that optimizers may remove; this one is kept. Used for AES keys, seeds, tree state of key
// generation and key-batch buffers when they are freed (docs/kernels.md section 7).
// wipe(a, b, ...) applies it to whole objects/arrays.
#pragma once
#include <cstddef>
#include <string.h>  // explicit_bzero (glibc, _DEFAULT_SOURCE)

namespace fss {

inline void secure_zero(void* p, size_t n) {
  if (!p || !n) return;
#if defined(__GLIBC__) && ((__GLIBC__ > 2) || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
  explicit_bzero(p, n);
#else
  volatile unsigned char* q = static_cast<volatile unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) q[i] = 0;
#endif
}

template <class... T>
inline void wipe(T&... objs) {
  (secure_zero(static_cast<void*>(&objs), sizeof(objs)), ...);
}

}  // namespace fss
