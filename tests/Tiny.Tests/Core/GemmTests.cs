// Tests of Gemm: every kernel, transpose, accumulate, leading-dim and thread combination against a naive double loop.
using NUnit.Framework;
using Tiny.Cpu;

namespace Tiny.Tests.Core;

[NonParallelizable] // Gemm.MaxThreads and Gemm.ForcedIsa are process-wide
public sealed class GemmTests
{
    // (m, n, k): degenerate, odd, edge-heavy, the RL shapes, multi-block k (> kc), n (> nc) and the parallel sizes.
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (3, 5, 0), (0, 4, 3), (4, 0, 3), (3, 3, 3), (17, 17, 17), (1, 129, 1), (129, 1, 17),
        (64, 64, 4), (128, 84, 120), (7, 33, 300), (256, 256, 256), (300, 257, 131), (130, 70, 600), (20, 1100, 60),
        (256, 400, 4), (400, 4, 256), (94, 4, 1000), (512, 480, 4),
    ];

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (var (m, n, k) in Shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    yield return new TestCaseData(m, n, k, ta, tb).SetArgDisplayNames($"{m}x{n}x{k}", ta ? "At" : "A", tb ? "Bt" : "B");
    }

    private static IEnumerable<Gemm.Isa> Isas()
    {
        yield return Gemm.Isa.Scalar;
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported) yield return Gemm.Isa.V256;
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) yield return Gemm.Isa.V512;
    }

    [TearDown]
    public void Restore() { Gemm.MaxThreads = Environment.ProcessorCount; Gemm.ForcedIsa = Gemm.Isa.Auto; }

    [TestCaseSource(nameof(Cases))]
    public void SgemmMatchesNaive(int m, int n, int k, bool transA, bool transB) => Check<float>(m, n, k, transA, transB);

    [TestCaseSource(nameof(Cases))]
    public void DgemmMatchesNaive(int m, int n, int k, bool transA, bool transB) => Check<double>(m, n, k, transA, transB);

    private static void Check<T>(int m, int n, int k, bool transA, bool transB) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Rng(m * 1_000_003 + n * 1009 + k);
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        // op(A) * op(B) in double, and sum |a||b| for the error bound, once per shape.
        var a0 = Random<T>(rng, aRows * aCols);
        var b0 = Random<T>(rng, bRows * bCols);
        var c0 = Random<T>(rng, m * n);
        var (exact, absSum) = Naive(a0, b0, m, n, k, transA, transB);
        double rel = Rel<T>(k);

        foreach (int pad in new[] { 0, 3 })
        {
            // Copy A, B and C into storage whose rows are `pad` wider than the matrix.
            int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
            var a = Strided(a0, aRows, aCols, lda, T.Zero);
            var b = Strided(b0, bRows, bCols, ldb, T.Zero);
            foreach (bool accumulate in new[] { false, true })
                foreach (var isa in Isas())
                    foreach (int threads in new[] { 1, 2 })
                    {
                        Gemm.ForcedIsa = isa; Gemm.MaxThreads = threads;
                        // Without accumulate, C starts as NaN: it must be overwritten, never read.
                        T sentinel = T.CreateChecked(12345);
                        var c = accumulate ? Strided(c0, m, n, ldc, sentinel) : Strided(new T[m * n], m, n, ldc, sentinel, T.NaN);
                        if (typeof(T) == typeof(float))
                            Gemm.Sgemm(transA, transB, m, n, k, (float[])(object)a, lda, (float[])(object)b, ldb, (float[])(object)c, ldc, accumulate);
                        else
                            Gemm.Dgemm(transA, transB, m, n, k, (double[])(object)a, lda, (double[])(object)b, ldb, (double[])(object)c, ldc, accumulate);
                        for (int i = 0; i < m; i++)
                        {
                            for (int j = 0; j < n; j++)
                            {
                                double init = accumulate ? double.CreateChecked(c0[i * n + j]) : 0;
                                double want = init + exact[i * n + j], got = double.CreateChecked(c[i * ldc + j]);
                                double tol = rel * (absSum[i * n + j] + Math.Abs(init)) + 1e-30;
                                if (!(Math.Abs(got - want) <= tol))
                                    Assert.Fail($"{typeof(T).Name} {m}x{n}x{k} transA={transA} transB={transB} pad={pad} acc={accumulate} " +
                                                $"isa={isa} threads={threads}: C[{i},{j}]={got}, want {want} (tol {tol})");
                            }
                            for (int j = n; j < ldc && i * ldc + j < c.Length; j++)
                                Assert.That(c[i * ldc + j], Is.EqualTo(sentinel), $"padding of C row {i} was written");
                        }
                    }
        }
    }

    /// <summary>op(A) op(B) of dense operands in double, and sum |a||b| per element for the error bound.</summary>
    private static (double[] Exact, double[] AbsSum) Naive<T>(T[] a0, T[] b0, int m, int n, int k, bool transA, bool transB)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var exact = new double[m * n];
        var absSum = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0, sa = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = double.CreateChecked(transA ? a0[p * m + i] : a0[i * k + p]);
                    double y = double.CreateChecked(transB ? b0[j * k + p] : b0[p * n + j]);
                    s += x * y; sa += Math.Abs(x * y);
                }
                exact[i * n + j] = s; absSum[i * n + j] = sa;
            }
        return (exact, absSum);
    }

    private static double Rel<T>(int k) => typeof(T) == typeof(float) ? 1e-5 * Math.Sqrt(k + 1) : 1e-12;

    private static T[] Random<T>(Rng rng, int count) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var x = new T[count];
        for (int i = 0; i < count; i++) x[i] = T.CreateChecked(rng.Uniform(-1, 1));
        return x;
    }

    /// <summary>rows x cols values in storage of row stride ld (length (rows-1)*ld + cols), padding filled with `fill`.</summary>
    private static T[] Strided<T>(T[] dense, int rows, int cols, int ld, T fill, T? value = null) where T : unmanaged
    {
        var s = new T[rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols];
        Array.Fill(s, fill);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) s[i * ld + j] = value ?? dense[i * cols + j];
        return s;
    }

    /// <summary>Up to Gemm.SkinnyMax rows of C take their own path (no packing, B read in place); each row must hold
    /// the bits the tiled path gives it inside a 13-row product (batch-1 forwards equal batched ones). Products with
    /// up to SkinnyMax columns run that path on their transpose: checked against the 13-column tiled product.</summary>
    [Test]
    public void FewRowsMatchTheTiledPathBitForBit(
        [Values(1, 3, 16, 17, 255, 256, 257, 400, 1024)] int k, [Values(false, true)] bool transA, [Values(false, true)] bool transB)
    {
        var rng = new Rng(k * 4 + (transA ? 2 : 0) + (transB ? 1 : 0));
        const int m = 13;
        foreach (int n in new[] { 1, 2, 15, 16, 17, 64, 65, 300 })
            foreach (bool accumulate in new[] { false, true })
            {
                var (a, lda, b, ldb, c0, full, ldc) = Product(rng, m, n, k, transA, transB, accumulate);
                foreach (int rows in new[] { 1, 2, 3, 4 })
                    for (int i = 0; i + rows <= m; i += rows)
                    {
                        // Rows i..i+rows of A: a row offset of the storage (untransposed) or a column offset (transposed).
                        var aPart = transA ? a.AsSpan(i) : a.AsSpan(i * lda);
                        var c = (float[])c0.Clone();
                        Gemm.Sgemm(transA, transB, rows, n, k, aPart, lda, b, ldb, c.AsSpan(i * ldc), ldc, accumulate);
                        for (int r = i; r < i + rows; r++)
                            for (int j = 0; j < ldc; j++)
                                if (BitConverter.SingleToUInt32Bits(c[r * ldc + j]) != BitConverter.SingleToUInt32Bits(j < n ? full[r * ldc + j] : c0[r * ldc + j]))
                                    Assert.Fail($"k={k} n={n} transA={transA} transB={transB} acc={accumulate}: {rows} rows from {i}: C[{r},{j}] = {c[r * ldc + j]:R}, " +
                                                $"the 13-row product gives {(j < n ? full[r * ldc + j] : c0[r * ldc + j]):R}{(j >= n ? " (padding)" : "")}");
                    }
            }
    }

    /// <summary>Linear's B^T at row strides that are a multiple of 1 KB (k = 256, 512, 1024 with no padding: the
    /// transposing copy then reads rows outside, columns inside, so that rows a kilobyte apart do not evict each other
    /// from L1) against a scalar product in Gemm's documented order: per block of 256 along k an fma chain from zero,
    /// then C = chain (first block) or C + chain. Few rows (the narrow path) and 13 (the tiled path), n with 8- and
    /// 4-row tails.</summary>
    [Test]
    public void TransposedBAtKilobyteStridesMatchesTheDocumentedOrder([Values(256, 512, 1024)] int k, [Values(1, 3, 13)] int m)
    {
        var rng = new Rng(k + m);
        foreach (int n in new[] { 1, 5, 17, 64, 77, 128 })   // 1 and 5 with 1 or 3 rows: both sides short, scalar chains
        {
            var a = Random<float>(rng, m * k);
            var b = Random<float>(rng, n * k);   // [n, k], ldb = k
            var c = new float[m * n];
            Gemm.Sgemm(false, true, m, n, k, a, k, b, k, c, n, false);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    float want = 0f;
                    for (int pc = 0; pc < k; pc += 256)
                    {
                        float chain = 0f;
                        for (int q = pc; q < Math.Min(k, pc + 256); q++) chain = MathF.FusedMultiplyAdd(a[i * k + q], b[j * k + q], chain);
                        want = pc == 0 ? chain : want + chain;
                    }
                    if (BitConverter.SingleToUInt32Bits(c[i * n + j]) != BitConverter.SingleToUInt32Bits(want))
                        Assert.Fail($"m={m} n={n} k={k}: C[{i},{j}] = {c[i * n + j]:R}, the documented order gives {want:R}");
                }
        }
    }

    [Test]
    public void FewColumnsMatchTheTiledPathBitForBit(
        [Values(1, 3, 16, 17, 255, 256, 257, 400, 1024)] int k, [Values(false, true)] bool transA, [Values(false, true)] bool transB)
    {
        var rng = new Rng(k * 4 + (transA ? 2 : 0) + (transB ? 1 : 0) + 77);
        const int n = 13;
        foreach (int m in new[] { 5, 15, 16, 17, 64, 65, 300 })
            foreach (bool accumulate in new[] { false, true })
            {
                var (a, lda, b, ldb, c0, full, ldc) = Product(rng, m, n, k, transA, transB, accumulate);
                foreach (int cols in new[] { 1, 2, 3, 4 })
                    for (int j = 0; j + cols <= n; j += cols)
                    {
                        // Columns j..j+cols of op(B): a column offset of the storage (untransposed) or a row offset (transposed).
                        var bPart = transB ? b.AsSpan(j * ldb) : b.AsSpan(j);
                        var c = (float[])c0.Clone();
                        Gemm.Sgemm(transA, transB, m, cols, k, a, lda, bPart, ldb, c.AsSpan(j), ldc, accumulate);
                        for (int i = 0; i < m; i++)
                            for (int q = 0; q < ldc && i * ldc + q < c.Length; q++)
                            {
                                bool inside = q >= j && q < j + cols;
                                float want = inside ? full[i * ldc + q] : c0[i * ldc + q];
                                if (BitConverter.SingleToUInt32Bits(c[i * ldc + q]) != BitConverter.SingleToUInt32Bits(want))
                                    Assert.Fail($"k={k} m={m} transA={transA} transB={transB} acc={accumulate}: {cols} columns from {j}: C[{i},{q}] = {c[i * ldc + q]:R}, want {want:R}{(inside ? "" : " (untouched)")}");
                            }
                    }
            }
    }

    /// <summary>Random operands stored with rows 3 wider than the matrix, C's start c0, and full = the m x n x k
    /// product (through the tiled path when m and n are past Gemm.SkinnyMax).</summary>
    private static (float[] A, int Lda, float[] B, int Ldb, float[] C0, float[] Full, int Ldc) Product(
        Rng rng, int m, int n, int k, bool transA, bool transB, bool accumulate)
    {
        int pad = 3, lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad;
        var a = Random<float>(rng, (transA ? k : m) * lda);
        var b = Random<float>(rng, (transB ? n : k) * ldb);
        var c0 = Random<float>(rng, m * ldc);
        var full = (float[])c0.Clone();
        Gemm.Sgemm(transA, transB, m, n, k, a, lda, b, ldb, full, ldc, accumulate);
        return (a, lda, b, ldb, c0, full, ldc);
    }

    // Linear's shapes (A B^T: batch x in x out) and the other transposes over: several k blocks (257, 600, 1024),
    // edge tiles (13, 37, 300 columns; 7, 13 rows), the narrow path (1-4 rows or columns; both sides short: 1x2, 4x3),
    // depth <= 16 (packed loops),
    // the direct and packed loops, and A B^T run as its transpose (32x1024x128: C written through a transposed tile).
    private static readonly (int M, int N, int K)[] EpilogueShapes =
    [
        (1, 1, 1), (3, 5, 0), (7, 37, 13), (13, 300, 257), (256, 300, 4), (256, 1, 300), (1, 256, 300), (3, 64, 600),
        (64, 2, 600), (130, 70, 600), (32, 128, 1024), (256, 300, 400), (1, 2, 300), (4, 3, 600),
    ];

    private static IEnumerable<TestCaseData> EpilogueCases()
    {
        foreach (var (m, n, k) in EpilogueShapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { true, false })
                    yield return new TestCaseData(m, n, k, ta, tb).SetArgDisplayNames($"{m}x{n}x{k}", ta ? "At" : "A", tb ? "Bt" : "B");
    }

    /// <summary>
    /// Linear's epilogue (bias as the first k block's addend, ReLU on the last block's store) gives the bits of what
    /// CpuBackend.Linear ran before it: the bias copied into every row of C, an accumulating GEMM, max(x, 0) on C;
    /// float32 and float64, every kernel, 1 and 2 threads, with and without bias and ReLU, C's padding untouched and
    /// C's old contents never read (NaN); the values against the product in double. Row 0 of A holds a NaN when
    /// k > 0: ReLU keeps it NaN (torch's relu does); row 1 of A and bias[0] are -0 (C(1, 0) is +0 either way).
    /// </summary>
    [TestCaseSource(nameof(EpilogueCases))]
    public void EpilogueMatchesBiasRowsThenGemmThenRelu(int m, int n, int k, bool transA, bool transB)
    {
        Epilogue<float>(m, n, k, transA, transB);
        Epilogue<double>(m, n, k, transA, transB);
    }

    private static void Epilogue<T>(int m, int n, int k, bool transA, bool transB) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Rng(m * 7919 + n * 31 + k + (transA ? 5 : 0) + (transB ? 11 : 0));
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n, ldc = n + 3;
        var a = Random<T>(rng, aRows * aCols);
        var b = Random<T>(rng, bRows * bCols);
        var bias = Random<T>(rng, n);
        // Row 1 of op(A) all -0 and bias[0] = -0: C(1, 0) sums exact zeros and must come out as the unfused +0.
        for (int q = 0; q < k && m > 1; q++) a[transA ? q * m + 1 : k + q] = -T.Zero;
        if (n > 0) bias[0] = -T.Zero;
        var (exact, absSum) = Naive(a, b, m, n, k, transA, transB);
        if (k > 0) a[0] = T.NaN;   // op(A)(0, 0) in either layout: row 0 of C is NaN
        foreach (bool withBias in new[] { true, false })
            foreach (bool relu in new[] { true, false })
                foreach (var isa in Isas())
                    foreach (int threads in new[] { 1, 2 })
                    {
                        Gemm.ForcedIsa = isa; Gemm.MaxThreads = threads;
                        T sentinel = T.CreateChecked(12345);
                        var want = Strided(new T[m * n], m, n, ldc, sentinel, T.Zero);
                        for (int i = 0; i < m && withBias; i++) bias.CopyTo(want, i * ldc);
                        var got = Strided(new T[m * n], m, n, ldc, sentinel, T.NaN);
                        var bs = withBias ? bias : [];
                        if (typeof(T) == typeof(float))
                        {
                            Gemm.Sgemm(transA, transB, m, n, k, (float[])(object)a, aCols, (float[])(object)b, bCols, (float[])(object)want, ldc, withBias);
                            Gemm.Sgemm(transA, transB, m, n, k, (float[])(object)a, aCols, (float[])(object)b, bCols, (float[])(object)got, ldc, (float[])(object)bs, relu);
                        }
                        else
                        {
                            Gemm.Dgemm(transA, transB, m, n, k, (double[])(object)a, aCols, (double[])(object)b, bCols, (double[])(object)want, ldc, withBias);
                            Gemm.Dgemm(transA, transB, m, n, k, (double[])(object)a, aCols, (double[])(object)b, bCols, (double[])(object)got, ldc, (double[])(object)bs, relu);
                        }
                        string at = $"{typeof(T).Name} {m}x{n}x{k} transA={transA} transB={transB} bias={withBias} relu={relu} isa={isa} threads={threads}";
                        for (int i = 0; i < m; i++)
                            for (int j = 0; j < ldc && i * ldc + j < got.Length; j++)
                            {
                                T w = j < n && relu ? T.Max(want[i * ldc + j], T.Zero) : want[i * ldc + j], g = got[i * ldc + j];
                                if (!(T.IsNaN(w) && T.IsNaN(g)) && !w.Equals(g) | T.IsNegative(w) != T.IsNegative(g))
                                    Assert.Fail($"{at}: C[{i},{j}] = {g}, the unfused path gives {w}{(j >= n ? " (padding)" : "")}");
                                if (j >= n || (i == 0 && k > 0)) continue;
                                double init = withBias ? double.CreateChecked(bias[j]) : 0, x = init + exact[i * n + j];
                                double tol = Rel<T>(k) * (absSum[i * n + j] + Math.Abs(init)) + 1e-30;
                                if (!(Math.Abs(double.CreateChecked(g) - (relu ? Math.Max(x, 0) : x)) <= tol))
                                    Assert.Fail($"{at}: C[{i},{j}] = {g}, the product in double gives {x} (tol {tol})");
                            }
                        if (k > 0 && n > 0) Assert.That(T.IsNaN(got[0]), $"{at}: a NaN in row 0 of A must give NaN in C[0, 0]");
                    }
    }

    [Test]
    public void EpilogueBiasShorterThanNIsRejected() =>
        Assert.That(Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, true, 2, 3, 2, Four, 2, Six, 2, new float[6], 3, Four.AsSpan(0, 2), false))!.ParamName,
            Is.EqualTo("bias"));

    // Each split the threads make (m x n x k): columns (300x257x300), rows of a shallow product (256x400x4: rows
    // where columns are longer; 512x480x4 in 4 slabs, the last ragged; 256x300x1, 512x64x2 and 128x120x4, split for
    // the cost of storing C), rows of a narrow product in vectors (400x4x256, 94x4x1000 ragged, 600x4x400 in 4 slabs).
    [TestCase(300, 257, 300, false, false, 2)]
    [TestCase(256, 400, 4, false, true, 2)]
    [TestCase(256, 300, 1, false, false, 2)]
    [TestCase(512, 64, 2, false, false, 2)]
    [TestCase(128, 120, 4, false, true, 2)]
    [TestCase(512, 480, 4, false, false, 4)]
    [TestCase(400, 4, 256, true, false, 2)]
    [TestCase(94, 4, 1000, false, false, 2)]
    [TestCase(600, 4, 400, false, true, 4)]
    public void ThreadCountDoesNotChangeBits(int m, int n, int k, bool transA, bool transB, int threads)
    {
        var rng = new Rng(7);
        var a = Random<float>(rng, m * k); var b = Random<float>(rng, k * n);
        var c1 = new float[m * n]; var c2 = new float[m * n];
        int lda = transA ? m : k, ldb = transB ? k : n;
        Array.Fill(c2, float.NaN);   // every element must be written by some slab
        Gemm.MaxThreads = 1; Gemm.Sgemm(transA, transB, m, n, k, a, lda, b, ldb, c1, n, false);
        Gemm.MaxThreads = threads; Gemm.Sgemm(transA, transB, m, n, k, a, lda, b, ldb, c2, n, false);
        Assert.That(c2, Is.EqualTo(c1));
    }

    [Test]
    public void ThreadedPathAllocatesNothingInSteadyState()
    {
        var rng = new Rng(8);
        const int m = 256, n = 256, k = 256;
        var a = Random<float>(rng, m * k); var b = Random<float>(rng, k * n);
        var c1 = new float[m * n]; var c4 = new float[m * n];
        Gemm.MaxThreads = 1; Gemm.Sgemm(false, false, m, n, k, a, k, b, n, c1, n, false);
        Gemm.MaxThreads = 4;   // more slabs than cores: the caller and pool threads share them
        for (int i = 0; i < 5; i++) Gemm.Sgemm(false, false, m, n, k, a, k, b, n, c4, n, false);
        // The least of 5 rounds of 20 calls: Parallel.For allocates loop state on every call (every round), while the
        // fork-join allocates nothing itself; on a loaded machine the thread pool's own queue bookkeeping shows up in
        // some rounds (64-410 B per call seen with other processes on both cores), not in all of them.
        long bytes = long.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            long b0 = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) Gemm.Sgemm(false, false, m, n, k, a, k, b, n, c4, n, false);
            bytes = Math.Min(bytes, GC.GetAllocatedBytesForCurrentThread() - b0);
        }
        Assert.That(c4, Is.EqualTo(c1));
        Assert.That(bytes, Is.LessThan(20 * 128), "bytes allocated by 20 threaded SGEMMs on the calling thread (least of 5 rounds)");
    }

    private static readonly float[] Four = new float[4], Six = new float[6];

    [TestCase("m", -1, 2, 2, 2, 2, 2, 6)]
    [TestCase("lda", 2, 2, 3, 2, 2, 2, 6)]   // A is 2x3, lda=2 < 3
    [TestCase("ldb", 2, 2, 2, 2, 1, 2, 6)]
    [TestCase("ldc", 2, 2, 2, 2, 2, 1, 6)]
    [TestCase("a", 3, 2, 2, 2, 2, 2, 6)]     // A 3x2 needs 6 elements, has 4
    [TestCase("b", 2, 3, 2, 2, 3, 3, 6)]     // B 2x3 needs 6, has 4
    [TestCase("c", 2, 2, 2, 2, 2, 2, 3)]     // C 2x2 needs 4, has 3
    public void BadArgumentsThrowNamingTheArgument(string param, int m, int n, int k, int lda, int ldb, int ldc, int cLen)
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.Sgemm(false, false, m, n, k, Four, lda, Four, ldb, new float[cLen], ldc, false));
        Assert.That(ex!.ParamName, Is.EqualTo(param));
        Assert.That(ex.Message, Does.Contain("Sgemm"));
    }

    [Test]
    public void TransposedShapesAreValidatedAsStored()
    {
        // A^T stored [k=3, m=2] with lda=2 is valid; the same with lda=1 is not.
        Gemm.Sgemm(true, false, 2, 1, 3, Six, 2, new float[3], 1, new float[2], 1, false);
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(true, false, 2, 1, 3, Six, 1, new float[3], 1, new float[2], 1, false));
        Assert.That(ex!.ParamName, Is.EqualTo("lda"));
        var exd = Assert.Throws<ArgumentException>(() => Gemm.Dgemm(false, true, 1, 2, 3, new double[3], 3, new double[5], 3, new double[2], 2, false));
        Assert.That(exd!.ParamName, Is.EqualTo("b"));
    }

    [Test]
    public void OverlappingOutputAndMaxThreadsAreRejected()
    {
        var buf = new float[8];
        Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 2, 2, buf.AsSpan(0, 4), 2, buf.AsSpan(4, 4), 2, buf.AsSpan(2, 4), 2, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MaxThreads = 0);
    }
}
