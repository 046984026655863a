/* gather_rows: dst[r, :] = src[index[index_off + r], :], the batch of a
 * shuffled epoch. src is (n, cols), dst is (rows, cols), both row-major.
 * Global size (ceil(cols / CHUNK), rows). */
__kernel void gather_rows(__global float *dst, __global const float *src,
                          __global const uint *index, uint index_off,
                          uint cols)
{
    const uint c0 = get_global_id(0) * CHUNK, n = chunk_width(c0, cols);
    const size_t r = get_global_id(1);
    const size_t s = index[index_off + r];
    store_chunk(dst + r * cols + c0, load_chunk(src + s * cols + c0, n), n);
}
