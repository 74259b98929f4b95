#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static int g_fake;
static double g_fake_now;
static double g_slept;
static uint64_t g_rng_state;
static int g_rng_seeded;

void clk_use_fake(double start, uint64_t seed)
{
	g_fake = 1;
	g_fake_now = start;
	g_rng_state = seed;
	g_rng_seeded = 1;
}

void clk_use_real(void)
{
	g_fake = 0;
	g_rng_seeded = 0;
}

int clk_is_fake(void)
{
	return g_fake;
}

int clk_from_env(void)
{
	const char *v = getenv("ROSTER_FAKE_CLOCK");
	char *end;
	if (!v || !*v)
		return 0;
	errno = 0;
	double start = strtod(v, &end);
	uint64_t seed = 1;
	if (errno || end == v)
		return -1;
	if (*end == ':') {
		const char *s = end + 1;
		seed = strtoull(s, &end, 10);
		if (end == s)
			return -1;
	}
	if (*end)
		return -1;
	clk_use_fake(start, seed);
	return 0;
}

double clk_now(void)
{
	struct timespec ts;
	if (g_fake)
		return g_fake_now;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void clk_sleep(double seconds)
{
	if (!(seconds > 0))
		return;
	g_slept += seconds;
	if (g_fake) {
		g_fake_now += seconds;
		return;
	}
	struct timespec ts = {(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

double clk_slept(void)
{
	return g_slept;
}

/* splitmix64: small, fast, and good enough for jitter. */
static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t clk_random(void)
{
	if (!g_rng_seeded) {
		if (getrandom(&g_rng_state, sizeof g_rng_state, 0) != sizeof g_rng_state)
			g_rng_state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		g_rng_seeded = 1;
	}
	return splitmix(&g_rng_state);
}

double clk_uniform(void)
{
	return (double)(clk_random() >> 11) / 9007199254740992.0;
}

void clk_iso8601(double t, char *out, size_t n)
{
	time_t s = (time_t)floor(t);
	int ms = (int)((t - floor(t)) * 1000.0);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}
