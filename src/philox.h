/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
 * 3", SC'11): the counter-based generator behind all of clae's randomness.
 * A value is a pure function of (seed, stream, substream, index), so the same
 * seed gives the same bits on every device and in any order of use. */
#ifndef CLAE_PHILOX_H
#define CLAE_PHILOX_H

#include <stddef.h>
#include <stdint.h>

/* Random streams, one per use. */
enum { CLAE_STREAM_INIT = 1, CLAE_STREAM_SHUFFLE = 2 };

void clae__philox4x32(const uint32_t counter[4], const uint32_t key[2],
                      uint32_t out[4]);

/* out[i] uniform in [lo, hi) for i < n; substream tells uses apart (the
 * layer of an initialiser, the epoch of a shuffle). */
void clae__random_uniform(float *out, size_t n, uint64_t seed, uint32_t stream,
                          uint32_t substream, float lo, float hi);

/* perm = a uniformly shuffled 0 .. n-1 (Fisher-Yates). */
void clae__random_normal(float *out, size_t n, uint64_t seed, uint32_t stream,
                         uint32_t substream, float mean, float std);

void clae__random_permutation(uint32_t *perm, size_t n, uint64_t seed,
                              uint32_t stream, uint32_t substream);

#endif
