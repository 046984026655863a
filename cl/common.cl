/* Helpers shared by every program (clae builds each cl/ file with this one
 * in front of it).
 *
 * Element-wise kernels work on chunks of CHUNK consecutive floats of a row
 * and do their math in float16 (sixteen floats, not half precision):
 * explicit vector code is what CPU drivers such as PoCL turn into SIMD
 * instructions (the same math written per float ran 10x slower there), and
 * GPUs run it just as well. Sixteen is an AVX-512 register; on PoCL it ran
 * the loss, optimizer and activation kernels 1.2-2x faster than eight did,
 * with AVX-512 and with AVX2 alike (POCL_LLVM_CPU_NAME=haswell), and one
 * width everywhere keeps the per-chunk loss sums (which checkpoints hold)
 * the same on every device. A row's last chunk may be partial; its missing
 * lanes read as 0 and are never written. */
#define CHUNK 16

/* A chunk's lanes in order, as an array initializer. */
#define CHUNK_LANES(v)                                                      \
    {v.s0, v.s1, v.s2, v.s3, v.s4, v.s5, v.s6, v.s7,                         \
     v.s8, v.s9, v.sa, v.sb, v.sc, v.sd, v.se, v.sf}

/* The number of valid lanes of the chunk starting at column c0. */
uint chunk_width(uint c0, uint cols)
{
    return cols - c0 < CHUNK ? cols - c0 : CHUNK;
}

float16 load_chunk(__global const float *p, uint n)
{
    if (n == CHUNK) return vload16(0, p);
    float v[CHUNK] = {0.0f};
    for (uint i = 0; i < n; i++) v[i] = p[i];
    return vload16(0, v);
}

void store_chunk(__global float *p, float16 v, uint n)
{
    if (n == CHUNK) {
        vstore16(v, 0, p);
        return;
    }
    float t[CHUNK];
    vstore16(v, 0, t);
    for (uint i = 0; i < n; i++) p[i] = t[i];
}

/* The chunk at column c0 of a bias that repeats every period columns: a
 * dense layer's bias has one entry per column (period = cols); a
 * convolution's rows hold pixels of channels-last images, whose bias has
 * one entry per channel (period = channels). */
float16 load_bias(__global const float *bias, uint c0, uint n, uint period)
{
    const uint at = c0 % period;
    if (n == CHUNK && at + CHUNK <= period) return vload16(0, bias + at);
    float v[CHUNK] = {0.0f};
    for (uint i = 0; i < n; i++) v[i] = bias[(c0 + i) % period];
    return vload16(0, v);
}

/* The sum of the first n lanes, in a fixed order. (Written this way
 * because Oclgrind 21.10 crashes on a select over a lane mask, and on a
 * vstore8 to a private array, here.) */
float chunk_sum(float16 v, uint n)
{
    const float lanes[CHUNK] = CHUNK_LANES(v);
    float sum = 0.0f;
    for (uint i = 0; i < n; i++) sum += lanes[i];
    return sum;
}

/* Activations, as clae_activation numbers them. param is leaky_relu's
 * slope or elu's alpha. Softmax works on whole rows (activation.cl's
 * softmax kernels); the element-wise code treats it as linear. */
#define ACT_LINEAR 0
#define ACT_RELU 1
#define ACT_SIGMOID 2
#define ACT_TANH 3
#define ACT_LEAKY_RELU 4
#define ACT_ELU 5
#define ACT_SOFTMAX 6

float16 act_forward(uint act, float16 v, float param)
{
    if (act == ACT_RELU) return fmax(v, 0.0f);
    if (act == ACT_SIGMOID) return 1.0f / (1.0f + exp(-v));
    if (act == ACT_TANH) return tanh(v);
    if (act == ACT_LEAKY_RELU) return select(v * param, v, v > 0.0f);
    if (act == ACT_ELU) return select(param * (exp(v) - 1.0f), v, v > 0.0f);
    return v;
}

/* act'(.) taken from the activation's output y (each of these
 * activations' derivative is a function of its output). */
float16 act_derivative(uint act, float16 y, float param)
{
    if (act == ACT_RELU) return select((float16)0.0f, (float16)1.0f, y > 0.0f);
    if (act == ACT_SIGMOID) return y * (1.0f - y);
    if (act == ACT_TANH) return 1.0f - y * y;
    if (act == ACT_LEAKY_RELU)
        return select((float16)param, (float16)1.0f, y > 0.0f);
    if (act == ACT_ELU) return select(y + param, (float16)1.0f, y > 0.0f);
    return 1.0f;
}
