/*
 * The recurrent loop of model/fused/lstm_js_gates.ts in C: per time step one OpenBLAS product for the
 * recurrence and the gate arithmetic, for a whole sequence batch in ONE foreign call per layer
 * and pass. In JS the gate loops cost ~75 ms of a ~205 ms training step (scalar code, five
 * exponentials per unit); vectorised here they cost a few milliseconds, and driving the 200
 * per-step products from C removes 200 FFI round trips per layer and step.
 *
 * Built on demand by model/fused/native_build.ts (cc -O3 -shared -fPIC); nothing here is required:
 * when it does not build or load, the layer runs the same loops in JS.
 *
 * OpenBLAS is not linked at build time: lstm_gates_init() dlopens the very library file that
 * model/fused/blas.ts opened (same path, so the same handle and the same thread setting), which keeps
 * the build free of -dev packages and of library search paths.
 *
 * Layouts are those of model/fused/lstm_buffers.ts, row-major: g [B*T, 4U] (gate order i, f, c, o),
 * c, tc, p [B, T, U], recurrent kernel R [U, 4U], bias [4U], mask [B, U].
 *
 * Maths is single precision with Cephes-style expf and tanhf (relative error ~2e-7, against
 * 1e-4 in the equivalence tests). The x86-64 entry points are compiled twice, for AVX2+FMA
 * and for baseline SSE2, and picked once at init from what the CPU supports, so one cached
 * binary is right on any x86-64 machine.
 */
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c,
                         int ldc);

enum { ROW_MAJOR = 101, NO_TRANS = 111 };

static sgemm_fn sgemm = 0;

#define INLINE static inline __attribute__((always_inline))

/* e^x, x clamped to [-87, 88] so 2^n stays a normal float. Cephes expf: n = round(x/ln2),
 * r = x - n ln2 in two parts, a degree-7 polynomial for e^r, then 2^n from the exponent bits. */
INLINE float exp_f(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  float n = x * 1.44269504088896341f + 12582912.0f; /* round to nearest by the 2^23 shift */
  n -= 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * z + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float s;
  memcpy(&s, &bits, sizeof s);
  return p * s;
}

INLINE float sigmoid_f(float x) { return 1.0f / (1.0f + exp_f(-x)); }

/* tanh: an odd polynomial below |x| = 0.625 (where 1 - 2/(e^2x + 1) would cancel), the
 * exponential form above; both computed and one selected, so the loop stays branch-free. */
INLINE float tanh_f(float x) {
  float ax = x < 0.0f ? -x : x;
  float z = x * x;
  float small = -5.70498872745e-3f;
  small = small * z + 2.06390887954e-2f;
  small = small * z - 5.37397155531e-2f;
  small = small * z + 1.33314422036e-1f;
  small = small * z - 3.33332819422e-1f;
  small = small * z * x + x;
  float big = 1.0f - 2.0f / (exp_f(2.0f * ax) + 1.0f);
  big = x < 0.0f ? -big : big;
  return ax < 0.625f ? small : big;
}

INLINE float hard_sigmoid_f(float x) {
  float y = 0.2f * x + 0.5f;
  y = y < 0.0f ? 0.0f : y;
  return y > 1.0f ? 1.0f : y;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * Gates of one batch row at step t, in place: pre-activations zr (+ bias) become activations;
 * writes c_t, tanh(c_t) and h_t (into hrow). cprev is c_{t-1} (a zero row at t = 0: a pointer
 * that is never null keeps the loop free of branches, so it vectorises).
 */
INLINE void forward_row(float *restrict zr, const float *restrict bias,
                        const float *restrict cprev, float *restrict ct, float *restrict tct,
                        float *restrict hrow, int U, int u0, int u1, int hard) {
  float *restrict zi = zr, *restrict zf = zr + U, *restrict zc = zr + 2 * U,
                  *restrict zo = zr + 3 * U;
  const float *bi = bias, *bf = bias + U, *bc = bias + 2 * U, *bo = bias + 3 * U;
  if (hard) {
    for (int j = u0; j < u1; j++) {
      float ig = hard_sigmoid_f(zi[j] + bi[j]);
      float fg = hard_sigmoid_f(zf[j] + bf[j]);
      float gg = tanh_f(zc[j] + bc[j]);
      float og = hard_sigmoid_f(zo[j] + bo[j]);
      float c = fg * cprev[j] + ig * gg;
      float tc = tanh_f(c);
      zi[j] = ig, zf[j] = fg, zc[j] = gg, zo[j] = og;
      ct[j] = c, tct[j] = tc, hrow[j] = og * tc;
    }
  } else {
    for (int j = u0; j < u1; j++) {
      float ig = sigmoid_f(zi[j] + bi[j]);
      float fg = sigmoid_f(zf[j] + bf[j]);
      float gg = tanh_f(zc[j] + bc[j]);
      float og = sigmoid_f(zo[j] + bo[j]);
      float c = fg * cprev[j] + ig * gg;
      float tc = tanh_f(c);
      zi[j] = ig, zf[j] = fg, zc[j] = gg, zo[j] = og;
      ct[j] = c, tct[j] = tc, hrow[j] = og * tc;
    }
  }
}

/*
 * Gates of one batch row at backward step t, in place: activations in gr become dZ. dh holds
 * the recurrent gradient of h_t (dy added here), dc that of c_t and becomes that of c_{t-1}.
 * cprev and dyr are zero rows where there is no c_{t-1} or no output gradient (see above).
 */
INLINE void backward_row(float *restrict gr, const float *restrict cprev,
                         const float *restrict tct, const float *restrict dyr,
                         const float *restrict dh, float *restrict dc, int U, int u0, int u1,
                         int hard) {
  float *restrict gi = gr, *restrict gf = gr + U, *restrict gc = gr + 2 * U,
                  *restrict go = gr + 3 * U;
  if (hard) {
    for (int j = u0; j < u1; j++) {
      float dht = dh[j] + dyr[j];
      float ig = gi[j], fg = gf[j], gg = gc[j], og = go[j], tc = tct[j];
      float dct = dc[j] + dht * og * (1.0f - tc * tc);
      dc[j] = dct * fg;
      gc[j] = dct * ig * (1.0f - gg * gg);
      /* The slope (0.2 inside the linear part, else 0) as a factor: no branch in the loop. */
      float si = (ig > 0.0f) & (ig < 1.0f) ? 0.2f : 0.0f;
      float sf = (fg > 0.0f) & (fg < 1.0f) ? 0.2f : 0.0f;
      float so = (og > 0.0f) & (og < 1.0f) ? 0.2f : 0.0f;
      gi[j] = si * dct * gg;
      gf[j] = sf * dct * cprev[j];
      go[j] = so * dht * tc;
    }
  } else {
    for (int j = u0; j < u1; j++) {
      float dht = dh[j] + dyr[j];
      float ig = gi[j], fg = gf[j], gg = gc[j], og = go[j], tc = tct[j];
      float dct = dc[j] + dht * og * (1.0f - tc * tc);
      dc[j] = dct * fg;
      gc[j] = dct * ig * (1.0f - gg * gg);
      gi[j] = dct * gg * ig * (1.0f - ig);
      gf[j] = dct * cprev[j] * fg * (1.0f - fg);
      go[j] = dht * tc * og * (1.0f - og);
    }
  }
}

/*
 * One row's recurrence, g += h · R, for B = 1 (generation), where OpenBLAS's sgemm spends most
 * of its time packing R (~100 µs for 256 units against ~30 for this loop). Each output is a
 * single fused multiply-add chain over k from zero, added to g at the end: the order OpenBLAS's
 * x86-64 kernels use while k fits one block, so the bits are the same. That is checked, not
 * assumed: exact_matvec() compares the two once per unit count and falls back to sgemm on any
 * difference (it finds one above ~300 units, where OpenBLAS splits k).
 */
#define MATVEC_BLOCK 64
INLINE void matvec_body(const float *restrict h, const float *restrict r, float *restrict g,
                        int U, int N, int ldr) {
  for (int j0 = 0; j0 < N; j0 += MATVEC_BLOCK) {
    const int n = N - j0 < MATVEC_BLOCK ? N - j0 : MATVEC_BLOCK;
    float acc[MATVEC_BLOCK];
    for (int j = 0; j < n; j++) acc[j] = 0.0f;
    for (int k = 0; k < U; k++) {
      const float hk = h[k];
      const float *restrict row = r + (size_t)k * ldr + j0;
      for (int j = 0; j < n; j++) acc[j] = fmaf(hk, row[j], acc[j]);
    }
    for (int j = 0; j < n; j++) g[j0 + j] += acc[j];
  }
}

/*
 * g += x · M for one row without fused multiply-adds, for the stateful generation step: it has
 * no sgemm to agree with, so it rounds as the plain C loops do and gives the same bits with or
 * without AVX2.
 */
INLINE void matvec_plain(const float *restrict x, const float *restrict m, float *restrict g,
                         int K, int N) {
  for (int j0 = 0; j0 < N; j0 += MATVEC_BLOCK) {
    const int n = N - j0 < MATVEC_BLOCK ? N - j0 : MATVEC_BLOCK;
    float acc[MATVEC_BLOCK];
    for (int j = 0; j < n; j++) acc[j] = 0.0f;
    for (int k = 0; k < K; k++) {
      const float xk = x[k];
      const float *restrict row = m + (size_t)k * N + j0;
      for (int j = 0; j < n; j++) acc[j] = acc[j] + xk * row[j];
    }
    for (int j = 0; j < n; j++) g[j0 + j] += acc[j];
  }
}

/*
 * matvec_body on a copy of R packed for it: block b holds columns b·64 … b·64+63 of every row,
 * contiguous (U·64 floats), so each block streams through the cache instead of striding 4U
 * floats per row. Computes blocks b0 … b1−1 of g; the same chains of fused multiply-adds, so the
 * same bits.
 */
INLINE void matvec_packed_body(const float *restrict h, const float *restrict rp,
                               float *restrict g, int U, int b0, int b1) {
  for (int b = b0; b < b1; b++) {
    const float *restrict block = rp + (size_t)b * U * MATVEC_BLOCK;
    float acc[MATVEC_BLOCK];
    for (int j = 0; j < MATVEC_BLOCK; j++) acc[j] = 0.0f;
    for (int k = 0; k < U; k++) {
      const float hk = h[k];
      const float *restrict row = block + (size_t)k * MATVEC_BLOCK;
      for (int j = 0; j < MATVEC_BLOCK; j++) acc[j] = fmaf(hk, row[j], acc[j]);
    }
    float *restrict gb = g + (size_t)b * MATVEC_BLOCK;
    for (int j = 0; j < MATVEC_BLOCK; j++) gb[j] += acc[j];
  }
}

/* The AVX2+FMA build of matvec_packed_body (set by lstm_gates_init with matvec). */
static void (*matvec_packed)(const float *, const float *, float *, int, int, int) = 0;

/* The AVX2+FMA build of matvec_body (h, r, g, K, N columns, row stride of r), or null where it
 * cannot run (set by lstm_gates_init). */
static void (*matvec)(const float *, const float *, float *, int, int, int) = 0;

/* Unit counts probed so far and whether matvec gave sgemm's bits for them. */
static struct {
  int units, exact;
} probed[16];
static int n_probed = 0;

/* Does matvec give exactly sgemm's result for U units here? Probed once per U on
 * pseudo-random data (an LCG, so the probe is the same on every run). */
static int exact_matvec(int U) {
  if (!matvec) return 0;
  for (int i = 0; i < n_probed; i++) {
    if (probed[i].units == U) return probed[i].exact;
  }
  const int G4 = 4 * U;
  float *buf = malloc(sizeof(float) * ((size_t)U * G4 + U + 2 * (size_t)G4));
  if (!buf) return 0;
  float *r = buf, *h = r + (size_t)U * G4, *a = h + U, *b = a + G4;
  uint32_t state = 12345u;
  for (size_t i = 0; i < (size_t)U * G4 + U + G4; i++) {
    state = state * 1664525u + 1013904223u;
    buf[i] = (float)(state >> 8) / 16777216.0f - 0.5f;
  }
  memcpy(b, a, sizeof(float) * G4);
  sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, 1, G4, U, 1.0f, h, U, r, G4, 1.0f, a, G4);
  matvec(h, r, b, U, G4, G4);
  const int exact = memcmp(a, b, sizeof(float) * G4) == 0;
  free(buf);
  if (n_probed < (int)(sizeof probed / sizeof probed[0])) {
    probed[n_probed].units = U;
    probed[n_probed].exact = exact;
    n_probed++;
  }
  return exact;
}

/*
 * Both cores on the recurrence. A layer's units are split in two halves; each thread owns the
 * gate columns and the state of its half. Forward, a step is the product for its columns (which
 * reads all of h_{t-1}), then the gates of its units, then a barrier, since the next product
 * reads both halves of h_t. Backward, a step is the gates of its units (giving its columns of
 * dZ_t), a barrier, then its columns of dh_{t-1} = dZ_t · Rᵀ (which read all of dZ_t); the
 * next step reads only its own dh, so one barrier per step suffices both ways.
 *
 * Each output element is computed by the same calls on the same data whichever thread runs it,
 * and the split depends only on U (split_units), never on the machine: with one core the two
 * halves run one after the other in the caller, with the same bits.
 */
typedef void (*phase_fn)(void *ctx, int t, int phase, int u0, int u1, double *gemm_ns);

/* Layers of at least this many units are split (smaller products do not gain: measured). */
static int split_min_units = 128;
/* Threads the split may use: 1 (the halves run in turn) or 2. Set by lstm_gates_threads. */
static int split_threads = 1;

/* Where the units are split, or 0 for no split: half, rounded down to whole AVX registers. */
static int split_units(int U) { return U >= split_min_units && U >= 16 ? (U / 2) & ~7 : 0; }

static _Atomic int barrier_count = 0, barrier_phase = 0;

/* Two threads meet: the second to arrive releases the first. Spins briefly (a step is tens of
 * microseconds), then yields, so a core shared with other work is not burnt. */
static void barrier2(void) {
  const int phase = atomic_load_explicit(&barrier_phase, memory_order_acquire);
  if (atomic_fetch_add_explicit(&barrier_count, 1, memory_order_acq_rel) == 1) {
    atomic_store_explicit(&barrier_count, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&barrier_phase, 1, memory_order_release);
    return;
  }
  for (int spins = 0; atomic_load_explicit(&barrier_phase, memory_order_acquire) == phase;
       spins++) {
    if (spins > 20000) sched_yield();
#if defined(__x86_64__)
    else __asm__ volatile("pause");
#endif
  }
}

/* One thread's share of a pass: every step's two phases over units [u0, u1), meeting the
 * other thread after phase `barrier_after`. */
static void run_share(phase_fn fn, void *ctx, int T, int reverse, int barrier_after, int u0,
                      int u1, double *gemm_ns) {
  for (int i = 0; i < T; i++) {
    const int t = reverse ? T - 1 - i : i;
    for (int ph = 0; ph < 2; ph++) {
      fn(ctx, t, ph, u0, u1, gemm_ns);
      if (ph == barrier_after) barrier2();
    }
  }
}

/*
 * The helper thread: waits for a share, runs it, says so. Started on first use. A job is taken
 * by counting it claimed under the lock, not by a count the thread keeps, so that each job runs
 * once even if a second helper exists: a runtime that unloads this library and loads it again
 * (deno test does, once per test module) would otherwise leave the first helper waiting on the
 * new pool's condition variable with a stale count, and both would run the next share. The build
 * passes -z nodelete, so that does not happen; this keeps it harmless if it does.
 */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t posted_cv, done_cv;
  int started, ok, posted, claimed, done;
  phase_fn fn;
  void *ctx;
  int T, reverse, barrier_after, u0, u1;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};

/* One split pass at a time: two runtimes in one process (deno test's modules, workers) share
 * the helper and the barrier. */
static pthread_mutex_t drive_mu = PTHREAD_MUTEX_INITIALIZER;

static void *pool_main(void *unused) {
  (void)unused;
  pthread_mutex_lock(&pool.mu);
  for (;;) {
    while (pool.posted == pool.claimed) pthread_cond_wait(&pool.posted_cv, &pool.mu);
    const int job = pool.claimed = pool.posted;
    pthread_mutex_unlock(&pool.mu);
    double ignored = 0;
    run_share(pool.fn, pool.ctx, pool.T, pool.reverse, pool.barrier_after, pool.u0, pool.u1,
              &ignored);
    pthread_mutex_lock(&pool.mu);
    pool.done = job;
    pthread_cond_signal(&pool.done_cv);
  }
  return 0;
}

/* Called with drive_mu held. */
static int pool_ready(void) {
  if (split_threads < 2) return 0;
  if (!pool.started) {
    pool.started = 1;
    pthread_t thread;
    pool.ok = pthread_create(&thread, 0, pool_main, 0) == 0;
    if (pool.ok) pthread_detach(thread);
  }
  return pool.ok;
}

/* Runs a pass of T steps: split over two threads where the layer is split and a second thread
 * runs, else in the caller (the halves in turn when split). */
static void drive(phase_fn fn, void *ctx, int T, int U, int reverse, int barrier_after,
                  double *gemm_ns) {
  const int mid = split_units(U);
  if (mid) pthread_mutex_lock(&drive_mu);
  if (mid && pool_ready()) {
    pthread_mutex_lock(&pool.mu);
    pool.fn = fn, pool.ctx = ctx, pool.T = T, pool.reverse = reverse;
    pool.barrier_after = barrier_after, pool.u0 = mid, pool.u1 = U;
    const int job = ++pool.posted;
    pthread_cond_signal(&pool.posted_cv);
    pthread_mutex_unlock(&pool.mu);
    run_share(fn, ctx, T, reverse, barrier_after, 0, mid, gemm_ns);
    pthread_mutex_lock(&pool.mu);
    while (pool.done != job) pthread_cond_wait(&pool.done_cv, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
    pthread_mutex_unlock(&drive_mu);
    return;
  }
  for (int i = 0; i < T; i++) {
    const int t = reverse ? T - 1 - i : i;
    for (int ph = 0; ph < 2; ph++) {
      if (mid) {
        fn(ctx, t, ph, 0, mid, gemm_ns);
        fn(ctx, t, ph, mid, U, gemm_ns);
      } else {
        fn(ctx, t, ph, 0, U, gemm_ns);
      }
    }
  }
  if (mid) pthread_mutex_unlock(&drive_mu);
}

typedef struct {
  const float *r, *bias, *mask;
  float *g, *c, *tc, *p, *out, *hbuf;
  int B, T, U, hard, return_sequences, one_row;
  /* R packed in blocks of MATVEC_BLOCK columns (generation), or null. */
  const float *packed;
} forward_pass;

/* Forward phase 0: G_t += (mask ⊙ h_{t-1}) · R for the columns of units [u0, u1) (the four
 * gates' slices); phase 1: the gates of those units, h_t into p (masked) and out. */
INLINE void forward_phase(void *ctx, int t, int phase, int u0, int u1, double *gemm_ns) {
  const forward_pass *a = ctx;
  const int U = a->U, G4 = 4 * U, T = a->T, B = a->B, n = u1 - u0;
  if (phase == 0) {
    if (t == 0) return;
    const double s = now_ns();
    const float *h = a->p + (size_t)t * U;
    float *gt = a->g + (size_t)t * G4;
    if (a->packed) {
      for (int q = 0; q < 4; q++) {
        const int c0 = q * U + u0;
        matvec_packed(h, a->packed, gt, U, c0 / MATVEC_BLOCK, (c0 + n) / MATVEC_BLOCK);
      }
    } else if (n == U) {
      if (a->one_row) matvec(h, a->r, gt, U, G4, G4);
      else sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, B, G4, U, 1.0f, h, T * U, a->r, G4, 1.0f, gt,
                 T * G4);
    } else {
      for (int q = 0; q < 4; q++) {
        const float *rq = a->r + (size_t)q * U + u0;
        float *gq = gt + (size_t)q * U + u0;
        if (a->one_row) matvec(h, rq, gq, U, n, G4);
        else sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, B, n, U, 1.0f, h, T * U, rq, G4, 1.0f, gq,
                   T * G4);
      }
    }
    *gemm_ns += now_ns() - s;
    return;
  }
  const int last = t == T - 1;
  const float *zero = a->hbuf + U;
  float *hbuf = a->hbuf;
  for (int b = 0; b < B; b++) {
    const size_t row = (size_t)b * T + t;
    float *st = a->c + row * U;
    forward_row(a->g + row * G4, a->bias, t > 0 ? st - U : zero, st, a->tc + row * U, hbuf, U,
                u0, u1, a->hard);
    if (!last) {
      float *pn = a->p + (row + 1) * U;
      if (a->mask) {
        const float *m = a->mask + (size_t)b * U;
        for (int j = u0; j < u1; j++) pn[j] = hbuf[j] * m[j];
      } else {
        memcpy(pn + u0, hbuf + u0, sizeof(float) * n);
      }
    }
    if (a->return_sequences) memcpy(a->out + row * U + u0, hbuf + u0, sizeof(float) * n);
    else if (last) memcpy(a->out + (size_t)b * U + u0, hbuf + u0, sizeof(float) * n);
  }
}

INLINE void forward_body(const float *r, const float *bias, float *g, float *c, float *tc,
                         float *p, float *out, const float *mask, float *hbuf, int B, int T,
                         int U, int hard, int return_sequences, double *prof,
                         const float *packed, phase_fn phase) {
  double gemm_ns = 0, t0 = now_ns();
  memset(hbuf, 0, sizeof(float) * 2 * U);
  const int one_row = B == 1 && exact_matvec(U);
  /* The packed copy serves only where every share of the columns is whole blocks. */
  const int mid = split_units(U);
  const int blocks = U % MATVEC_BLOCK == 0 && mid % MATVEC_BLOCK == 0;
  forward_pass a = {r, bias, mask, g, c, tc, p, out, hbuf, B, T, U, hard, return_sequences,
                    one_row, one_row && blocks ? packed : 0};
  drive(phase, &a, T, U, 0, 1, &gemm_ns);
  prof[0] += gemm_ns;
  prof[1] += now_ns() - t0 - gemm_ns;
}

typedef struct {
  const float *rt, *c, *tc, *dy, *mask, *zero;
  float *g, *dh, *dc;
  int B, T, U, hard, return_sequences;
} backward_pass;

/* Backward phase 0: the gates of units [u0, u1), giving their columns of dZ_t; phase 1: their
 * columns of dh_{t-1} = mask ⊙ (dZ_t · Rᵀ). */
INLINE void backward_phase(void *ctx, int t, int phase, int u0, int u1, double *gemm_ns) {
  const backward_pass *a = ctx;
  const int U = a->U, G4 = 4 * U, T = a->T, B = a->B;
  if (phase == 0) {
    for (int b = 0; b < B; b++) {
      const size_t row = (size_t)b * T + t;
      const float *dyr = a->return_sequences ? a->dy + row * U
                         : t == T - 1        ? a->dy + (size_t)b * U
                                             : a->zero;
      backward_row(a->g + row * G4, t > 0 ? a->c + (row - 1) * U : a->zero, a->tc + row * U,
                   dyr, a->dh + (size_t)b * U, a->dc + (size_t)b * U, U, u0, u1, a->hard);
    }
    return;
  }
  if (t == 0) return;
  const double s = now_ns();
  sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, B, u1 - u0, G4, 1.0f, a->g + (size_t)t * G4, T * G4,
        a->rt + u0, U, 0.0f, a->dh + u0, U);
  *gemm_ns += now_ns() - s;
  if (a->mask) {
    for (int b = 0; b < B; b++) {
      for (int j = u0; j < u1; j++) a->dh[(size_t)b * U + j] *= a->mask[(size_t)b * U + j];
    }
  }
}

INLINE void backward_body(const float *r, float *rt, float *g, const float *c, const float *tc,
                          const float *dy, float *dh, float *dc, const float *mask, float *zbuf, int B,
                          int T, int U, int hard, int return_sequences, double *prof,
                          phase_fn phase) {
  const int G4 = 4 * U;
  double gemm_ns = 0, t0 = now_ns();
  /* Rᵀ once, so the per-step products dZ_t · Rᵀ run untransposed (faster in OpenBLAS). */
  for (int i = 0; i < U; i++) {
    for (int k = 0; k < G4; k++) rt[(size_t)k * U + i] = r[(size_t)i * G4 + k];
  }
  memset(dh, 0, sizeof(float) * B * U);
  memset(dc, 0, sizeof(float) * B * U);
  memset(zbuf, 0, sizeof(float) * U);
  backward_pass a = {rt, c, tc, dy, mask, zbuf, g, dh, dc, B, T, U, hard, return_sequences};
  drive(phase, &a, T, U, 1, 0, &gemm_ns);
  prof[0] += gemm_ns;
  prof[1] += now_ns() - t0 - gemm_ns;
}

/* One step of one layer for one sequence (stateful generation); see lstm_stack_step. */
INLINE void step_body(const float *x, const float *w, const float *r, const float *bias,
                      float *h, float *c, float *work, int D, int U, int hard) {
  const int G4 = 4 * U;
  float *z = work, *cn = z + G4, *tcn = cn + U, *hn = tcn + U;
  memset(z, 0, sizeof(float) * G4);
  matvec_plain(x, w, z, D, G4);
  matvec_plain(h, r, z, U, G4);
  forward_row(z, bias, c, cn, tcn, hn, U, 0, U, hard);
  memcpy(c, cn, sizeof(float) * U);
  memcpy(h, hn, sizeof(float) * U);
}

/*
 * Window-mode generation, pipelined. Token g comes from a fresh pass over the T tokens before
 * it; the pass for g + 1 differs only in its start, so at any moment T passes are under way,
 * each one step further than the next, and all of them read the same input: the newest token.
 * One "tick" advances every pass by one step, as a batch of T rows, so each weight is read once
 * per tick instead of once per pass and step. Row i holds the pass at step i; the pass at step
 * T − 1 ends, and its h is the next token's. A pass keeps its state in slot (tick − i) mod T.
 *
 * The bits are those of lstm_stack_last for every pass: the input projection is the same sgemm
 * (M = T, row i = step i, so OpenBLAS computes each row where it did), the recurrent product of
 * a row is the same fused multiply-add chain as matvec (k from zero, then added to g: here six
 * rows at a time, which changes nothing per element), and the gates are forward_row. Rows at or
 * past `live` are passes that began before the first token and are skipped.
 *
 * The first layer's recurrent products do not depend on the next token, only on its h after
 * this tick, so they are computed for the next tick while this one's upper layers run (the
 * second thread starts on them as the first runs the next layer's sgemm), kept in `acc`, and
 * added to the input projection when the token is known: the same sum, a + b = b + a.
 */
typedef struct {
  const float *weights, *packed, *zero;
  /* xs [T, d0] the input in every row; g [T, 4U] and seq [T, U] step-ordered; tmp [T, 2U]. */
  float *xs, *g, *seq, *tmp;
  /* Per layer: h then c of every slot ([T, U] each); then acc [T, 4U], the first layer's next
   * recurrent products. */
  float *state, *acc;
  int T, U, d0, layers, tick, live, hard;
  /* Blocks of the first layer's next products taken so far (by either thread). */
  _Atomic int next_block;
} tick_pass;

INLINE int pass_slot(int tick, int i, int T) {
  const int s = (tick - i) % T;
  return s < 0 ? s + T : s;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* Sixteen sums into o: written (store) or added to what is there. */
__attribute__((target("avx2,fma"))) static inline void tick_put(float *o, __m256 lo, __m256 hi,
                                                                 int store) {
  if (!store) {
    lo = _mm256_add_ps(_mm256_loadu_ps(o), lo);
    hi = _mm256_add_ps(_mm256_loadu_ps(o + 8), hi);
  }
  _mm256_storeu_ps(o, lo);
  _mm256_storeu_ps(o + 8, hi);
}

/* out[i] (+)= h[slot(i, tick)] · R for rows [i0, i1) and blocks [b0, b1) of the packed R (out
 * rows 4U apart; `store` writes the sums instead of adding them). Per block and group of 16
 * columns, six rows share each load of R (their sums fill 12 of the 16 AVX registers). Each
 * element is one fused multiply-add chain over k from zero: matvec_packed_body's, element for
 * element. */
__attribute__((target("avx2,fma"))) static void tick_products_avx2(
    const float *h, const float *packed, float *out, int store, int tick, int T, int U, int i0,
    int i1, int b0, int b1) {
  const int G4 = 4 * U;
  for (int b = b0; b < b1; b++) {
    const float *block = packed + (size_t)b * U * MATVEC_BLOCK;
    for (int s = 0; s < MATVEC_BLOCK; s += 16) {
      int i = i0;
      for (; i + 6 <= i1; i += 6) {
        const float *h0 = h + (size_t)pass_slot(tick, i, T) * U;
        const float *h1 = h + (size_t)pass_slot(tick, i + 1, T) * U;
        const float *h2 = h + (size_t)pass_slot(tick, i + 2, T) * U;
        const float *h3 = h + (size_t)pass_slot(tick, i + 3, T) * U;
        const float *h4 = h + (size_t)pass_slot(tick, i + 4, T) * U;
        const float *h5 = h + (size_t)pass_slot(tick, i + 5, T) * U;
        __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00;
        __m256 c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00;
        __m256 c50 = c00, c51 = c00;
        for (int k = 0; k < U; k++) {
          const float *row = block + (size_t)k * MATVEC_BLOCK + s;
          const __m256 r0 = _mm256_loadu_ps(row), r1 = _mm256_loadu_ps(row + 8);
          __m256 x = _mm256_broadcast_ss(h0 + k);
          c00 = _mm256_fmadd_ps(x, r0, c00), c01 = _mm256_fmadd_ps(x, r1, c01);
          x = _mm256_broadcast_ss(h1 + k);
          c10 = _mm256_fmadd_ps(x, r0, c10), c11 = _mm256_fmadd_ps(x, r1, c11);
          x = _mm256_broadcast_ss(h2 + k);
          c20 = _mm256_fmadd_ps(x, r0, c20), c21 = _mm256_fmadd_ps(x, r1, c21);
          x = _mm256_broadcast_ss(h3 + k);
          c30 = _mm256_fmadd_ps(x, r0, c30), c31 = _mm256_fmadd_ps(x, r1, c31);
          x = _mm256_broadcast_ss(h4 + k);
          c40 = _mm256_fmadd_ps(x, r0, c40), c41 = _mm256_fmadd_ps(x, r1, c41);
          x = _mm256_broadcast_ss(h5 + k);
          c50 = _mm256_fmadd_ps(x, r0, c50), c51 = _mm256_fmadd_ps(x, r1, c51);
        }
        float *o = out + (size_t)i * G4 + (size_t)b * MATVEC_BLOCK + s;
        tick_put(o, c00, c01, store);
        tick_put(o + G4, c10, c11, store);
        tick_put(o + 2 * (size_t)G4, c20, c21, store);
        tick_put(o + 3 * (size_t)G4, c30, c31, store);
        tick_put(o + 4 * (size_t)G4, c40, c41, store);
        tick_put(o + 5 * (size_t)G4, c50, c51, store);
      }
      for (; i + 2 <= i1; i += 2) {
        const float *h0 = h + (size_t)pass_slot(tick, i, T) * U;
        const float *h1 = h + (size_t)pass_slot(tick, i + 1, T) * U;
        __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00;
        for (int k = 0; k < U; k++) {
          const float *row = block + (size_t)k * MATVEC_BLOCK + s;
          const __m256 r0 = _mm256_loadu_ps(row), r1 = _mm256_loadu_ps(row + 8);
          __m256 x = _mm256_broadcast_ss(h0 + k);
          c00 = _mm256_fmadd_ps(x, r0, c00), c01 = _mm256_fmadd_ps(x, r1, c01);
          x = _mm256_broadcast_ss(h1 + k);
          c10 = _mm256_fmadd_ps(x, r0, c10), c11 = _mm256_fmadd_ps(x, r1, c11);
        }
        float *o = out + (size_t)i * G4 + (size_t)b * MATVEC_BLOCK + s;
        tick_put(o, c00, c01, store);
        tick_put(o + G4, c10, c11, store);
      }
      for (; i < i1; i++) {
        const float *h0 = h + (size_t)pass_slot(tick, i, T) * U;
        __m256 c00 = _mm256_setzero_ps(), c01 = c00;
        for (int k = 0; k < U; k++) {
          const float *row = block + (size_t)k * MATVEC_BLOCK + s;
          const __m256 x = _mm256_broadcast_ss(h0 + k);
          c00 = _mm256_fmadd_ps(x, _mm256_loadu_ps(row), c00);
          c01 = _mm256_fmadd_ps(x, _mm256_loadu_ps(row + 8), c01);
        }
        tick_put(out + (size_t)i * G4 + (size_t)b * MATVEC_BLOCK + s, c00, c01, store);
      }
    }
  }
}

/* Where layer l's weights, packed R, h and c are. */
INLINE void tick_layer(const tick_pass *a, int l, const float **w, const float **bias,
                       const float **packed, float **h, float **c) {
  const int U = a->U, G4 = 4 * U;
  const float *wl = a->weights;
  int D = a->d0;
  for (int k = 0; k < l; k++) wl += (size_t)(D + U + 1) * G4, D = U;
  *w = wl;
  *bias = wl + (size_t)(D + U) * G4;
  *packed = a->packed + (size_t)l * U * G4;
  *h = a->state + (size_t)l * 2 * a->T * U;
  *c = *h + (size_t)a->T * U;
}

/* The gates of units [u0, u1) of layer l in every live row; the new h into seq and its slot. */
__attribute__((target("avx2,fma"))) static void tick_gates_avx2(const tick_pass *a, int l, int u0,
                                                                 int u1) {
  const int U = a->U, G4 = 4 * U, n = u1 - u0;
  const float *w, *bias, *packed;
  float *h, *c;
  tick_layer(a, l, &w, &bias, &packed, &h, &c);
  for (int i = 0; i < a->live; i++) {
    const size_t slot = (size_t)pass_slot(a->tick, i, a->T) * U;
    float *cn = a->tmp + (size_t)i * 2 * U, *hn = a->seq + (size_t)i * U;
    forward_row(a->g + (size_t)i * G4, bias, i > 0 ? c + slot : a->zero, cn, cn + U, hn, U, u0,
                u1, a->hard);
    memcpy(c + slot + u0, cn + u0, sizeof(float) * n);
    memcpy(h + slot + u0, hn + u0, sizeof(float) * n);
  }
}

/* Takes blocks of the first layer's products for the next tick until none is left. */
__attribute__((target("avx2,fma"))) static void tick_next_products_avx2(tick_pass *a) {
  const int U = a->U, T = a->T, blocks = 4 * U / MATVEC_BLOCK;
  const int next_live = a->live < T ? a->live + 1 : T;
  const float *w, *bias, *packed;
  float *h, *c;
  tick_layer(a, 0, &w, &bias, &packed, &h, &c);
  for (;;) {
    const int b = atomic_fetch_add_explicit(&a->next_block, 1, memory_order_relaxed);
    if (b >= blocks) return;
    tick_products_avx2(h, packed, a->acc, 1, a->tick + 1, T, U, 1, next_live, b, b + 1);
  }
}

/*
 * The tick's steps, a barrier after each (drive runs step t's phase 0 on both threads, each
 * with its units [u0, u1); phase 1 is empty). Step 0: the first layer's gates, its products
 * (from the last tick) added first. Then per upper layer l: (1) its input projection by sgemm,
 * on the first thread, while the other starts the first layer's next products (after sgemm the
 * first thread helps; with one layer the step is only those products); (2) its recurrent
 * products for the columns of the thread's units; (3) the gates of those units.
 */
__attribute__((target("avx2,fma"))) static void tick_step_avx2(void *ctx, int t, int phase,
                                                                int u0, int u1, double *ns) {
  (void)ns;
  if (phase != 0) return;
  tick_pass *a = ctx;
  const int U = a->U, G4 = 4 * U, T = a->T;
  if (t == 0) {
    for (int i = 1; i < a->live; i++) {
      float *g = a->g + (size_t)i * G4;
      const float *p = a->acc + (size_t)i * G4;
      for (int q = 0; q < 4; q++) {
        for (int j = q * U + u0; j < q * U + u1; j++) g[j] += p[j];
      }
    }
    tick_gates_avx2(a, 0, u0, u1);
    return;
  }
  if (a->layers == 1) {
    tick_next_products_avx2(a);
    return;
  }
  const int l = 1 + (t - 1) / 3, part = (t - 1) % 3;
  const float *w, *bias, *packed;
  float *h, *c;
  tick_layer(a, l, &w, &bias, &packed, &h, &c);
  if (part == 0) {
    if (u0 == 0) {
      /* g is read before the gates write seq, so one buffer is the layer's input and output. */
      sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, T, G4, U, 1.0f, a->seq, U, w, G4, 0.0f, a->g, G4);
    }
    if (l == 1) tick_next_products_avx2(a);
  } else if (part == 1) {
    for (int q = 0; q < 4; q++) {
      const int c0 = q * U + u0;
      tick_products_avx2(h, packed, a->g, 0, a->tick, T, U, 1, a->live, c0 / MATVEC_BLOCK,
                         (c0 + u1 - u0) / MATVEC_BLOCK);
    }
  } else {
    tick_gates_avx2(a, l, u0, u1);
  }
}
#endif

#define FORWARD_ARGS                                                                           \
  const float *r, const float *bias, float *g, float *c, float *tc, float *p, float *out,      \
      const float *mask, float *hbuf, int B, int T, int U, int hard, int return_sequences,     \
      double *prof, const float *packed
#define FORWARD_CALL                                                                           \
  r, bias, g, c, tc, p, out, mask, hbuf, B, T, U, hard, return_sequences, prof, packed
#define BACKWARD_ARGS                                                                          \
  const float *r, float *rt, float *g, const float *c, const float *tc, const float *dy,       \
      float *dh, float *dc, const float *mask, float *zbuf, int B, int T, int U, int hard,     \
      int return_sequences, double *prof
#define BACKWARD_CALL                                                                          \
  r, rt, g, c, tc, dy, dh, dc, mask, zbuf, B, T, U, hard, return_sequences, prof

static void forward_phase_base(void *ctx, int t, int phase, int u0, int u1, double *ns) {
  forward_phase(ctx, t, phase, u0, u1, ns);
}
static void backward_phase_base(void *ctx, int t, int phase, int u0, int u1, double *ns) {
  backward_phase(ctx, t, phase, u0, u1, ns);
}
static void forward_base(FORWARD_ARGS) { forward_body(FORWARD_CALL, forward_phase_base); }
static void backward_base(BACKWARD_ARGS) { backward_body(BACKWARD_CALL, backward_phase_base); }
static void (*forward_impl)(FORWARD_ARGS) = forward_base;
#define STEP_ARGS                                                                              \
  const float *x, const float *w, const float *r, const float *bias, float *h, float *c,       \
      float *work, int D, int U, int hard
#define STEP_CALL x, w, r, bias, h, c, work, D, U, hard
static void step_base(STEP_ARGS) { step_body(STEP_CALL); }
static void (*step_impl)(STEP_ARGS) = step_base;
#define PLAIN_ARGS const float *x, const float *m, float *g, int K, int N
static void plain_base(PLAIN_ARGS) { matvec_plain(x, m, g, K, N); }
static void (*plain_impl)(PLAIN_ARGS) = plain_base;
static void (*backward_impl)(BACKWARD_ARGS) = backward_base;

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) static void forward_phase_avx2(void *ctx, int t, int phase,
                                                                    int u0, int u1, double *ns) {
  forward_phase(ctx, t, phase, u0, u1, ns);
}
__attribute__((target("avx2,fma"))) static void backward_phase_avx2(void *ctx, int t, int phase,
                                                                     int u0, int u1, double *ns) {
  backward_phase(ctx, t, phase, u0, u1, ns);
}
__attribute__((target("avx2,fma"))) static void forward_avx2(FORWARD_ARGS) {
  forward_body(FORWARD_CALL, forward_phase_avx2);
}
__attribute__((target("avx2,fma"))) static void backward_avx2(BACKWARD_ARGS) {
  backward_body(BACKWARD_CALL, backward_phase_avx2);
}
__attribute__((target("avx2,fma"))) static void step_avx2(STEP_ARGS) { step_body(STEP_CALL); }
__attribute__((target("avx2,fma"))) static void plain_avx2(PLAIN_ARGS) {
  matvec_plain(x, m, g, K, N);
}
__attribute__((target("avx2,fma"))) static void matvec_packed_avx2(const float *h, const float *rp,
                                                                    float *g, int U, int b0,
                                                                    int b1) {
  matvec_packed_body(h, rp, g, U, b0, b1);
}
__attribute__((target("avx2,fma"))) static void matvec_avx2(const float *h, const float *r,
                                                             float *g, int U, int N, int ldr) {
  matvec_body(h, r, g, U, N, ldr);
}
#endif

/* 1 when the AVX2+FMA build of the loops is in use, 0 for the baseline one. */
int lstm_gates_simd(void) { return forward_impl != forward_base; }

/*
 * Binds cblas_sgemm from the OpenBLAS file at `blas_path` (NUL-terminated) and picks the loops
 * for this CPU. Returns 0 on success, 1 when the library does not open, 2 without the symbol.
 */
int lstm_gates_init(const char *blas_path) {
  void *lib = dlopen(blas_path, RTLD_NOW | RTLD_GLOBAL);
  if (!lib) return 1;
  sgemm = (sgemm_fn)dlsym(lib, "cblas_sgemm");
  if (!sgemm) return 2;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    forward_impl = forward_avx2;
    backward_impl = backward_avx2;
    matvec = matvec_avx2;
    matvec_packed = matvec_packed_avx2;
    step_impl = step_avx2;
    plain_impl = plain_avx2;
  }
#endif
  return 0;
}

/*
 * The forward recurrence over all T steps. On entry g holds X·W (input projections, no bias);
 * on return it holds the gate activations, c and tc the cell states and tanh of them, p the
 * masked h_{t-1} (row t = 0 left as it is: zero), out h_t for every step or only the last.
 * mask is [B, U] or null; hbuf is scratch of 2U floats. prof[0] and prof[1] accumulate the
 * nanoseconds spent in products and in the rest.
 */
void lstm_forward(const float *r, const float *bias, float *g, float *c, float *tc, float *p,
                  float *out, const float *mask, float *hbuf, int B, int T, int U, int hard,
                  int return_sequences, double *prof) {
  forward_impl(r, bias, g, c, tc, p, out, mask, hbuf, B, T, U, hard, return_sequences, prof, 0);
}

/*
 * The backward recurrence: g (activations from lstm_forward) becomes dZ, the gradients of the
 * pre-activations, from dy ([B, T, U] or [B, U]). rt (4U·U floats), dh and dc ([B, U]) and
 * zbuf (U floats) are scratch. prof as in lstm_forward.
 */
void lstm_backward(BACKWARD_ARGS) { backward_impl(BACKWARD_CALL); }

/*
 * Generation's forward pass in window mode (one sequence, B = 1): h of the last step of the
 * last of `layers` stacked LSTM layers over the T inputs x ([T, d0]), in one call per token
 * instead of one per layer with tfjs's graph around them. weights holds, layer after layer,
 * W [D, 4U], R [U, 4U] and bias [4U] (D = d0 for the first layer, U above it). Each layer does
 * what model/fused/fused_lstm_op.ts does: X·W by sgemm, then lstm_forward's recurrence, so the bits
 * are those of the model's own prediction. packed, when not null, holds each layer's R packed
 * in blocks of 64 columns (see matvec_packed_body), layer after layer, so the per-step products
 * stream. work: T·4U + 4·T·U + 2U floats; h: U floats.
 */
void lstm_stack_last(const float *x, const float *weights, const float *packed, float *work,
                     float *h, int T, int d0, int layers, int U, int hard) {
  const int G4 = 4 * U;
  float *g = work, *c = g + (size_t)T * G4, *tc = c + (size_t)T * U, *p = tc + (size_t)T * U;
  float *seq = p + (size_t)T * U, *hbuf = seq + (size_t)T * U;
  double prof[2] = {0, 0};
  const float *in = x, *wl = weights;
  int D = d0;
  for (int l = 0; l < layers; l++) {
    const float *w = wl, *r = w + (size_t)D * G4, *bias = r + (size_t)U * G4;
    wl = bias + G4;
    /* g is consumed before the layer writes seq, so one buffer serves as input and output. */
    sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, T, G4, D, 1.0f, in, D, w, G4, 0.0f, g, G4);
    memset(p, 0, sizeof(float) * U);
    const int last = l == layers - 1;
    forward_impl(r, bias, g, c, tc, p, last ? h : seq, 0, hbuf, 1, T, U, hard, !last, prof,
                 packed ? packed + (size_t)l * U * G4 : 0);
    in = seq;
    D = U;
  }
}

/*
 * Generation's step in stateful mode: feeds one input x (d0 floats) through `layers` stacked
 * LSTM layers, carrying their state, as Magenta's RNNs generate. state holds h then c of each
 * layer (2U floats per layer, zero to start), updated in place; the last layer's h is the
 * output. weights as in lstm_stack_last; work: 7U floats.
 */
void lstm_stack_step(const float *x, const float *weights, float *state, float *work, int d0,
                     int layers, int U, int hard) {
  const int G4 = 4 * U;
  const float *in = x, *wl = weights;
  int D = d0;
  for (int l = 0; l < layers; l++) {
    const float *w = wl, *r = w + (size_t)D * G4, *bias = r + (size_t)U * G4;
    wl = bias + G4;
    float *h = state + (size_t)l * 2 * U, *c = h + U;
    step_impl(in, w, r, bias, h, c, work, D, U, hard);
    in = h;
    D = U;
  }
}

/* g [N] += x [K] · m [K, N], rounded as the plain loops round: the dense layers of the
 * stateful generation step. */
void dense_row(PLAIN_ARGS) { plain_impl(x, m, g, K, N); }

/*
 * 1 when lstm_window_tick gives lstm_stack_last's bits for layers of U units here: the AVX2+FMA
 * loops run, their one-row product is sgemm's (exact_matvec), and R packs in whole blocks for
 * each thread's share of the units. Else 0, and window mode keeps one pass per token.
 */
int lstm_window_ready(int U) {
#if defined(__x86_64__) && defined(__GNUC__)
  const int mid = split_units(U);
  return forward_impl != forward_base && exact_matvec(U) && U % MATVEC_BLOCK == 0 &&
         mid % MATVEC_BLOCK == 0;
#else
  (void)U;
  return 0;
#endif
}

/*
 * One tick of pipelined window-mode generation (see tick_pass): every pass under way takes one
 * step with input x (d0 floats, the newest token). `live` rows are real passes (T once the
 * start is read). weights as in lstm_stack_last; packed: each layer's R packed (required).
 * state: per layer h then c of every slot (2·T·U floats), then T·4U floats carried to the next
 * tick; any values to start. work: T·d0 + T·4U + T·U + T·2U + U floats. out (U floats) gets the
 * last layer's h of the pass at step T − 1, the one that ends. `tick` counts from 0 at the
 * start (mod T is enough). Call only where lstm_window_ready(U).
 */
void lstm_window_tick(const float *x, const float *weights, const float *packed, float *state,
                      float *work, float *out, int T, int tick, int live, int d0, int layers,
                      int U, int hard) {
#if defined(__x86_64__) && defined(__GNUC__)
  const int G4 = 4 * U;
  float *xs = work, *g = xs + (size_t)T * d0, *seq = g + (size_t)T * G4;
  float *tmp = seq + (size_t)T * U, *zero = tmp + (size_t)T * 2 * U;
  memset(zero, 0, sizeof(float) * U);
  for (int i = 0; i < T; i++) memcpy(xs + (size_t)i * d0, x, sizeof(float) * d0);
  /* The first layer's input projection, as lstm_stack_last makes it; the rest in the steps. */
  sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, T, G4, d0, 1.0f, xs, d0, weights, G4, 0.0f, g, G4);
  tick_pass a = {weights, packed, zero, xs, g, seq, tmp, state,
                 state + (size_t)layers * 2 * T * U, T, U, d0, layers, tick, live, hard, 0};
  double ns = 0;
  const int steps = layers == 1 ? 2 : 1 + 3 * (layers - 1);
  drive(tick_step_avx2, &a, steps, U, 0, 0, &ns);
  memcpy(out, seq + (size_t)(T - 1) * U, sizeof(float) * U);
#else
  (void)x, (void)weights, (void)packed, (void)state, (void)work, (void)out, (void)T, (void)tick;
  (void)live, (void)d0, (void)layers, (void)U, (void)hard;
#endif
}

/*
 * How the recurrence may use the cores: `threads` 1 or 2 (the halves of a split layer run in
 * turn or at once; the bits are the same), and the unit count from which a layer is split
 * (0 keeps the default). Returns the thread count in force.
 */
int lstm_gates_threads(int threads, int min_units) {
  split_threads = threads >= 2 ? 2 : 1;
  if (min_units > 0) split_min_units = min_units;
  return split_threads;
}
