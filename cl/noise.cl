/* Randomness on the device: the Philox4x32-10 generator of src/philox.c,
 * raw and mapped to floats, input corruption (denoising autoencoders) and
 * dropout.
 *
 * A draw is a pure function of (seed, stream, substream, element index):
 * element i uses word i % 4 of block i / 4, as on the host, so the values
 * depend neither on the work-group size nor on the device. Kernels over n
 * elements run one item per RANDOM_CHUNK = 64 elements (sixteen
 * blocks); global size ceil(n / RANDOM_CHUNK). Uniform draws and
 * everything derived from them by comparison are bit-identical to the
 * host's; normal draws agree to the accuracy of the device's log, sqrt, sin
 * and cos (OpenCL 1.2 allows 3, 3, 4 and 4 ulp). */

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

/* Work items take RANDOM_CHUNK elements: sixteen Philox blocks, four
 * chunks. */
#define RANDOM_CHUNK (4 * CHUNK)
#define ITEM_BLOCKS 16

/* The words of blocks first .. first + 15 of (seed, stream, substream), as
 * words[s] = blocks first + 4s .. first + 4s + 3, four words each. Block b
 * is Philox4x32-10 of key (seed lo, seed hi) and counter (b lo, b hi,
 * substream, stream), as clae__random_block. The sixteen blocks run side
 * by side, block j in lane j of the four counter words: explicit vectors
 * are what CPU drivers turn into SIMD multiplies (one block per uint4 ran
 * about 4x slower on PoCL). The lanes are transposed to element order
 * after, by shuffles that keep the width of 16 (Oclgrind 21.10's
 * --uninitialized wrongly flags lanes moved into a vector of another
 * width). */
void random_chunks(uint16 words[4], ulong seed, uint stream, uint substream,
                   ulong first)
{
    const uint lo = (uint)first;
    uint16 c0 = lo + (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                              14, 15);
    /* The high word carries where the low one wrapped (true is -1). */
    uint16 c1 = (uint)(first >> 32) - as_uint16(c0 < lo);
    uint16 c2 = (uint16)substream, c3 = (uint16)stream;
    uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        const uint16 hi0 = mul_hi((uint16)PHILOX_M0, c0), lo0 = PHILOX_M0 * c0;
        const uint16 hi1 = mul_hi((uint16)PHILOX_M1, c2), lo1 = PHILOX_M1 * c2;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    /* Chunk s: lane 4i + k is word k of block 4s + i. First words 0 and 1
     * (and 2 and 3) of those blocks at lanes 4i and 4i + 1 ... */
    const uint16 pair = (uint16)(0, 16, 0, 16, 1, 17, 1, 17, 2, 18, 2, 18, 3,
                                 19, 3, 19),
                 /* ... then words 2 and 3 beside them. */
                 quad = (uint16)(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12,
                                 13, 28, 29);
    for (uint s = 0; s < 4; s++) {
        const uint16 at = pair + 4 * s;
        words[s] = shuffle2(shuffle2(c0, c1, at), shuffle2(c2, c3, at), quad);
    }
}

/* The 4 words of blocks first_block + i for i < blocks: the raw stream,
 * which tests compare with the host's. Global size ceil(blocks / 16). */
__kernel void random_bits(__global uint *out, ulong blocks, ulong seed,
                          uint stream, uint substream, ulong first_block)
{
    const ulong b0 = ITEM_BLOCKS * (ulong)get_global_id(0);
    uint16 words[4];
    random_chunks(words, seed, stream, substream, first_block + b0);
    for (uint s = 0; s < 4; s++) {
        const uint lanes[CHUNK] = CHUNK_LANES(words[s]);
        for (uint i = 0; i < CHUNK; i++)
            if (b0 + 4 * s + i / 4 < blocks)
                out[4 * (b0 + 4 * s) + i] = lanes[i];
    }
}

/* Element i draws word i % 4 of block i / 4; a work item's first element
 * is RANDOM_CHUNK times its id, so its first block is ITEM_BLOCKS times
 * it. */
void item_chunks(uint16 words[4], ulong seed, uint stream, uint substream)
{
    random_chunks(words, seed, stream, substream,
                  ITEM_BLOCKS * (ulong)get_global_id(0));
}

/* 24 random bits: exact, in [0, 1). */
float16 unit_float(uint16 w)
{
    return convert_float16(w >> 8) * (1.0f / 16777216.0f);
}

/* Box-Muller as clae__random_normal: word pairs (even, odd) give
 * elements r cos(t), r sin(t) side by side. Both lanes of a pair compute
 * its r and t, with shuffles that keep the width of 16 (see
 * random_chunks; u.even would not). */
float16 box_muller(uint16 w)
{
    const float16 u = unit_float(w);
    const uint16 even =
        (uint16)(0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10, 12, 12, 14, 14);
    const float16 r = sqrt(-2.0f * log(1.0f - shuffle(u, even)));
    const float16 t = 6.28318531f * shuffle(u, even + 1u); /* 2 pi in float */
    /* cos for even lanes, sin for odd ones */
    const uint16 pick =
        (uint16)(0, 17, 2, 19, 4, 21, 6, 23, 8, 25, 10, 27, 12, 29, 14, 31);
    return shuffle2(r * cos(t), r * sin(t), pick);
}

/* out (n) = uniform draws in [a, b) as clae__random_uniform, or normal
 * draws of mean a and standard deviation b as clae__random_normal. */
__kernel void random_fill(__global float *out, uint n, ulong seed,
                          uint stream, uint substream, uint dist, float a,
                          float b)
{
    uint16 words[4];
    item_chunks(words, seed, stream, substream);
    for (uint s = 0; s < 4; s++) {
        const uint e0 = get_global_id(0) * RANDOM_CHUNK + s * CHUNK;
        if (e0 >= n) return;
        float16 v;
        if (dist == DIST_NORMAL) {
            v = a + b * box_muller(words[s]);
        } else {
            v = a + (b - a) * unit_float(words[s]);
            /* That can round up to b; keep [a, b) as the host does. */
            v = select(nextafter((float16)b, (float16)a), v, v < b);
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
    uint16 words[4];
    item_chunks(words, seed, stream, substream);
    for (uint s = 0; s < 4; s++) {
        const uint e0 = get_global_id(0) * RANDOM_CHUNK + s * CHUNK;
        if (e0 >= n) return;
        const uint w = chunk_width(e0, n);
        const float16 x = load_chunk(clean + clean_off + e0, w);
        const uint16 bits = words[s];
        float16 y;
        if (kind == NOISE_GAUSSIAN) {
            y = x + amount * box_muller(bits);
        } else {
            const float16 fill =
                kind == NOISE_MASK ? (float16)0.0f : convert_float16(bits & 1u);
            y = select(x, fill, unit_float(bits) < amount);
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
    uint16 words[4];
    item_chunks(words, seed, stream, substream);
    for (uint s = 0; s < 4; s++) {
        const uint e0 = get_global_id(0) * RANDOM_CHUNK + s * CHUNK;
        if (e0 >= n) return;
        const uint w = chunk_width(e0, n);
        const float16 v = load_chunk(x + x_off + e0, w);
        const float16 m = select((float16)scale, (float16)0.0f,
                                 unit_float(words[s]) < p);
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
