/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
 * 3", SC'11): the counter-based generator behind all of clae's randomness.
 * A value is a pure function of (seed, stream, substream, index), so the same
 * seed gives the same bits on every device and in any order of use. */
#ifndef CLAE_PHILOX_H
#define CLAE_PHILOX_H

#include <stddef.h>
#include <stdint.h>

/* Random streams, one per use. */
enum {
    CLAE_STREAM_INIT = 1,
    CLAE_STREAM_SHUFFLE = 2,
    CLAE_STREAM_NOISE = 3,   /* input corruption (denoising), cl/noise.cl */
    CLAE_STREAM_DROPOUT = 4, /* dropout masks, cl/noise.cl */
    CLAE_STREAM_LATENT = 5,  /* a VAE's reparameterisation noise */
    CLAE_STREAM_GENERATE = 6, /* a VAE's codes drawn from its prior */
};

void clae__philox4x32(const uint32_t counter[4], const uint32_t key[2],
                      uint32_t out[4]);

/* The 4 words of block `block` of (seed, stream, substream): Philox with
 * key (seed lo, seed hi) and counter (block lo, block hi, substream,
 * stream). Element i of every draw below uses word i % 4 of block i / 4;
 * cl/noise.cl lays its draws out the same way. */
void clae__random_block(uint64_t seed, uint32_t stream, uint32_t substream,
                        uint64_t block, uint32_t out[4]);

/* out[i] uniform in [lo, hi) for i < n; substream tells uses apart (the
 * layer of an initialiser, the epoch of a shuffle). */
void clae__random_uniform(float *out, size_t n, uint64_t seed, uint32_t stream,
                          uint32_t substream, float lo, float hi);

/* out[i] = mean + std z_i for i < n, z_i standard normal by Box-Muller in
 * float: each block's words (w0, w1) and (w2, w3) are pairs (a, b) giving
 * elements r cos(t) and r sin(t), where r = sqrt(-2 ln(1 - u(a))), t =
 * 2 pi u(b) and u(w) = (w >> 8) 2^-24 in [0, 1), the mapping of
 * clae__random_uniform. |z| is at most sqrt(48 ln 2) = 5.77. cl/noise.cl
 * computes the same to within the accuracy of its log, sqrt, sin and cos. */
void clae__random_normal(float *out, size_t n, uint64_t seed, uint32_t stream,
                         uint32_t substream, float mean, float std);

/* perm = a uniformly shuffled 0 .. n-1 (Fisher-Yates). */
void clae__random_permutation(uint32_t *perm, size_t n, uint64_t seed,
                              uint32_t stream, uint32_t substream);

#endif
