/* Philox4x32-10 on the host; the constants are those of Random123. */
#include <math.h>

#include "philox.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t *hi)
{
    uint64_t p = (uint64_t)a * b;
    *hi = (uint32_t)(p >> 32);
    return (uint32_t)p;
}

void clae__philox4x32(const uint32_t counter[4], const uint32_t key[2],
                      uint32_t out[4])
{
    uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint32_t hi0, hi1;
        uint32_t lo0 = mulhilo(PHILOX_M0, c0, &hi0);
        uint32_t lo1 = mulhilo(PHILOX_M1, c2, &hi1);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

void clae__random_block(uint64_t seed, uint32_t stream, uint32_t substream,
                        uint64_t block, uint32_t out[4])
{
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    const uint32_t counter[4] = {(uint32_t)block, (uint32_t)(block >> 32),
                                 substream, stream};
    clae__philox4x32(counter, key, out);
}

/* 24 random bits: exactly representable, strictly below 1. */
static float unit_float(uint32_t word)
{
    return (float)(word >> 8) * (1.0f / 16777216.0f);
}

void clae__random_uniform(float *out, size_t n, uint64_t seed, uint32_t stream,
                          uint32_t substream, float lo, float hi)
{
    uint32_t words[4];
    for (size_t i = 0; i < n; i++) {
        if (i % 4 == 0) clae__random_block(seed, stream, substream, i / 4, words);
        float u = unit_float(words[i % 4]);
        /* lo + (hi - lo) * u can round up to hi; keep [lo, hi). */
        float v = lo + (hi - lo) * u;
        out[i] = v < hi ? v : nextafterf(hi, lo);
    }
}

/* A block's 4 standard normals, as clae__random_normal lays them out. */
static void block_normals(const uint32_t w[4], float z[4])
{
    for (int k = 0; k < 4; k += 2) {
        /* 1 - u is exact and in (0, 1], so the log is finite. */
        float r = sqrtf(-2.0f * logf(1.0f - unit_float(w[k])));
        float t = 6.28318531f * unit_float(w[k + 1]); /* 2 pi in float */
        z[k] = r * cosf(t);
        z[k + 1] = r * sinf(t);
    }
}

void clae__random_normal(float *out, size_t n, uint64_t seed, uint32_t stream,
                         uint32_t substream, float mean, float std)
{
    float z[4];
    for (size_t i = 0; i < n; i++) {
        if (i % 4 == 0) {
            uint32_t words[4];
            clae__random_block(seed, stream, substream, i / 4, words);
            block_normals(words, z);
        }
        out[i] = mean + std * z[i % 4];
    }
}

void clae__random_permutation(uint32_t *perm, size_t n, uint64_t seed,
                              uint32_t stream, uint32_t substream)
{
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    uint32_t words[4];
    for (size_t k = 0; k + 1 < n; k++) {
        if (k % 4 == 0) clae__random_block(seed, stream, substream, k / 4, words);
        size_t i = n - 1 - k;
        /* j uniform in [0, i] by multiply-shift (bias below n / 2^32). */
        size_t j = (size_t)(((uint64_t)words[k % 4] * (i + 1)) >> 32);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
