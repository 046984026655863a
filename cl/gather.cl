/* gather_rows: dst[r, :] = src[index[index_off + r], :], the batch of a
 * shuffled epoch. src is (n, cols), dst is (rows, cols), both row-major.
 * Global size (cols, rows). */
__kernel void gather_rows(__global float *dst, __global const float *src,
                          __global const uint *index, uint index_off,
                          uint cols)
{
    const size_t c = get_global_id(0);
    const size_t r = get_global_id(1);
    const size_t s = index[index_off + r];
    dst[r * cols + c] = src[s * cols + c];
}
