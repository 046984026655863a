/* Randomness on the device: the Philox4x32-10 generator of src/philox.c,
 * raw and mapped to floats, input corruption (denoising autoencoders) and
 * dropout.
 *
 * A draw is a pure function of (seed, stream, substream, element index):
 * element i uses word i % 4 of block i / 4, as on the host, so the values
 * depend neither on the work-group size nor on the device. Kernels over n
 * elements run one item per chunk of CHUNK = 8 elements (two blocks);
 * global size ceil(n / CHUNK). Uniform draws and everything derived from
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

uint4 philox4x32(uint4 c, uint2 k)
{
    for (int round = 0; round < 10; round++) {
        const uint hi0 = mul_hi(PHILOX_M0, c.s0), lo0 = PHILOX_M0 * c.s0;
        const uint hi1 = mul_hi(PHILOX_M1, c.s2), lo1 = PHILOX_M1 * c.s2;
        c = (uint4)(hi1 ^ c.s1 ^ k.s0, lo1, hi0 ^ c.s3 ^ k.s1, lo0);
        k += (uint2)(PHILOX_W0, PHILOX_W1);
    }
    return c;
}

/* Block `block` of (seed, stream, substream): key (seed lo, seed hi),
 * counter (block lo, block hi, substream, stream), as clae__random_block. */
uint4 random_block(ulong seed, uint stream, uint substream, ulong block)
{
    return philox4x32((uint4)((uint)block, (uint)(block >> 32), substream,
                              stream),
                      (uint2)((uint)seed, (uint)(seed >> 32)));
}

/* The words of elements 8 chunk .. 8 chunk + 7. */
uint8 chunk_words(ulong seed, uint stream, uint substream, uint chunk)
{
    const ulong block = 2 * (ulong)chunk;
    return (uint8)(random_block(seed, stream, substream, block),
                   random_block(seed, stream, substream, block + 1));
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
 * which tests compare with the host's. Global size (blocks). */
__kernel void random_bits(__global uint *out, ulong seed, uint stream,
                          uint substream, ulong first_block)
{
    const size_t i = get_global_id(0);
    vstore4(random_block(seed, stream, substream, first_block + i), i, out);
}

/* out (n) = uniform draws in [a, b) as clae__random_uniform, or normal
 * draws of mean a and standard deviation b as clae__random_normal. */
__kernel void random_fill(__global float *out, uint n, ulong seed,
                          uint stream, uint substream, uint dist, float a,
                          float b)
{
    const uint chunk = get_global_id(0), e0 = chunk * CHUNK,
               w = chunk_width(e0, n);
    const uint8 bits = chunk_words(seed, stream, substream, chunk);
    float8 v;
    if (dist == DIST_NORMAL) {
        v = a + b * box_muller(bits);
    } else {
        v = a + (b - a) * unit_float(bits);
        /* That can round up to b; keep [a, b) as the host does. */
        v = select(nextafter((float8)b, (float8)a), v, v < b);
    }
    store_chunk(out + e0, v, w);
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
    const uint chunk = get_global_id(0), e0 = chunk * CHUNK,
               w = chunk_width(e0, n);
    const float8 x = load_chunk(clean + clean_off + e0, w);
    const uint8 bits = chunk_words(seed, stream, substream, chunk);
    float8 y;
    if (kind == NOISE_GAUSSIAN) {
        y = x + amount * box_muller(bits);
    } else {
        const float8 fill =
            kind == NOISE_MASK ? (float8)0.0f : convert_float8(bits & 1u);
        y = select(x, fill, unit_float(bits) < amount);
    }
    store_chunk(noisy + e0, y, w);
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
    const uint chunk = get_global_id(0), e0 = chunk * CHUNK,
               w = chunk_width(e0, n);
    const float8 v = load_chunk(x + x_off + e0, w);
    const uint8 bits = chunk_words(seed, stream, substream, chunk);
    const float8 m = select((float8)scale, (float8)0.0f, unit_float(bits) < p);
    store_chunk(multiplier + e0, m, w);
    store_chunk(a + e0, v * m, w);
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
