/* Helpers shared by every program (clae builds each cl/ file with this one
 * in front of it).
 *
 * Element-wise kernels work on chunks of CHUNK consecutive floats of a row
 * and do their math in float8: explicit vector code is what CPU drivers
 * such as PoCL turn into SIMD instructions (the same math written per float
 * ran 10x slower there), and GPUs run it just as well. A row's last chunk
 * may be partial; its missing lanes read as 0 and are never written. */
#define CHUNK 8

/* The number of valid lanes of the chunk starting at column c0. */
uint chunk_width(uint c0, uint cols)
{
    return cols - c0 < CHUNK ? cols - c0 : CHUNK;
}

float8 load_chunk(__global const float *p, uint n)
{
    if (n == CHUNK) return vload8(0, p);
    float v[CHUNK] = {0.0f};
    for (uint i = 0; i < n; i++) v[i] = p[i];
    return vload8(0, v);
}

void store_chunk(__global float *p, float8 v, uint n)
{
    if (n == CHUNK) {
        vstore8(v, 0, p);
        return;
    }
    float t[CHUNK];
    vstore8(v, 0, t);
    for (uint i = 0; i < n; i++) p[i] = t[i];
}

/* The sum of the first n lanes, in a fixed order. (Written this way
 * because Oclgrind 21.10 crashes on a select over a lane mask, and on a
 * vstore8 to a private array, here.) */
float chunk_sum(float8 v, uint n)
{
    const float lanes[CHUNK] = {v.s0, v.s1, v.s2, v.s3, v.s4, v.s5, v.s6, v.s7};
    float sum = 0.0f;
    for (uint i = 0; i < n; i++) sum += lanes[i];
    return sum;
}

/* Activations, as clae_activation numbers them. */
#define ACT_LINEAR 0
#define ACT_RELU 1
#define ACT_SIGMOID 2
#define ACT_TANH 3

/* act'(.) taken from the activation's output y. */
float8 act_derivative(uint act, float8 y)
{
    if (act == ACT_RELU) return select((float8)0.0f, (float8)1.0f, y > 0.0f);
    if (act == ACT_SIGMOID) return y * (1.0f - y);
    if (act == ACT_TANH) return 1.0f - y * y;
    return 1.0f;
}
