// Gemm's AVX2 path for products with at most four rows or four columns of C (output layers, first-layer weight
// grads, batch-1..4 forwards): no 6 x 16 tile padded out of a 1..4-wide side, every element summed in the tiled order.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tiny.Cpu;

public static partial class Gemm
{
    /// <summary>At most this many rows or columns of C in one slab take the narrow path on Vector256 hardware.</summary>
    internal const int NarrowMax = 4;

    /// <summary>How many short-side lines (N) and long-side vectors (V) one narrow kernel call holds: N * V
    /// accumulators, at least 8 so that the FMA latency (4 cycles, 2 pipes) is covered.</summary>
    private interface INarrowShape
    {
        static abstract int N { get; }
        static abstract int V { get; }
    }

    private readonly struct Narrow1 : INarrowShape { public static int N => 1; public static int V => 8; }
    private readonly struct Narrow2 : INarrowShape { public static int N => 2; public static int V => 4; }
    private readonly struct Narrow3 : INarrowShape { public static int N => 3; public static int V => 4; }
    private readonly struct Narrow4 : INarrowShape { public static int N => 4; public static int V => 2; }

    private static unsafe partial class Driver<T, TK>
    {
        /// <summary>
        /// C rows i0..i1, columns j0..j1 when one side has at most <see cref="NarrowMax"/> lines. The short side (the
        /// rows, else the columns) gives the broadcasts, the long side the vectors: C(i, j) = sum over q of
        /// op(A)(i, q) op(B)(q, j) with the long operand read in place where it is contiguous along the long side
        /// (B untransposed for few rows, A transposed for few columns) and turned into a [kc][V*w] block otherwise.
        /// The order is the tiled path's: for each kc = KC block acc = 0, acc = fma(a, b, acc) for q ascending, then
        /// C = acc (first block, no accumulate) or C + acc; fma is exact before its one rounding, so a * b and b * a
        /// give the same bits and results do not depend on which path ran.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Narrow(in Problem<T> p, int i0, int i1, int j0, int j1)
        {
            int m = i1 - i0, n = j1 - j0;
            if (m <= NarrowMax && n < Vector256<T>.Count || n <= NarrowMax && m < Vector256<T>.Count)
            {   // both sides short (1 x 300 x 1, a batch-1 output layer): a vector block would be mostly padding
                NarrowScalar(p, i0, i1, j0, j1);
                return;
            }
            bool rows = m <= NarrowMax;
            int shortN = rows ? m : n;
            switch (shortN)
            {
                case 1: NarrowRun<Narrow1>(p, i0, i1, j0, j1, rows); break;
                case 2: NarrowRun<Narrow2>(p, i0, i1, j0, j1, rows); break;
                case 3: NarrowRun<Narrow3>(p, i0, i1, j0, j1, rows); break;
                default: NarrowRun<Narrow4>(p, i0, i1, j0, j1, rows); break;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void NarrowRun<TS>(in Problem<T> p, int i0, int i1, int j0, int j1, bool rows) where TS : INarrowShape
        {
            int w = Vector256<T>.Count, width = TS.V * w;
            int len = rows ? j1 - j0 : i1 - i0;
            // Long operand L(q, x): few rows: op(B)(q, j0 + x), in place when B is untransposed; few columns:
            // op(A)(i0 + x, q) = A^T, in place when A is transposed. Short lines s_r(q): op(A)(i0 + r, q) or op(B)(q, j0 + r).
            bool lInPlace = rows ? !p.TransB : p.TransA;
            T* lBase = rows ? (p.TransB ? p.B + (nint)j0 * p.Ldb : p.B + j0) : (p.TransA ? p.A + i0 : p.A + (nint)i0 * p.Lda);
            nint lLd = rows ? p.Ldb : p.Lda;   // between q (in place) or between x (transposed source)
            T* sBase; nint rsS, csS;
            if (rows) { sBase = p.TransA ? p.A + i0 : p.A + (nint)i0 * p.Lda; rsS = p.TransA ? 1 : p.Lda; csS = p.TransA ? p.Lda : 1; }
            else { sBase = p.TransB ? p.B + (nint)j0 * p.Ldb : p.B + j0; rsS = p.TransB ? p.Ldb : 1; csS = p.TransB ? 1 : p.Ldb; }
            // Output: element (r, x) of the short x long block at c + r*rsC + x*csC.
            T* cBase = p.TransC ? p.C + (nint)j0 * p.Ldc + i0 : p.C + (nint)i0 * p.Ldc + j0;
            nint iStep = p.TransC ? 1 : p.Ldc, jStep = p.TransC ? p.Ldc : 1;   // C(i, j) to C(i + 1, j) and C(i, j + 1)
            nint rsC = rows ? iStep : jStep, csC = rows ? jStep : iStep;
            // The first block's addend without accumulate: the bias, one value per column of C as stored (Bias[j],
            // or Bias[i] when TransC), so element (r, x) at bias + r*rsE + x*csE with steps of 0 or 1.
            nint eI = p.TransC ? 1 : 0, eJ = p.TransC ? 0 : 1, rsE = rows ? eI : eJ, csE = rows ? eJ : eI;
            T* eBase = p.Bias == null ? null : p.Bias + i0 * eI + j0 * eJ;
            // A long operand that must be turned (or padded) is turned qStep steps of q at a time into buf (at most 8 KB
            // for float) and used at once, so the block is read from L1 right after it was written; the sums are carried
            // between steps in acc, as they are (stored and reloaded exactly), so the order stays the tiled path's.
            // Turning a whole kc = 256 block first (64 KB) put every write and read of it in L2: 1x400x300 B^T 22 us,
            // 17 with steps of 64, 16 with 32, 19.5 with 128. A source whose rows are a multiple of 1 KB apart (read rows
            // outside, see Transpose) takes steps of 64: 1x1024x128 B^T 23 us, 29 with 32.
            int qStep = !lInPlace && KilobyteApart(lLd) ? 64 : 32;
            T* buf = Buffer(ref _bBuf, Math.Min(qStep, p.K) * width);
            T* acc = stackalloc T[4 * 8 * 8];
            for (int pc = 0; pc < p.K; pc += KC)
            {
                int kc = Math.Min(KC, p.K - pc);
                var (load, relu) = BlockStore(p, pc, kc);
                for (int x = 0; x < len; x += width)
                {
                    int cnt = Math.Min(width, len - x);
                    T* s = sBase + (nint)pc * csS, c = cBase + x * csC;
                    T* add = load ? c : eBase == null ? null : eBase + x * csE;
                    nint rsAdd = load ? rsC : rsE, csAdd = load ? csC : csE;
                    if (lInPlace && cnt == width)
                    {
                        NarrowTile<TS>(kc, lBase + (nint)pc * lLd + x, lLd, s, rsS, csS, c, rsC, csC, cnt, add, rsAdd, csAdd, relu, null, null);
                        continue;
                    }
                    for (int q0 = 0; q0 < kc; q0 += qStep)
                    {
                        int qc = Math.Min(qStep, kc - q0);
                        if (cnt < width)   // zero the padding lanes first, whole vectors from the one holding lane cnt
                            for (int q = 0; q < qc; q++)
                                for (int e = cnt / w * w; e < width; e += w) Vector256<T>.Zero.Store(buf + (nint)q * width + e);
                        if (lInPlace)
                        {
                            T* src = lBase + (nint)(pc + q0) * lLd + x;
                            for (int q = 0; q < qc; q++) Copy(src + q * lLd, buf + (nint)q * width, cnt);
                        }
                        else Transpose(lBase + (nint)x * lLd + pc + q0, lLd, cnt, qc, buf, width);
                        NarrowTile<TS>(qc, buf, width, s + (nint)q0 * csS, rsS, csS, c, rsC, csC, cnt, add, rsAdd, csAdd, relu,
                            q0 == 0 ? null : acc, q0 + qc < kc ? acc : null);
                    }
                }
            }
        }

        /// <summary>
        /// C rows i0..i1, columns j0..j1 when both sides are shorter than a vector (and one at most NarrowMax): each
        /// element one scalar fma chain per kc block in the tiled order (acc = 0, acc = fma(a, b, acc) for q ascending,
        /// then C = acc, bias + acc or C + acc), up to four columns of a row at once so that four chains overlap.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void NarrowScalar(in Problem<T> p, int i0, int i1, int j0, int j1)
        {
            nint rsA = p.TransA ? 1 : p.Lda, csA = p.TransA ? p.Lda : 1, rsB = p.TransB ? 1 : p.Ldb, csB = p.TransB ? p.Ldb : 1;
            for (int pc = 0; pc < p.K; pc += KC)
            {
                int kc = Math.Min(KC, p.K - pc);
                var (load, relu) = BlockStore(p, pc, kc);
                for (int i = i0; i < i1; i++)
                    for (int j = j0; j < j1; j += 4)
                    {
                        int cnt = Math.Min(4, j1 - j);
                        T* a = p.A + i * rsA + pc * csA, b = p.B + j * csB + pc * rsB;
                        nint b1 = cnt > 1 ? csB : 0, b2 = cnt > 2 ? 2 * csB : 0, b3 = cnt > 3 ? 3 * csB : 0;   // past cnt: column j again
                        T s0 = T.Zero, s1 = T.Zero, s2 = T.Zero, s3 = T.Zero;
                        for (int q = 0; q < kc; q++, a += csA, b += rsB)
                        {
                            T x = *a;
                            s0 = T.FusedMultiplyAdd(x, b[0], s0); s1 = T.FusedMultiplyAdd(x, b[b1], s1);
                            s2 = T.FusedMultiplyAdd(x, b[b2], s2); s3 = T.FusedMultiplyAdd(x, b[b3], s3);
                        }
                        for (int e = 0; e < cnt; e++)
                        {
                            T sum = e == 0 ? s0 : e == 1 ? s1 : e == 2 ? s2 : s3;
                            int jj = j + e;
                            T* c = p.TransC ? p.C + (nint)jj * p.Ldc + i : p.C + (nint)i * p.Ldc + jj;
                            T v = load ? *c + sum : p.Bias != null ? p.Bias[p.TransC ? i : jj] + sum : sum;
                            *c = relu ? Relu(v) : v;
                        }
                    }
            }
        }

        /// <summary>out(r, x) = relu?(add(r, x) + sum over q &lt; kc of s[r*rsS + q*csS] * l[q*rsL + x]), r &lt; N,
        /// x &lt; cnt (all V*w lanes of l readable); out(r, x) at c + r*rsC + x*csC, add(r, x) at add + r*rsAdd +
        /// x*csAdd (add null: none). A sum carried over several calls: accIn (not null) holds the sums to start from,
        /// accOut (not null) receives the sums as they are instead of the store (both N rows of 8 * w, w lanes used
        /// V times).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void NarrowTile<TS>(int kc, T* l, nint rsL, T* s, nint rsS, nint csS, T* c, nint rsC, nint csC, int cnt,
            T* add, nint rsAdd, nint csAdd, bool relu, T* accIn, T* accOut) where TS : INarrowShape
        {
            int N = TS.N, V = TS.V, w = Vector256<T>.Count;
            T* s0 = s, s1 = N > 1 ? s + rsS : s, s2 = N > 2 ? s + 2 * rsS : s, s3 = N > 3 ? s + 3 * rsS : s;
            Vector256<T> c00 = default, c01 = default, c02 = default, c03 = default, c04 = default, c05 = default, c06 = default, c07 = default;
            Vector256<T> c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default, c16 = default, c17 = default;
            Vector256<T> c20 = default, c21 = default, c22 = default, c23 = default, c24 = default, c25 = default, c26 = default, c27 = default;
            Vector256<T> c30 = default, c31 = default, c32 = default, c33 = default, c34 = default, c35 = default, c36 = default, c37 = default;
            if (accIn != null)
            {
                T* t0 = accIn, t1 = accIn + 8 * w, t2 = accIn + 16 * w, t3 = accIn + 24 * w;
                if (N > 0)
                {
                    if (V > 0) c00 = Vector256.Load(t0); if (V > 1) c01 = Vector256.Load(t0 + w); if (V > 2) c02 = Vector256.Load(t0 + 2 * w); if (V > 3) c03 = Vector256.Load(t0 + 3 * w);
                    if (V > 4) c04 = Vector256.Load(t0 + 4 * w); if (V > 5) c05 = Vector256.Load(t0 + 5 * w); if (V > 6) c06 = Vector256.Load(t0 + 6 * w); if (V > 7) c07 = Vector256.Load(t0 + 7 * w);
                }
                if (N > 1)
                {
                    if (V > 0) c10 = Vector256.Load(t1); if (V > 1) c11 = Vector256.Load(t1 + w); if (V > 2) c12 = Vector256.Load(t1 + 2 * w); if (V > 3) c13 = Vector256.Load(t1 + 3 * w);
                    if (V > 4) c14 = Vector256.Load(t1 + 4 * w); if (V > 5) c15 = Vector256.Load(t1 + 5 * w); if (V > 6) c16 = Vector256.Load(t1 + 6 * w); if (V > 7) c17 = Vector256.Load(t1 + 7 * w);
                }
                if (N > 2)
                {
                    if (V > 0) c20 = Vector256.Load(t2); if (V > 1) c21 = Vector256.Load(t2 + w); if (V > 2) c22 = Vector256.Load(t2 + 2 * w); if (V > 3) c23 = Vector256.Load(t2 + 3 * w);
                    if (V > 4) c24 = Vector256.Load(t2 + 4 * w); if (V > 5) c25 = Vector256.Load(t2 + 5 * w); if (V > 6) c26 = Vector256.Load(t2 + 6 * w); if (V > 7) c27 = Vector256.Load(t2 + 7 * w);
                }
                if (N > 3)
                {
                    if (V > 0) c30 = Vector256.Load(t3); if (V > 1) c31 = Vector256.Load(t3 + w); if (V > 2) c32 = Vector256.Load(t3 + 2 * w); if (V > 3) c33 = Vector256.Load(t3 + 3 * w);
                    if (V > 4) c34 = Vector256.Load(t3 + 4 * w); if (V > 5) c35 = Vector256.Load(t3 + 5 * w); if (V > 6) c36 = Vector256.Load(t3 + 6 * w); if (V > 7) c37 = Vector256.Load(t3 + 7 * w);
                }
            }
            for (int q = 0; q < kc; q++, l += rsL, s0 += csS, s1 += csS, s2 += csS, s3 += csS)
            {
                var l0 = V > 0 ? Vector256.Load(l + 0 * w) : default;
                var l1 = V > 1 ? Vector256.Load(l + 1 * w) : default;
                var l2 = V > 2 ? Vector256.Load(l + 2 * w) : default;
                var l3 = V > 3 ? Vector256.Load(l + 3 * w) : default;
                var l4 = V > 4 ? Vector256.Load(l + 4 * w) : default;
                var l5 = V > 5 ? Vector256.Load(l + 5 * w) : default;
                var l6 = V > 6 ? Vector256.Load(l + 6 * w) : default;
                var l7 = V > 7 ? Vector256.Load(l + 7 * w) : default;
                if (N > 0)
                {
                    var x = Vector256.Create(*s0);
                    if (V > 0) c00 = Fma(x, l0, c00); if (V > 1) c01 = Fma(x, l1, c01); if (V > 2) c02 = Fma(x, l2, c02); if (V > 3) c03 = Fma(x, l3, c03);
                    if (V > 4) c04 = Fma(x, l4, c04); if (V > 5) c05 = Fma(x, l5, c05); if (V > 6) c06 = Fma(x, l6, c06); if (V > 7) c07 = Fma(x, l7, c07);
                }
                if (N > 1)
                {
                    var x = Vector256.Create(*s1);
                    if (V > 0) c10 = Fma(x, l0, c10); if (V > 1) c11 = Fma(x, l1, c11); if (V > 2) c12 = Fma(x, l2, c12); if (V > 3) c13 = Fma(x, l3, c13);
                    if (V > 4) c14 = Fma(x, l4, c14); if (V > 5) c15 = Fma(x, l5, c15); if (V > 6) c16 = Fma(x, l6, c16); if (V > 7) c17 = Fma(x, l7, c17);
                }
                if (N > 2)
                {
                    var x = Vector256.Create(*s2);
                    if (V > 0) c20 = Fma(x, l0, c20); if (V > 1) c21 = Fma(x, l1, c21); if (V > 2) c22 = Fma(x, l2, c22); if (V > 3) c23 = Fma(x, l3, c23);
                    if (V > 4) c24 = Fma(x, l4, c24); if (V > 5) c25 = Fma(x, l5, c25); if (V > 6) c26 = Fma(x, l6, c26); if (V > 7) c27 = Fma(x, l7, c27);
                }
                if (N > 3)
                {
                    var x = Vector256.Create(*s3);
                    if (V > 0) c30 = Fma(x, l0, c30); if (V > 1) c31 = Fma(x, l1, c31); if (V > 2) c32 = Fma(x, l2, c32); if (V > 3) c33 = Fma(x, l3, c33);
                    if (V > 4) c34 = Fma(x, l4, c34); if (V > 5) c35 = Fma(x, l5, c35); if (V > 6) c36 = Fma(x, l6, c36); if (V > 7) c37 = Fma(x, l7, c37);
                }
            }
            if (accOut == null && csC == 1 && cnt == V * w && csAdd <= 1)
            {   // a full block of rows of C: vector stores (the addend a row of C or of the bias, or one bias value)
                T* c0 = c, c1 = c + rsC, c2 = c + 2 * rsC, c3 = c + 3 * rsC;
                T* a0 = add, a1 = add == null ? null : add + rsAdd, a2 = add == null ? null : add + 2 * rsAdd, a3 = add == null ? null : add + 3 * rsAdd;
                if (N > 0)
                {
                    if (V > 0) Put(c0, c00, a0, 0 * w, csAdd, relu); if (V > 1) Put(c0, c01, a0, 1 * w, csAdd, relu); if (V > 2) Put(c0, c02, a0, 2 * w, csAdd, relu); if (V > 3) Put(c0, c03, a0, 3 * w, csAdd, relu);
                    if (V > 4) Put(c0, c04, a0, 4 * w, csAdd, relu); if (V > 5) Put(c0, c05, a0, 5 * w, csAdd, relu); if (V > 6) Put(c0, c06, a0, 6 * w, csAdd, relu); if (V > 7) Put(c0, c07, a0, 7 * w, csAdd, relu);
                }
                if (N > 1)
                {
                    if (V > 0) Put(c1, c10, a1, 0 * w, csAdd, relu); if (V > 1) Put(c1, c11, a1, 1 * w, csAdd, relu); if (V > 2) Put(c1, c12, a1, 2 * w, csAdd, relu); if (V > 3) Put(c1, c13, a1, 3 * w, csAdd, relu);
                    if (V > 4) Put(c1, c14, a1, 4 * w, csAdd, relu); if (V > 5) Put(c1, c15, a1, 5 * w, csAdd, relu); if (V > 6) Put(c1, c16, a1, 6 * w, csAdd, relu); if (V > 7) Put(c1, c17, a1, 7 * w, csAdd, relu);
                }
                if (N > 2)
                {
                    if (V > 0) Put(c2, c20, a2, 0 * w, csAdd, relu); if (V > 1) Put(c2, c21, a2, 1 * w, csAdd, relu); if (V > 2) Put(c2, c22, a2, 2 * w, csAdd, relu); if (V > 3) Put(c2, c23, a2, 3 * w, csAdd, relu);
                    if (V > 4) Put(c2, c24, a2, 4 * w, csAdd, relu); if (V > 5) Put(c2, c25, a2, 5 * w, csAdd, relu); if (V > 6) Put(c2, c26, a2, 6 * w, csAdd, relu); if (V > 7) Put(c2, c27, a2, 7 * w, csAdd, relu);
                }
                if (N > 3)
                {
                    if (V > 0) Put(c3, c30, a3, 0 * w, csAdd, relu); if (V > 1) Put(c3, c31, a3, 1 * w, csAdd, relu); if (V > 2) Put(c3, c32, a3, 2 * w, csAdd, relu); if (V > 3) Put(c3, c33, a3, 3 * w, csAdd, relu);
                    if (V > 4) Put(c3, c34, a3, 4 * w, csAdd, relu); if (V > 5) Put(c3, c35, a3, 5 * w, csAdd, relu); if (V > 6) Put(c3, c36, a3, 6 * w, csAdd, relu); if (V > 7) Put(c3, c37, a3, 7 * w, csAdd, relu);
                }
                return;
            }
            T* tmp = stackalloc T[4 * 8 * 8];
            T* t = accOut != null ? accOut : tmp;   // the N x (V * w) sums, row stride 8 * w (w <= 8)
            if (N > 0)
            {
                if (V > 0) c00.Store(t + 0 * 8 * w + 0 * w); if (V > 1) c01.Store(t + 0 * 8 * w + 1 * w); if (V > 2) c02.Store(t + 0 * 8 * w + 2 * w); if (V > 3) c03.Store(t + 0 * 8 * w + 3 * w);
                if (V > 4) c04.Store(t + 0 * 8 * w + 4 * w); if (V > 5) c05.Store(t + 0 * 8 * w + 5 * w); if (V > 6) c06.Store(t + 0 * 8 * w + 6 * w); if (V > 7) c07.Store(t + 0 * 8 * w + 7 * w);
            }
            if (N > 1)
            {
                if (V > 0) c10.Store(t + 1 * 8 * w + 0 * w); if (V > 1) c11.Store(t + 1 * 8 * w + 1 * w); if (V > 2) c12.Store(t + 1 * 8 * w + 2 * w); if (V > 3) c13.Store(t + 1 * 8 * w + 3 * w);
                if (V > 4) c14.Store(t + 1 * 8 * w + 4 * w); if (V > 5) c15.Store(t + 1 * 8 * w + 5 * w); if (V > 6) c16.Store(t + 1 * 8 * w + 6 * w); if (V > 7) c17.Store(t + 1 * 8 * w + 7 * w);
            }
            if (N > 2)
            {
                if (V > 0) c20.Store(t + 2 * 8 * w + 0 * w); if (V > 1) c21.Store(t + 2 * 8 * w + 1 * w); if (V > 2) c22.Store(t + 2 * 8 * w + 2 * w); if (V > 3) c23.Store(t + 2 * 8 * w + 3 * w);
                if (V > 4) c24.Store(t + 2 * 8 * w + 4 * w); if (V > 5) c25.Store(t + 2 * 8 * w + 5 * w); if (V > 6) c26.Store(t + 2 * 8 * w + 6 * w); if (V > 7) c27.Store(t + 2 * 8 * w + 7 * w);
            }
            if (N > 3)
            {
                if (V > 0) c30.Store(t + 3 * 8 * w + 0 * w); if (V > 1) c31.Store(t + 3 * 8 * w + 1 * w); if (V > 2) c32.Store(t + 3 * 8 * w + 2 * w); if (V > 3) c33.Store(t + 3 * 8 * w + 3 * w);
                if (V > 4) c34.Store(t + 3 * 8 * w + 4 * w); if (V > 5) c35.Store(t + 3 * 8 * w + 5 * w); if (V > 6) c36.Store(t + 3 * 8 * w + 6 * w); if (V > 7) c37.Store(t + 3 * 8 * w + 7 * w);
            }
            if (accOut != null) return;
            for (int r = 0; r < N; r++, c += rsC)
            {
                T* tr = t + r * 8 * w;
                T* cx = c, ax = add == null ? null : add + r * rsAdd;
                for (int x = 0; x < cnt; x++, cx += csC)
                {
                    T v = ax != null ? ax[x * csAdd] + tr[x] : tr[x];
                    *cx = relu ? Relu(v) : v;
                }
            }
        }

        /// <summary>c[off..off+w) = relu?(add + v): add a row at add + off (csAdd 1), one value at add (csAdd 0), or none.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put(T* c, Vector256<T> v, T* add, nint off, nint csAdd, bool relu)
        {
            if (add != null) v += csAdd == 0 ? Vector256.Create(*add) : Vector256.Load(add + off);
            if (relu) v = Relu(v);
            v.Store(c + off);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<T> Fma(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
        {
            if (typeof(T) == typeof(float))
                return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
            return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        }
    }
}
