/* A variational autoencoder's Gaussian latent layer (src/layer_latent.c).
 * stats (rows, 2K) holds each row's K means mu, then its K log-variances
 * lv, from the layer's dense projection; eps, z and g are (rows, K). One
 * item per row: K is small (2 to a few hundred). */

/* Forward: stats += bias (at bias_off of params; in place, for the
 * backward pass); z = mu + exp(lv / 2) eps when sample, else mu; and
 * kl[kl_off + row] = KL(N(mu, exp(lv)) || N(0, I)) = -1/2 sum over the
 * row of (1 + lv - mu^2 - exp(lv)). Global size (rows). */
__kernel void latent_forward(__global float *stats,
                             __global const float *params, uint bias_off,
                             __global const float *eps, __global float *z,
                             __global float *kl, uint kl_off, uint k,
                             uint sample)
{
    const size_t row = get_global_id(0);
    __global float *mu = stats + row * 2 * k, *lv = mu + k;
    __global const float *bias = params + bias_off;
    float sum = 0.0f;
    for (uint c0 = 0; c0 < k; c0 += CHUNK) {
        const uint n = chunk_width(c0, k);
        const float16 m = load_chunk(mu + c0, n) + load_chunk(bias + c0, n);
        const float16 v =
            load_chunk(lv + c0, n) + load_chunk(bias + k + c0, n);
        store_chunk(mu + c0, m, n);
        store_chunk(lv + c0, v, n);
        const float16 out =
            sample ? m + exp(0.5f * v) * load_chunk(eps + row * k + c0, n) : m;
        store_chunk(z + row * k + c0, out, n);
        sum += chunk_sum(1.0f + v - m * m - exp(v), n);
    }
    kl[kl_off + row] = -0.5f * sum;
}

/* Backward of a sampled forward pass, in place: stats becomes d loss /
 * d stats, the sample's gradient g through z plus kl_scale (the KL term's
 * weight in the batch's loss) times the KL's own:
 *   d mu = g + kl_scale mu,
 *   d lv = g eps exp(lv / 2) / 2 + kl_scale (exp(lv) - 1) / 2.
 * Global size (rows). */
__kernel void latent_backward(__global float *stats,
                              __global const float *eps,
                              __global const float *g, uint k, float kl_scale)
{
    const size_t row = get_global_id(0);
    __global float *mu = stats + row * 2 * k, *lv = mu + k;
    for (uint c0 = 0; c0 < k; c0 += CHUNK) {
        const uint n = chunk_width(c0, k);
        const float16 m = load_chunk(mu + c0, n), v = load_chunk(lv + c0, n);
        const float16 dz = load_chunk(g + row * k + c0, n);
        const float16 e = load_chunk(eps + row * k + c0, n);
        store_chunk(mu + c0, dz + kl_scale * m, n);
        store_chunk(lv + c0,
                    0.5f * (dz * e * exp(0.5f * v) + kl_scale * (exp(v) - 1.0f)),
                    n);
    }
}
