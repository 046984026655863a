/* Reductions over the batch.
 * bias_grad: grad[grad_off + c] = sum over rows of dz[r, c]; dz is (rows,
 * cols) row-major. One item per column, summing rows in order, so the result
 * is the same on every run. Global size (cols). */
__kernel void bias_grad(__global const float *dz, __global float *grad,
                        uint grad_off, uint rows, uint cols)
{
    const size_t c = get_global_id(0);
    float sum = 0.0f;
    for (uint r = 0; r < rows; r++) sum += dz[(size_t)r * cols + c];
    grad[grad_off + c] = sum;
}
