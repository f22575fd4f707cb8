// Gemm's path for a few rows of C (batch-1 and small-batch forwards): float32 on AVX-512, no packing, every element
// of C summed in exactly the order of the tiled path, so results do not depend on which path ran.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tiny.Cpu;

public static partial class Gemm
{
    /// <summary>At most this many rows (or, with more rows, columns) of C in one slab take the skinny path.</summary>
    internal const int SkinnyMax = 4;

    /// <summary>Whether an m x n slab (depth k) takes the skinny path: one row, up to four rows over untransposed B
    /// or over a large transposed B, or up to four columns. Measured against the tiled path: with a 64 x 64
    /// transposed B, two to four rows were slower here (turning B in registers costs what the tiled path's packing
    /// does, and its 6-row tile is then mostly used); with 300 x 400, twice as fast.</summary>
    private static bool SkinnyFits(bool transB, int m, int n, int k) =>
        m == 1 || (m <= SkinnyMax && (!transB || (long)n * k >= 1 << 16)) || n <= SkinnyMax;

    /// <summary>
    /// A product with at most <see cref="SkinnyMax"/> rows, as the skinny kernels see it: row r of A at
    /// A + r*RsA (element q at + q*CsA); B untransposed (B(q, j) at B + q*Ldb + j) or transposed (at B + j*Ldb + q);
    /// C(r, j) at C + r*RsC + j*CsC. A product with few columns is run as its transpose, C^T = op(B)^T op(A)^T.
    /// </summary>
    private readonly unsafe struct SkinnyView
    {
        public readonly float* A, B, C;
        public readonly nint RsA, CsA, Ldb, RsC, CsC;
        public readonly bool TransB;
        public SkinnyView(float* a, nint rsA, nint csA, float* b, nint ldb, bool transB, float* c, nint rsC, nint csC)
        { A = a; RsA = rsA; CsA = csA; B = b; Ldb = ldb; TransB = transB; C = c; RsC = rsC; CsC = csC; }
    }

    /// <summary>
    /// C rows i0..i1 and columns j0..j1 when either side is at most <see cref="SkinnyMax"/> long. The order is the
    /// tiled path's: for each block of kc = 256 along k, acc = 0, acc = fma(A(i,q), B(q,j), acc) for q ascending,
    /// then C = acc (first block, no accumulate) or C + acc. The tiled path pays a full 12- or 6-row, 32-column tile
    /// for every row and column and, when B is transposed (Linear's weight [out, in]), packs all of B per call;
    /// here B is read once in place: untransposed B row by row (four vectors of columns per pass), transposed B as
    /// 16 x 16 blocks turned in registers, each column vector then used by every row of A.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Skinny(in Problem<float> p, int i0, int i1, int j0, int j1)
    {
        nint rsA = p.TransA ? 1 : p.Lda, csA = p.TransA ? p.Lda : 1;
        SkinnyView v;
        int m, n;
        if (i1 - i0 <= SkinnyMax)
        {
            v = new SkinnyView(p.A + i0 * rsA, rsA, csA, p.B + (p.TransB ? (nint)j0 * p.Ldb : j0), p.Ldb, p.TransB, p.C + (nint)i0 * p.Ldc + j0, p.Ldc, 1);
            (m, n) = (i1 - i0, j1 - j0);
        }
        else
        {   // the transpose: rows = the columns j of op(B), columns = the rows i of op(A), written down C's columns
            v = p.TransB ? new SkinnyView(p.B + (nint)j0 * p.Ldb, p.Ldb, 1, p.A + i0 * rsA, p.Lda, !p.TransA, p.C + (nint)i0 * p.Ldc + j0, 1, p.Ldc)
                         : new SkinnyView(p.B + j0, 1, p.Ldb, p.A + i0 * rsA, p.Lda, !p.TransA, p.C + (nint)i0 * p.Ldc + j0, 1, p.Ldc);
            (m, n) = (j1 - j0, i1 - i0);
        }
        const int kcMax = 256;   // the tiled path's KC: the block boundaries of the sum are part of the result
        for (int pc = 0; pc < p.K; pc += kcMax)
        {
            int kc = Math.Min(kcMax, p.K - pc);
            bool load = p.Accumulate || pc > 0;
            if (v.TransB) SkinnyTransB(v, m, n, pc, kc, load);
            else SkinnyRows(v, m, n, pc, kc, load);
        }
    }

    /// <summary>Untransposed B ([k, n], rows contiguous in j): one row of A against eight vectors of columns per
    /// pass, or two to four rows against four (the loops have no branch on the row count: a branch there made the
    /// JIT spill the accumulators every iteration).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SkinnyRows(in SkinnyView v, int m, int n, int pc, int kc, bool load)
    {
        const int w = 16;
        nint csA = v.CsA, ldb = v.Ldb;
        var acc = stackalloc Vector512<float>[16];
        // Rows past m alias row 0 (computed, never stored).
        float* a0 = v.A + pc * csA, a1 = m > 1 ? a0 + v.RsA : a0, a2 = m > 2 ? a0 + 2 * v.RsA : a0, a3 = m > 3 ? a0 + 3 * v.RsA : a0;
        int j = 0;
        if (m == 1)
            for (; j + 8 * w <= n; j += 8 * w)
            {
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
                float* b = v.B + (nint)pc * ldb + j;
                nint off = 0;
                for (int q = 0; q < kc; q++, off += csA, b += ldb)
                {
                    var x = Vector512.Create(a0[off]);
                    s0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b), s0); s1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + w), s1);
                    s2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 2 * w), s2); s3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 3 * w), s3);
                    s4 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 4 * w), s4); s5 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 5 * w), s5);
                    s6 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 6 * w), s6); s7 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 7 * w), s7);
                }
                acc[0] = s0; acc[1] = s1; acc[2] = s2; acc[3] = s3; acc[4] = s4; acc[5] = s5; acc[6] = s6; acc[7] = s7;
                PutAll(v, 1, j, acc, 8, 8, w, load);
            }
        for (; j + 4 * w <= n; j += 4 * w)
        {
            Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
            Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
            float* b = v.B + (nint)pc * ldb + j;
            nint off = 0;
            for (int q = 0; q < kc; q++, off += csA, b += ldb)
            {
                var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + w); var b2 = Vector512.Load(b + 2 * w); var b3 = Vector512.Load(b + 3 * w);
                var x = Vector512.Create(a0[off]);
                s00 = Vector512.FusedMultiplyAdd(x, b0, s00); s01 = Vector512.FusedMultiplyAdd(x, b1, s01);
                s02 = Vector512.FusedMultiplyAdd(x, b2, s02); s03 = Vector512.FusedMultiplyAdd(x, b3, s03);
                x = Vector512.Create(a1[off]);
                s10 = Vector512.FusedMultiplyAdd(x, b0, s10); s11 = Vector512.FusedMultiplyAdd(x, b1, s11);
                s12 = Vector512.FusedMultiplyAdd(x, b2, s12); s13 = Vector512.FusedMultiplyAdd(x, b3, s13);
                x = Vector512.Create(a2[off]);
                s20 = Vector512.FusedMultiplyAdd(x, b0, s20); s21 = Vector512.FusedMultiplyAdd(x, b1, s21);
                s22 = Vector512.FusedMultiplyAdd(x, b2, s22); s23 = Vector512.FusedMultiplyAdd(x, b3, s23);
                x = Vector512.Create(a3[off]);
                s30 = Vector512.FusedMultiplyAdd(x, b0, s30); s31 = Vector512.FusedMultiplyAdd(x, b1, s31);
                s32 = Vector512.FusedMultiplyAdd(x, b2, s32); s33 = Vector512.FusedMultiplyAdd(x, b3, s33);
            }
            acc[0] = s00; acc[1] = s01; acc[2] = s02; acc[3] = s03; acc[4] = s10; acc[5] = s11; acc[6] = s12; acc[7] = s13;
            acc[8] = s20; acc[9] = s21; acc[10] = s22; acc[11] = s23; acc[12] = s30; acc[13] = s31; acc[14] = s32; acc[15] = s33;
            PutAll(v, m, j, acc, 4, 4, w, load);
        }
        for (; j < n; j += w)   // the last < 64 columns, a (masked) vector at a time
        {
            int cols = Math.Min(w, n - j);
            var mask = Mask(cols);
            var sums = new Sums4();
            float* b = v.B + (nint)pc * ldb + j;
            nint off = 0;
            for (int q = 0; q < kc; q++, off += csA, b += ldb)
                sums.Add(a0, a1, a2, a3, off, Avx512F.MaskLoad(b, mask, Vector512<float>.Zero));
            Sums4.Put(sums, v, m, j, acc, cols, load);
        }
    }

    /// <summary>Transposed B (stored [n, k]: Linear's weight, row j of it is column j of op(B)): 16 columns at a
    /// time, their rows read 16 values at a time and turned in registers into 16 vectors over the columns
    /// (four rounds of 16 two-register shuffles, all in locals: this loop is shuffle-bound).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SkinnyTransB(in SkinnyView v, int m, int n, int pc, int kc, bool load)
    {
        const int w = 16;
        var spill = stackalloc Vector512<float>[w];
        var acc = stackalloc Vector512<float>[4];
        nint csA = v.CsA, ldb = v.Ldb;
        float* a0 = v.A + pc * csA, a1 = m > 1 ? a0 + v.RsA : a0, a2 = m > 2 ? a0 + 2 * v.RsA : a0, a3 = m > 3 ? a0 + 3 * v.RsA : a0;
        for (int j = 0; j < n; j += w)
        {
            int cols = Math.Min(w, n - j);
            // Row l of the block; rows past the last column repeat it (computed, never stored).
            float* b = v.B + (nint)j * ldb + pc;
            float* b0 = b + (nint)Math.Min(0, cols - 1) * ldb;
            float* b1 = b + (nint)Math.Min(1, cols - 1) * ldb;
            float* b2 = b + (nint)Math.Min(2, cols - 1) * ldb;
            float* b3 = b + (nint)Math.Min(3, cols - 1) * ldb;
            float* b4 = b + (nint)Math.Min(4, cols - 1) * ldb;
            float* b5 = b + (nint)Math.Min(5, cols - 1) * ldb;
            float* b6 = b + (nint)Math.Min(6, cols - 1) * ldb;
            float* b7 = b + (nint)Math.Min(7, cols - 1) * ldb;
            float* b8 = b + (nint)Math.Min(8, cols - 1) * ldb;
            float* b9 = b + (nint)Math.Min(9, cols - 1) * ldb;
            float* b10 = b + (nint)Math.Min(10, cols - 1) * ldb;
            float* b11 = b + (nint)Math.Min(11, cols - 1) * ldb;
            float* b12 = b + (nint)Math.Min(12, cols - 1) * ldb;
            float* b13 = b + (nint)Math.Min(13, cols - 1) * ldb;
            float* b14 = b + (nint)Math.Min(14, cols - 1) * ldb;
            float* b15 = b + (nint)Math.Min(15, cols - 1) * ldb;
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            nint off = 0;
            for (int q = 0; q < kc; q += w)
            {
                int depth = Math.Min(w, kc - q);
                Vector512<float> r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15;
                if (depth == w)
                {
                    r0 = Vector512.Load(b0 + q);
                    r1 = Vector512.Load(b1 + q);
                    r2 = Vector512.Load(b2 + q);
                    r3 = Vector512.Load(b3 + q);
                    r4 = Vector512.Load(b4 + q);
                    r5 = Vector512.Load(b5 + q);
                    r6 = Vector512.Load(b6 + q);
                    r7 = Vector512.Load(b7 + q);
                    r8 = Vector512.Load(b8 + q);
                    r9 = Vector512.Load(b9 + q);
                    r10 = Vector512.Load(b10 + q);
                    r11 = Vector512.Load(b11 + q);
                    r12 = Vector512.Load(b12 + q);
                    r13 = Vector512.Load(b13 + q);
                    r14 = Vector512.Load(b14 + q);
                    r15 = Vector512.Load(b15 + q);
                }
                else
                {
                    var mask = Mask(depth);
                    r0 = Avx512F.MaskLoad(b0 + q, mask, Vector512<float>.Zero);
                    r1 = Avx512F.MaskLoad(b1 + q, mask, Vector512<float>.Zero);
                    r2 = Avx512F.MaskLoad(b2 + q, mask, Vector512<float>.Zero);
                    r3 = Avx512F.MaskLoad(b3 + q, mask, Vector512<float>.Zero);
                    r4 = Avx512F.MaskLoad(b4 + q, mask, Vector512<float>.Zero);
                    r5 = Avx512F.MaskLoad(b5 + q, mask, Vector512<float>.Zero);
                    r6 = Avx512F.MaskLoad(b6 + q, mask, Vector512<float>.Zero);
                    r7 = Avx512F.MaskLoad(b7 + q, mask, Vector512<float>.Zero);
                    r8 = Avx512F.MaskLoad(b8 + q, mask, Vector512<float>.Zero);
                    r9 = Avx512F.MaskLoad(b9 + q, mask, Vector512<float>.Zero);
                    r10 = Avx512F.MaskLoad(b10 + q, mask, Vector512<float>.Zero);
                    r11 = Avx512F.MaskLoad(b11 + q, mask, Vector512<float>.Zero);
                    r12 = Avx512F.MaskLoad(b12 + q, mask, Vector512<float>.Zero);
                    r13 = Avx512F.MaskLoad(b13 + q, mask, Vector512<float>.Zero);
                    r14 = Avx512F.MaskLoad(b14 + q, mask, Vector512<float>.Zero);
                    r15 = Avx512F.MaskLoad(b15 + q, mask, Vector512<float>.Zero);
                }
                // 1: interleave row pairs per 128-bit lane; 2: u(4g + c) holds columns c, c+4, c+8, c+12 of rows 4g..4g+3;
                // 3, 4: a 4 x 4 transpose of 128-bit blocks over u(c), u(4+c), u(8+c), u(12+c) gives columns c, c+4, c+8, c+12.
                // Written out by hand: through arrays or a helper with ref arguments the vectors lived in memory (the
                // TD3 actor's batch-1 forward took 1.7x as long).
                var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
                var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
                var u0 = Avx512F.Shuffle(t0, t2, 0x44); var u1 = Avx512F.Shuffle(t0, t2, 0xEE);
                var u2 = Avx512F.Shuffle(t1, t3, 0x44); var u3 = Avx512F.Shuffle(t1, t3, 0xEE);
                var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
                var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
                var u4 = Avx512F.Shuffle(t4, t6, 0x44); var u5 = Avx512F.Shuffle(t4, t6, 0xEE);
                var u6 = Avx512F.Shuffle(t5, t7, 0x44); var u7 = Avx512F.Shuffle(t5, t7, 0xEE);
                var t8 = Avx512F.UnpackLow(r8, r9); var t9 = Avx512F.UnpackHigh(r8, r9);
                var t10 = Avx512F.UnpackLow(r10, r11); var t11 = Avx512F.UnpackHigh(r10, r11);
                var u8 = Avx512F.Shuffle(t8, t10, 0x44); var u9 = Avx512F.Shuffle(t8, t10, 0xEE);
                var u10 = Avx512F.Shuffle(t9, t11, 0x44); var u11 = Avx512F.Shuffle(t9, t11, 0xEE);
                var t12 = Avx512F.UnpackLow(r12, r13); var t13 = Avx512F.UnpackHigh(r12, r13);
                var t14 = Avx512F.UnpackLow(r14, r15); var t15 = Avx512F.UnpackHigh(r14, r15);
                var u12 = Avx512F.Shuffle(t12, t14, 0x44); var u13 = Avx512F.Shuffle(t12, t14, 0xEE);
                var u14 = Avx512F.Shuffle(t13, t15, 0x44); var u15 = Avx512F.Shuffle(t13, t15, 0xEE);
                var v0 = Avx512F.Shuffle4x128(u0, u4, 0x44); var v1 = Avx512F.Shuffle4x128(u0, u4, 0xEE);
                var v2 = Avx512F.Shuffle4x128(u8, u12, 0x44); var v3 = Avx512F.Shuffle4x128(u8, u12, 0xEE);
                var x0 = Avx512F.Shuffle4x128(v0, v2, 0x88); var x4 = Avx512F.Shuffle4x128(v0, v2, 0xDD);
                var x8 = Avx512F.Shuffle4x128(v1, v3, 0x88); var x12 = Avx512F.Shuffle4x128(v1, v3, 0xDD);
                var v4 = Avx512F.Shuffle4x128(u1, u5, 0x44); var v5 = Avx512F.Shuffle4x128(u1, u5, 0xEE);
                var v6 = Avx512F.Shuffle4x128(u9, u13, 0x44); var v7 = Avx512F.Shuffle4x128(u9, u13, 0xEE);
                var x1 = Avx512F.Shuffle4x128(v4, v6, 0x88); var x5 = Avx512F.Shuffle4x128(v4, v6, 0xDD);
                var x9 = Avx512F.Shuffle4x128(v5, v7, 0x88); var x13 = Avx512F.Shuffle4x128(v5, v7, 0xDD);
                var v8 = Avx512F.Shuffle4x128(u2, u6, 0x44); var v9 = Avx512F.Shuffle4x128(u2, u6, 0xEE);
                var v10 = Avx512F.Shuffle4x128(u10, u14, 0x44); var v11 = Avx512F.Shuffle4x128(u10, u14, 0xEE);
                var x2 = Avx512F.Shuffle4x128(v8, v10, 0x88); var x6 = Avx512F.Shuffle4x128(v8, v10, 0xDD);
                var x10 = Avx512F.Shuffle4x128(v9, v11, 0x88); var x14 = Avx512F.Shuffle4x128(v9, v11, 0xDD);
                var v12 = Avx512F.Shuffle4x128(u3, u7, 0x44); var v13 = Avx512F.Shuffle4x128(u3, u7, 0xEE);
                var v14 = Avx512F.Shuffle4x128(u11, u15, 0x44); var v15 = Avx512F.Shuffle4x128(u11, u15, 0xEE);
                var x3 = Avx512F.Shuffle4x128(v12, v14, 0x88); var x7 = Avx512F.Shuffle4x128(v12, v14, 0xDD);
                var x11 = Avx512F.Shuffle4x128(v13, v15, 0x88); var x15 = Avx512F.Shuffle4x128(v13, v15, 0xDD);
                if (depth == w)
                {
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 0 * csA]), x0, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 0 * csA]), x0, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 0 * csA]), x0, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 0 * csA]), x0, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 1 * csA]), x1, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 1 * csA]), x1, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 1 * csA]), x1, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 1 * csA]), x1, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 2 * csA]), x2, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 2 * csA]), x2, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 2 * csA]), x2, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 2 * csA]), x2, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 3 * csA]), x3, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 3 * csA]), x3, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 3 * csA]), x3, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 3 * csA]), x3, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 4 * csA]), x4, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 4 * csA]), x4, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 4 * csA]), x4, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 4 * csA]), x4, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 5 * csA]), x5, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 5 * csA]), x5, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 5 * csA]), x5, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 5 * csA]), x5, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 6 * csA]), x6, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 6 * csA]), x6, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 6 * csA]), x6, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 6 * csA]), x6, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 7 * csA]), x7, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 7 * csA]), x7, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 7 * csA]), x7, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 7 * csA]), x7, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 8 * csA]), x8, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 8 * csA]), x8, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 8 * csA]), x8, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 8 * csA]), x8, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 9 * csA]), x9, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 9 * csA]), x9, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 9 * csA]), x9, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 9 * csA]), x9, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 10 * csA]), x10, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 10 * csA]), x10, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 10 * csA]), x10, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 10 * csA]), x10, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 11 * csA]), x11, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 11 * csA]), x11, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 11 * csA]), x11, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 11 * csA]), x11, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 12 * csA]), x12, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 12 * csA]), x12, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 12 * csA]), x12, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 12 * csA]), x12, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 13 * csA]), x13, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 13 * csA]), x13, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 13 * csA]), x13, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 13 * csA]), x13, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 14 * csA]), x14, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 14 * csA]), x14, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 14 * csA]), x14, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 14 * csA]), x14, s3); }
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off + 15 * csA]), x15, s0);
                    if (m > 1) { s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off + 15 * csA]), x15, s1); s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off + 15 * csA]), x15, s2); s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off + 15 * csA]), x15, s3); }
                    off += w * csA;
                    continue;
                }
                spill[0] = x0;
                spill[1] = x1;
                spill[2] = x2;
                spill[3] = x3;
                spill[4] = x4;
                spill[5] = x5;
                spill[6] = x6;
                spill[7] = x7;
                spill[8] = x8;
                spill[9] = x9;
                spill[10] = x10;
                spill[11] = x11;
                spill[12] = x12;
                spill[13] = x13;
                spill[14] = x14;
                spill[15] = x15;
                var tail = new Sums4 { S0 = s0, S1 = s1, S2 = s2, S3 = s3 };
                for (int t = 0; t < depth; t++, off += csA) tail.Add(a0, a1, a2, a3, off, spill[t]);
                (s0, s1, s2, s3) = (tail.S0, tail.S1, tail.S2, tail.S3);
            }
            Sums4.Put(new Sums4 { S0 = s0, S1 = s1, S2 = s2, S3 = s3 }, v, m, j, acc, cols, load);
        }
    }

    /// <summary>Four rows' sums over one vector of columns (the kernels' edge loops: a partial vector of columns, a
    /// partial block of depth).</summary>
    private struct Sums4
    {
        public Vector512<float> S0, S1, S2, S3;

        /// <summary>S_r = fma(A(r, off), col, S_r) for the four rows (rows past m alias row 0).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Add(float* a0, float* a1, float* a2, float* a3, nint off, Vector512<float> col)
        {
            S0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off]), col, S0);
            S1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off]), col, S1);
            S2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off]), col, S2);
            S3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off]), col, S3);
        }

        /// <summary>Rows 0..m of s into C from column j (through acc, four vectors of scratch; s by value, so a
        /// caller's sums stay in registers).</summary>
        public static unsafe void Put(Sums4 s, in SkinnyView v, int m, int j, Vector512<float>* acc, int cols, bool load)
        {
            acc[0] = s.S0; acc[1] = s.S1; acc[2] = s.S2; acc[3] = s.S3;
            PutAll(v, m, j, acc, 1, 1, cols, load);
        }
    }

    /// <summary>All bits set in the first n lanes (0 &lt;= n &lt;= 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Mask(int n) =>
        Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n)).AsSingle();

    /// <summary>C(r, j..j+cols) = the sums at s (one stored vector), or C + sums when load (the tiled path's Row and
    /// StoreEdge: acc + C); down a column of C (strided) for a transposed view. The kernels store their accumulators
    /// before calling this: accumulators live across a call are spilled by the JIT at every FMA.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void Put(in SkinnyView v, int r, int j, float* s, int cols, bool load)
    {
        float* c = v.C + r * v.RsC + j * v.CsC;
        if (v.CsC != 1)
        {
            for (int l = 0; l < cols; l++, c += v.CsC) *c = load ? s[l] + *c : s[l];
            return;
        }
        var x = Vector512.Load(s);
        if (cols == 16)
        {
            if (load) x += Vector512.Load(c);
            x.Store(c);
            return;
        }
        var mask = Mask(cols);
        if (load) x += Avx512F.MaskLoad(c, mask, Vector512<float>.Zero);
        Avx512F.MaskStore(c, mask, x);
    }

    /// <summary>Rows 0..m of the accumulators at acc (row r's vector i at acc[r*stride + i]) into C from column j, 16
    /// columns per vector, the last vector cols wide.</summary>
    private static unsafe void PutAll(in SkinnyView v, int m, int j, Vector512<float>* acc, int stride, int vectors, int cols, bool load)
    {
        for (int r = 0; r < m; r++)
            for (int i = 0; i < vectors; i++)
                Put(v, r, j + 16 * i, (float*)(acc + r * stride + i), i == vectors - 1 ? cols : 16, load);
    }
}
