#ifndef ROSTER_CLOCK_H
#define ROSTER_CLOCK_H

#include <stdint.h>
#include <stddef.h>

/* The one seam for time, sleeping and randomness. Everything in the
 * library that waits or draws a random number goes through here, so tests
 * can replace it and assert the waits that were asked for without sleeping.
 *
 * The environment variable ROSTER_FAKE_CLOCK=EPOCH[:SEED] (read by
 * clk_from_env, which every main calls) starts a virtual clock at EPOCH
 * seconds: sleeping advances it instantly, and the random generator is
 * seeded with SEED. Every sleep is also recorded (clk_slept). */

double clk_now(void);           /* seconds since the epoch */
void clk_sleep(double seconds); /* real or virtual */
uint64_t clk_random(void);      /* 64 random bits */
double clk_uniform(void);       /* uniform in [0, 1) */

void clk_use_fake(double start, uint64_t seed);
void clk_use_real(void);
int clk_from_env(void); /* 0, or -1 if the variable is malformed */
int clk_is_fake(void);
double clk_slept(void); /* total seconds slept (or virtually slept) */

/* "2026-11-29T03:04:05.123Z" */
void clk_iso8601(double t, char *out, size_t n);

#endif
