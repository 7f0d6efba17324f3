/* The trend of a loss across model sizes, labelled only when significant. */
#ifndef ALAB_TREND_H
#define ALAB_TREND_H
#include <jansson.h>
#include "alab/base.h"

/* ---- scaling trends ----
 * Loss against x = log10(parameters or compute), one point per model with
 * its standard error. Test (alpha = 0.05 by default): weighted least
 * squares, weights 1/(se^2 + tau^2) with tau^2 the between-model variance
 * (DerSimonian-Laird moment estimate from the richest fit; ordinary least
 * squares when some se is not positive), residual scale estimated, t-tests
 * on the coefficients. A label must also be visible in the observed means
 * (U: the largest mean at an interior x, above both ends; inverted-U: the
 * smallest, below both; standard / inverse: the largest model's mean below /
 * above the smallest's), else "no significant trend" with the reason.
 *   0. gate: an F-test of the quadratic fit against a constant (with 3
 *      models, the slope's t-test) must reject at alpha before any label is
 *      given, so the whole procedure's false-positive rate on flat noise is
 *      at most alpha (the tests below only name the shape).
 *   1. quadratic fit y = a + b x + c x^2 (needs >= 5 models): U-shaped or
 *      inverted-U when c is significant (two-sided t, df n-3), the vertex
 *      -b/2c lies inside [min x, max x], and the fitted slopes b + 2cx at both
 *      ends are significant with opposite signs (one-sided t each, the
 *      Lind-Mehlum test).
 *   2. else linear fit y = a + b x (needs >= 3): standard scaling when b is
 *      significantly negative (loss falls with scale), inverse when
 *      significantly positive (two-sided t, df n-2).
 *   3. else "no significant trend".
 * Labels describe performance as McKenzie et al. (2023) use them: U-shaped =
 * performance falls then recovers, so the LOSS rises then falls (a cap);
 * inverted-U = performance rises then falls (loss falls then rises). */
typedef enum { AL_TREND_NONE, AL_TREND_STANDARD, AL_TREND_INVERSE, AL_TREND_U, AL_TREND_INVERTED_U } al_trend;
const char *al_trend_name(al_trend t);
typedef struct {
  al_trend label;
  int n, weighted;
  double alpha, gate_p; /* gate_p: F-test of any trend */
  double tau2;          /* between-model variance added to every se^2 (weighted fits) */
  double lin_a, lin_b, lin_b_se, lin_b_p;                   /* linear fit */
  double q_a, q_b, q_c, q_c_se, q_c_p, vertex;              /* quadratic fit */
  double slope_lo, slope_lo_t, slope_lo_p, slope_hi, slope_hi_t, slope_hi_p; /* quadratic's end slopes (one-sided p) */
  char test[600];      /* the test used, in words */
  char reason[200];    /* why this label */
} al_trend_fit;
int al_fit_trend(const double *x, const double *y, const double *se, int n, double alpha, al_trend_fit *out,
                 al_err *err);
json_t *al_trend_json(const al_trend_fit *f);

#endif
