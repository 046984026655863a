/* The batches of a shuffled epoch, gathered from the resident set.
 * Global size (rows, ceil(cols / CHUNK)); dst is (rows, cols) and row r is
 * the set's row index[index_off + r]. Rows are the first dimension: a CPU
 * driver runs neighbouring items in turn, which then read from different
 * rows, so the loads of several of the set's scattered rows are in flight
 * at once (with items along a row, the gather of the reference job took
 * 1.7x as long on PoCL). */

/* gather_rows: a set of floats, src (n, cols). */
__kernel void gather_rows(__global float *dst, __global const float *src,
                          __global const uint *index, uint index_off,
                          uint cols)
{
    const uint c0 = get_global_id(1) * CHUNK, n = chunk_width(c0, cols);
    const size_t r = get_global_id(0);
    const size_t s = index[index_off + r];
    store_chunk(dst + r * cols + c0, load_chunk(src + s * cols + c0, n), n);
}

/* gather_codes: a set held as byte codes, src (n, cols), code k standing
 * for the float k / scale (a uint8 file's values): a quarter of the memory
 * traffic of gather_rows, which is what bounds it. The division is
 * k * inverse corrected by one fused multiply-add, which gives the rounded
 * quotient the host computed (the host checks all 256 codes before it
 * chooses codes; inverse is 1 / scale rounded to float). */
__kernel void gather_codes(__global float *dst, __global const uchar *src,
                           __global const uint *index, uint index_off,
                           uint cols, float scale, float inverse)
{
    const uint c0 = get_global_id(1) * CHUNK, n = chunk_width(c0, cols);
    const size_t r = get_global_id(0);
    __global const uchar *codes = src + index[index_off + r] * (size_t)cols + c0;
    float16 k;
    if (n == CHUNK) {
        k = convert_float16(vload16(0, codes));
    } else {
        float v[CHUNK] = {0.0f};
        for (uint i = 0; i < n; i++) v[i] = codes[i];
        k = vload16(0, v);
    }
    const float16 s = scale, inv = inverse, q = k * inv;
    store_chunk(dst + r * cols + c0, fma(fma(-q, s, k), inv, q), n);
}
