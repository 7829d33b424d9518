/* splitmix.h - the tests' reproducible random numbers: splitmix64, one
 * stream per test program, seeded by setting rng_state. */
#ifndef SLUICE_TEST_SPLITMIX_H
#define SLUICE_TEST_SPLITMIX_H

#include <stdint.h>

static uint64_t rng_state;

static inline uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#endif
