/* Randomness on the device: the Philox4x32-10 generator of src/philox.c,
 * raw and mapped to floats, input corruption (denoising autoencoders) and
 * dropout.
 *
 * A draw is a pure function of (seed, stream, substream, element index):
 * element i uses word i % 4 of block i / 4, as on the host, so the values
 * depend neither on the work-group size nor on the device. Kernels over n
 * elements run one item per RANDOM_CHUNK = 32 elements (eight blocks);
 * global size ceil(n / RANDOM_CHUNK). Uniform draws and everything derived from
 * them by comparison are bit-identical to the host's; normal draws agree to
 * the accuracy of the device's log, sqrt, sin and cos (OpenCL 1.2 allows
 * 3, 3, 4 and 4 ulp). */

/* Exact float results need every multiply and add rounded on its own, as
 * the host does; OpenCL C may otherwise fuse them into fma (PoCL does, and
 * its uniforms in [lo, hi) then differ from the host's in the last bit). */
#pragma OPENCL FP_CONTRACT OFF

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* Corruption kinds, as clae_noise_kernel numbers them. */
#define NOISE_GAUSSIAN 0
#define NOISE_MASK 1
#define NOISE_SALT_PEPPER 2

/* Distributions of random_fill, as src/kernels.c numbers them. */
#define DIST_UNIFORM 0
#define DIST_NORMAL 1

/* Work items take RANDOM_CHUNK elements: eight Philox blocks. */
#define RANDOM_CHUNK (4 * CHUNK)

/* The words of blocks first .. first + 7 of (seed, stream, substream), as
 * words[s] = blocks first + 2s and first + 2s + 1, four words each. Block b
 * is Philox4x32-10 of key (seed lo, seed hi) and counter (b lo, b hi,
 * substream, stream), as clae__random_block. The eight blocks run side by
 * side, block j in lane j of the four counter words: explicit vectors are
 * what CPU drivers turn into SIMD multiplies (one block per uint4 ran about
 * 4x slower on PoCL). The lanes are transposed to element order after. */
void random_chunks(uint8 words[4], ulong seed, uint stream, uint substream,
                   ulong first)
{
    const uint lo = (uint)first;
    uint8 c0 = lo + (uint8)(0, 1, 2, 3, 4, 5, 6, 7);
    /* The high word carries where the low one wrapped (true is -1). */
    uint8 c1 = (uint)(first >> 32) - as_uint8(c0 < lo);
    uint8 c2 = (uint8)substream, c3 = (uint8)stream;
    uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        const uint8 hi0 = mul_hi((uint8)PHILOX_M0, c0), lo0 = PHILOX_M0 * c0;
        const uint8 hi1 = mul_hi((uint8)PHILOX_M1, c2), lo1 = PHILOX_M1 * c2;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    const uint8 low = (uint8)(0, 8, 1, 9, 2, 10, 3, 11),
                high = (uint8)(4, 12, 5, 13, 6, 14, 7, 15),
                pair_low = (uint8)(0, 1, 8, 9, 2, 3, 10, 11),
                pair_high = (uint8)(4, 5, 12, 13, 6, 7, 14, 15);
    /* Words 0 and 1, and 2 and 3, of blocks 0-3 and 4-7 interleaved ... */
    const uint8 w01_lo = shuffle2(c0, c1, low), w01_hi = shuffle2(c0, c1, high),
                w23_lo = shuffle2(c2, c3, low), w23_hi = shuffle2(c2, c3, high);
    /* ... then all four words of two blocks side by side. */
    words[0] = shuffle2(w01_lo, w23_lo, pair_low);
    words[1] = shuffle2(w01_lo, w23_lo, pair_high);
    words[2] = shuffle2(w01_hi, w23_hi, pair_low);
    words[3] = shuffle2(w01_hi, w23_hi, pair_high);
}

/* 24 random bits: exact, in [0, 1). */
float8 unit_float(uint8 w)
{
    return convert_float8(w >> 8) * (1.0f / 16777216.0f);
}

/* Box-Muller as clae__random_normal: word pairs (even, odd) give
 * elements r cos(t), r sin(t) side by side. */
float8 box_muller(uint8 w)
{
    const float8 u = unit_float(w);
    const float4 r = sqrt(-2.0f * log(1.0f - u.even));
    const float4 t = 6.28318531f * u.odd; /* 2 pi in float */
    return shuffle2(r * cos(t), r * sin(t), (uint8)(0, 4, 1, 5, 2, 6, 3, 7));
}

/* The 4 words of blocks first_block + i for i < blocks: the raw stream,
 * which tests compare with the host's. Global size ceil(blocks / 8). */
__kernel void random_bits(__global uint *out, ulong blocks, ulong seed,
                          uint stream, uint substream, ulong first_block)
{
    const ulong b0 = 8 * (ulong)get_global_id(0);
    uint8 words[4];
    random_chunks(words, seed, stream, substream, first_block + b0);
    for (uint s = 0; s < 4; s++) {
        if (b0 + 2 * s < blocks) vstore4(words[s].lo, b0 + 2 * s, out);
        if (b0 + 2 * s + 1 < blocks) vstore4(words[s].hi, b0 + 2 * s + 1, out);
    }
}

/* Element i draws word i % 4 of block i / 4; a work item's first element
 * is RANDOM_CHUNK times its id, so its first block is 8 times it. */
void item_chunks(uint8 words[4], ulong seed, uint stream, uint substream)
{
    random_chunks(words, seed, stream, substream, 8 * (ulong)get_global_id(0));
}

/* out (n) = uniform draws in [a, b) as clae__random_uniform, or normal
 * draws of mean a and standard deviation b as clae__random_normal. */
__kernel void random_fill(__global float *out, uint n, ulong seed,
                          uint stream, uint substream, uint dist, float a,
                          float b)
{
    uint8 words[4];
    item_chunks(words, seed, stream, substream);
    for (uint s = 0; s < 4; s++) {
        const uint e0 = get_global_id(0) * RANDOM_CHUNK + s * CHUNK;
        if (e0 >= n) return;
        float8 v;
        if (dist == DIST_NORMAL) {
            v = a + b * box_muller(words[s]);
        } else {
            v = a + (b - a) * unit_float(words[s]);
            /* That can round up to b; keep [a, b) as the host does. */
            v = select(nextafter((float8)b, (float8)a), v, v < b);
        }
        store_chunk(out + e0, v, chunk_width(e0, n));
    }
}

/* noisy (n) = a corruption of clean (n at clean_off): NOISE_GAUSSIAN adds
 * amount times a standard normal draw; NOISE_MASK sets an element to 0
 * with probability amount; NOISE_SALT_PEPPER sets it, with probability
 * amount, to 0 or 1 with equal odds. Element i draws word i of the stream:
 * replaced when its uniform is below amount; salt or pepper by its lowest
 * bit, which the uniform (the top 24 bits) does not use. */
__kernel void corrupt(__global float *noisy, __global const float *clean,
                      uint clean_off, uint n, uint kind, float amount,
                      ulong seed, uint stream, uint substream)
{
    uint8 words[4];
    item_chunks(words, seed, stream, substream);
    for (uint s = 0; s < 4; s++) {
        const uint e0 = get_global_id(0) * RANDOM_CHUNK + s * CHUNK;
        if (e0 >= n) return;
        const uint w = chunk_width(e0, n);
        const float8 x = load_chunk(clean + clean_off + e0, w);
        float8 y;
        if (kind == NOISE_GAUSSIAN) {
            y = x + amount * box_muller(words[s]);
        } else {
            const float8 fill = kind == NOISE_MASK
                                    ? (float8)0.0f
                                    : convert_float8(words[s] & 1u);
            y = select(x, fill, unit_float(words[s]) < amount);
        }
        store_chunk(noisy + e0, y, w);
    }
}

/* Dropout with drop probability p: multiplier (n) = 0 where element i's
 * uniform draw is below p, else scale = 1 / (1 - p) (computed on the host,
 * where division is exact); a (n) = x (n at x_off) * multiplier. a may be x
 * when x_off is 0 (each element is read before it is written). */
__kernel void dropout_forward(__global float *a, __global float *multiplier,
                              __global const float *x, uint x_off, uint n,
                              float p, float scale, ulong seed, uint stream,
                              uint substream)
{
    uint8 words[4];
    item_chunks(words, seed, stream, substream);
    for (uint s = 0; s < 4; s++) {
        const uint e0 = get_global_id(0) * RANDOM_CHUNK + s * CHUNK;
        if (e0 >= n) return;
        const uint w = chunk_width(e0, n);
        const float8 v = load_chunk(x + x_off + e0, w);
        const float8 m =
            select((float8)scale, (float8)0.0f, unit_float(words[s]) < p);
        store_chunk(multiplier + e0, m, w);
        store_chunk(a + e0, v * m, w);
    }
}

/* g (n) *= multiplier (n) in place: the gradient through dropout, with the
 * mask its forward pass drew. */
__kernel void dropout_backward(__global float *g,
                               __global const float *multiplier, uint n)
{
    const uint e0 = get_global_id(0) * CHUNK, w = chunk_width(e0, n);
    store_chunk(g + e0, load_chunk(g + e0, w) * load_chunk(multiplier + e0, w),
                w);
}
