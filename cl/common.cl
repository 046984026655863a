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

/* The sum of the first n lanes, in a fixed order. */
float chunk_sum(float8 v, uint n)
{
    const int8 lane = (int8)(0, 1, 2, 3, 4, 5, 6, 7);
    const float8 kept = select((float8)0.0f, v, lane < (int8)(int)n);
    const float4 s4 = kept.lo + kept.hi;
    const float2 s2 = s4.lo + s4.hi;
    return s2.x + s2.y;
}
