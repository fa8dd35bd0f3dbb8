/* The BLAS and LAPACK entry points that OpenCV's wheel takes from its own OpenBLAS, served by
 * the OpenBLAS that numpy's wheel already ships, so that the bundle carries one OpenBLAS
 * instead of two (about 42 MB less). Built by installer/blas_shim.py.
 *
 * OpenCV calls the LP64 interface (32-bit integers, CLAPACK prototypes); numpy's library is
 * ILP64 with prefixed names (scipy_dgesv_64_, scipy_cblas_dgemm64_). Each function copies its
 * integer arguments into 64-bit ones, calls numpy's, and copies integer outputs (info, pivots)
 * back. Fortran's hidden string lengths are passed as 1: every character argument here is one
 * letter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <stddef.h>

typedef int64_t i64;
typedef size_t flen;

/* ---- BLAS: C interface, general matrix multiply ---- */
void scipy_cblas_sgemm64_(int, int, int, i64, i64, i64, float, const float *, i64,
                          const float *, i64, float, float *, i64);
void scipy_cblas_dgemm64_(int, int, int, i64, i64, i64, double, const double *, i64,
                          const double *, i64, double, double *, i64);
void scipy_cblas_cgemm64_(int, int, int, i64, i64, i64, const void *, const void *, i64,
                          const void *, i64, const void *, void *, i64);
void scipy_cblas_zgemm64_(int, int, int, i64, i64, i64, const void *, const void *, i64,
                          const void *, i64, const void *, void *, i64);

void cblas_sgemm(int o, int ta, int tb, int m, int n, int k, float alpha, const float *a,
                 int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    scipy_cblas_sgemm64_(o, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void cblas_dgemm(int o, int ta, int tb, int m, int n, int k, double alpha, const double *a,
                 int lda, const double *b, int ldb, double beta, double *c, int ldc) {
    scipy_cblas_dgemm64_(o, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void cblas_cgemm(int o, int ta, int tb, int m, int n, int k, const void *alpha, const void *a,
                 int lda, const void *b, int ldb, const void *beta, void *c, int ldc) {
    scipy_cblas_cgemm64_(o, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void cblas_zgemm(int o, int ta, int tb, int m, int n, int k, const void *alpha, const void *a,
                 int lda, const void *b, int ldb, const void *beta, void *c, int ldc) {
    scipy_cblas_zgemm64_(o, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* ---- LAPACK: pivots are copied through a 64-bit buffer ---- */
static i64 *wide(const int *src, i64 count) {
    i64 *out = malloc(sizeof(i64) * (size_t)(count > 0 ? count : 1));
    if (out && src)
        for (i64 i = 0; i < count; i++) out[i] = src[i];
    return out;
}
static void narrow(int *dst, const i64 *src, i64 count) {
    for (i64 i = 0; i < count; i++) dst[i] = (int)src[i];
}
static i64 least(i64 a, i64 b) { return a < b ? a : b; }

#define GESV(T, P)                                                                          \
    void scipy_##P##gesv_64_(i64 *, i64 *, T *, i64 *, i64 *, T *, i64 *, i64 *);           \
    int P##gesv_(int *n, int *nrhs, T *a, int *lda, int *ipiv, T *b, int *ldb, int *info) {   \
        i64 n_ = *n, nrhs_ = *nrhs, lda_ = *lda, ldb_ = *ldb, info_ = 0;                     \
        i64 *piv = wide(NULL, n_);                                                           \
        if (!piv) { *info = -1000; return 0; }                                               \
        scipy_##P##gesv_64_(&n_, &nrhs_, a, &lda_, piv, b, &ldb_, &info_);                   \
        narrow(ipiv, piv, n_);                                                               \
        free(piv);                                                                           \
        *info = (int)info_;                                                                  \
        return 0;                                                                            \
    }
GESV(float, s)
GESV(double, d)

#define GETRF(T, P)                                                                         \
    void scipy_##P##getrf_64_(i64 *, i64 *, T *, i64 *, i64 *, i64 *);                       \
    int P##getrf_(int *m, int *n, T *a, int *lda, int *ipiv, int *info) {                    \
        i64 m_ = *m, n_ = *n, lda_ = *lda, info_ = 0, k = least(m_, n_);                     \
        i64 *piv = wide(NULL, k);                                                            \
        if (!piv) { *info = -1000; return 0; }                                               \
        scipy_##P##getrf_64_(&m_, &n_, a, &lda_, piv, &info_);                               \
        narrow(ipiv, piv, k);                                                                \
        free(piv);                                                                           \
        *info = (int)info_;                                                                  \
        return 0;                                                                            \
    }
GETRF(float, s)
GETRF(double, d)

#define POTRF(T, P)                                                                         \
    void scipy_##P##potrf_64_(char *, i64 *, T *, i64 *, i64 *, flen);                       \
    int P##potrf_(char *uplo, int *n, T *a, int *lda, int *info) {                           \
        i64 n_ = *n, lda_ = *lda, info_ = 0;                                                 \
        scipy_##P##potrf_64_(uplo, &n_, a, &lda_, &info_, 1);                                \
        *info = (int)info_;                                                                  \
        return 0;                                                                            \
    }
POTRF(float, s)
POTRF(double, d)

#define POSV(T, P)                                                                          \
    void scipy_##P##posv_64_(char *, i64 *, i64 *, T *, i64 *, T *, i64 *, i64 *, flen);      \
    int P##posv_(char *uplo, int *n, int *nrhs, T *a, int *lda, T *b, int *ldb, int *info) {  \
        i64 n_ = *n, nrhs_ = *nrhs, lda_ = *lda, ldb_ = *ldb, info_ = 0;                     \
        scipy_##P##posv_64_(uplo, &n_, &nrhs_, a, &lda_, b, &ldb_, &info_, 1);               \
        *info = (int)info_;                                                                  \
        return 0;                                                                            \
    }
POSV(float, s)
POSV(double, d)

#define GEQRF(T, P)                                                                         \
    void scipy_##P##geqrf_64_(i64 *, i64 *, T *, i64 *, T *, T *, i64 *, i64 *);              \
    int P##geqrf_(int *m, int *n, T *a, int *lda, T *tau, T *work, int *lwork, int *info) {   \
        i64 m_ = *m, n_ = *n, lda_ = *lda, lwork_ = *lwork, info_ = 0;                       \
        scipy_##P##geqrf_64_(&m_, &n_, a, &lda_, tau, work, &lwork_, &info_);                \
        *info = (int)info_;                                                                  \
        return 0;                                                                            \
    }
GEQRF(float, s)
GEQRF(double, d)

#define GELS(T, P)                                                                          \
    void scipy_##P##gels_64_(char *, i64 *, i64 *, i64 *, T *, i64 *, T *, i64 *, T *, i64 *, \
                             i64 *, flen);                                                   \
    int P##gels_(char *trans, int *m, int *n, int *nrhs, T *a, int *lda, T *b, int *ldb,      \
                 T *work, int *lwork, int *info) {                                           \
        i64 m_ = *m, n_ = *n, nrhs_ = *nrhs, lda_ = *lda, ldb_ = *ldb, lwork_ = *lwork;       \
        i64 info_ = 0;                                                                       \
        scipy_##P##gels_64_(trans, &m_, &n_, &nrhs_, a, &lda_, b, &ldb_, work, &lwork_,      \
                            &info_, 1);                                                      \
        *info = (int)info_;                                                                  \
        return 0;                                                                            \
    }
GELS(float, s)
GELS(double, d)

/* iwork is workspace of 8 * min(m, n) integers: a 64-bit one of that size is used instead */
#define GESDD(T, P)                                                                         \
    void scipy_##P##gesdd_64_(char *, i64 *, i64 *, T *, i64 *, T *, T *, i64 *, T *, i64 *,  \
                              T *, i64 *, i64 *, i64 *, flen);                               \
    int P##gesdd_(char *jobz, int *m, int *n, T *a, int *lda, T *s, T *u, int *ldu, T *vt,    \
                  int *ldvt, T *work, int *lwork, int *iwork, int *info) {                   \
        i64 m_ = *m, n_ = *n, lda_ = *lda, ldu_ = *ldu, ldvt_ = *ldvt, lwork_ = *lwork;       \
        i64 info_ = 0;                                                                       \
        i64 *iw = wide(NULL, 8 * least(m_, n_));                                             \
        (void)iwork;                                                                         \
        if (!iw) { *info = -1000; return 0; }                                                \
        scipy_##P##gesdd_64_(jobz, &m_, &n_, a, &lda_, s, u, &ldu_, vt, &ldvt_, work,        \
                             &lwork_, iw, &info_, 1);                                        \
        free(iw);                                                                            \
        *info = (int)info_;                                                                  \
        return 0;                                                                            \
    }
GESDD(float, s)
GESDD(double, d)

void scipy_dgeev_64_(char *, char *, i64 *, double *, i64 *, double *, double *, double *,
                     i64 *, double *, i64 *, double *, i64 *, i64 *, flen, flen);
int dgeev_(char *jobvl, char *jobvr, int *n, double *a, int *lda, double *wr, double *wi,
           double *vl, int *ldvl, double *vr, int *ldvr, double *work, int *lwork, int *info) {
    i64 n_ = *n, lda_ = *lda, ldvl_ = *ldvl, ldvr_ = *ldvr, lwork_ = *lwork, info_ = 0;
    scipy_dgeev_64_(jobvl, jobvr, &n_, a, &lda_, wr, wi, vl, &ldvl_, vr, &ldvr_, work, &lwork_,
                    &info_, 1, 1);
    *info = (int)info_;
    return 0;
}
