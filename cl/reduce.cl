/* Reductions over the batch.
 * bias_grad: grad[grad_off + c] = sum over rows of dz[r, c]; dz is (rows,
 * cols) row-major. One item per chunk of columns, summing rows in order, so
 * the result is the same on every run. Global size (ceil(cols / CHUNK)). */
__kernel void bias_grad(__global const float *dz, __global float *grad,
                        uint grad_off, uint rows, uint cols)
{
    const uint c0 = get_global_id(0) * CHUNK, n = chunk_width(c0, cols);
    float8 sum = 0.0f;
    for (uint r = 0; r < rows; r++)
        sum += load_chunk(dz + (size_t)r * cols + c0, n);
    store_chunk(grad + grad_off + c0, sum, n);
}
