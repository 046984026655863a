/* The variational models' helpers that the tests reach (src/vae.c). */
#ifndef CLAE_VAE_H
#define CLAE_VAE_H

/* The standard normal quantile, Phi^-1(p): the x with Phi(x) = p, for p
 * in (0, 1); -inf and +inf at 0 and 1, NaN elsewhere. Accurate to about
 * 1e-15 relative. */
double clae__normal_quantile(double p);

#endif
