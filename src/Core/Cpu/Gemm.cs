// Gemm: Tiny's own single- and double-precision matrix multiply (packed, cache-blocked, register-blocked SIMD).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tiny.Cpu;

/// <summary>
/// Row-major GEMM: <c>C[m,n] = (accumulate ? C : 0) + op(A)[m,k] * op(B)[k,n]</c>, where op(X) = X^T when the
/// matching trans flag is set (A is then stored [k,m] with row stride lda, B stored [n,k] with row stride ldb).
/// Structure after BLIS/GotoBLAS: B is packed in kc x nc blocks (NR-wide panels), A in mc x kc blocks (MR-high
/// panels), and an MR x NR register tile of C is updated by FMA over kc. Small problems skip packing.
/// Each element of C is reduced over k in the same order whatever the thread count, so results are deterministic.
/// </summary>
[SkipLocalsInit]
public static partial class Gemm
{
    private static int _maxThreads = Environment.ProcessorCount;

    /// <summary>Most threads one call may use (default: processor count; 1 = single-threaded).</summary>
    public static int MaxThreads
    {
        get => _maxThreads;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "Gemm.MaxThreads must be >= 1");
            _maxThreads = value;
        }
    }

    /// <summary>Which micro-kernel runs; Auto picks the widest the hardware accelerates (tests force the others).</summary>
    internal enum Isa { Auto, Scalar, V256, V512 }

    internal static Isa ForcedIsa { get; set; } = Isa.Auto;

    // Below this much work a call stays on one thread; above, one thread per this much. Work is m*n*(k + 16)
    // multiply-adds (~3 us on one core): storing an element of C costs about what 8-16 multiply-adds do once C is
    // larger than L1 (its line comes from L2 and goes back), which is all the time of a shallow product: 256x1x300
    // (m*n*k = 77K) took 12 us on one thread and 10 on two, 512x2x64 6.3 -> 3.6, 128x4x120 B^T 7.0 -> 4.5 (loaded
    // machine). The helpers (SpinPool) poll for 200 us after each product, so a fork costs about a microsecond in a
    // run of back-to-back products, and a helper that does not come in time costs nothing: the caller claims every
    // slab itself. (With the .NET pool, 5-50 us per wake, it was 1.5M and kept the RL layers on one thread.)
    internal const long ParallelMinWork = 300_000;

    // Below this, A is read in place and B only packed when transposed: packing would cost more than it saves.
    private const long DirectMaxWork = 1L << 20;

    // Above it too, the AVX2 path reads A in place (six row pointers, or six adjacent columns of A^T) rather than
    // packing it: the 6 x kc micro-panel stays in L1 across the whole NR loop either way, and turning an untransposed
    // A into panels cost 10-20% at 128x120x84 and 512x64x64. A^T is still packed when one kc block of it is larger
    // than this: its micro-panel then spans kc cache lines and large ones (1024^3 A^T) ran 0.7x in place.
    private const long InPlaceATBytes = 128 << 10;

    /// <summary>Single-precision GEMM; see the class summary for the exact contract.</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate) =>
        Entry("Sgemm", transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, default, false);

    /// <summary>Double-precision GEMM; see the class summary for the exact contract.</summary>
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> b, int ldb, Span<double> c, int ldc, bool accumulate) =>
        Entry("Dgemm", transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, default, false);

    /// <summary>
    /// Single-precision GEMM with Linear's epilogue: <c>C[i,j] = relu?(bias[j] + op(A) op(B)[i,j])</c> (bias empty:
    /// none; C is never read). The bits are those of copying the bias into every row of C, an accumulating
    /// <see cref="Sgemm(bool, bool, int, int, int, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, Span{float}, int, bool)"/>
    /// and a ReLU pass (max(x, 0): NaN stays NaN, -0 gives +0), without the copy and the pass: the bias is the addend
    /// of the first k block's tile store, the ReLU is applied as the last block's tile is stored.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, ReadOnlySpan<float> bias, bool relu) =>
        Entry("Sgemm", transA, transB, m, n, k, a, lda, b, ldb, c, ldc, false, bias, relu);

    /// <summary>Double-precision GEMM with Linear's epilogue; see
    /// <see cref="Sgemm(bool, bool, int, int, int, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, Span{float}, int, ReadOnlySpan{float}, bool)"/>.</summary>
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> b, int ldb, Span<double> c, int ldc, ReadOnlySpan<double> bias, bool relu) =>
        Entry("Dgemm", transA, transB, m, n, k, a, lda, b, ldb, c, ldc, false, bias, relu);

    private static unsafe void Entry<T>(string op, bool transA, bool transB, int m, int n, int k, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate, ReadOnlySpan<T> bias, bool relu)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Validate(op, transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (!bias.IsEmpty && bias.Length < n)
            throw new ArgumentException($"{op}: bias has {bias.Length} elements, C has {n} columns", nameof(bias));
        if (m == 0 || n == 0) return;
        if (a.Length > 0 && b.Length > 0 && (c.Overlaps(a) || c.Overlaps(b)))
            throw new ArgumentException($"{op}: c must not overlap a or b", nameof(c));
        Isa isa = Pick();
        if (isa == Isa.V512 && (!bias.IsEmpty || relu))
        {   // the AVX-512 kernels (and Gemm.Skinny) store plain tiles: bias rows, an accumulating product, a ReLU pass
            for (int i = 0; i < m && !bias.IsEmpty; i++) bias[..n].CopyTo(c.Slice(i * ldc, n));
            Entry(op, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, !bias.IsEmpty, default, false);
            if (relu) for (int i = 0; i < m; i++) CpuKernels<T>.Relu(c.Slice(i * ldc, n), c.Slice(i * ldc, n));
            return;
        }
        fixed (T* pa = a) fixed (T* pb = b) fixed (T* pc = c) fixed (T* pbias = bias)
        {
            var p = new Problem<T>(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, pbias, relu);
            switch (isa)
            {
                case Isa.V512: Driver<T, Kernel512<T>>.Run(p); break;
                case Isa.V256: Driver<T, Kernel256<T>>.Run(p); break;
                default: Driver<T, KernelScalar<T>>.Run(p); break;
            }
        }
    }

    private static Isa Pick()
    {
        Isa best = Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? Isa.V512
            : Vector256.IsHardwareAccelerated && Fma.IsSupported ? Isa.V256 : Isa.Scalar;
        Isa forced = ForcedIsa;
        return forced == Isa.Auto || forced > best ? best : forced;
    }

    private static void Validate(string op, bool transA, bool transB, int m, int n, int k, int aLen, int lda,
        int bLen, int ldb, int cLen, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"{op}: dimensions must be >= 0, got m={m}, n={n}, k={k}", m < 0 ? "m" : n < 0 ? "n" : "k");
        // Stored shapes: A is [m,k] (or [k,m] when transA), B is [k,n] (or [n,k] when transB), C is [m,n].
        CheckMatrix(op, "a", "lda", transA ? k : m, transA ? m : k, aLen, lda);
        CheckMatrix(op, "b", "ldb", transB ? n : k, transB ? k : n, bLen, ldb);
        CheckMatrix(op, "c", "ldc", m, n, cLen, ldc);
    }

    private static void CheckMatrix(string op, string name, string ldName, int rows, int cols, int length, int ld)
    {
        if (ld < cols || ld < 0)
            throw new ArgumentException($"{op}: {ldName}={ld} is smaller than the row width {cols} of {name} ({rows}x{cols})", ldName);
        long need = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < need)
            throw new ArgumentException($"{op}: {name} has {length} elements, a {rows}x{cols} matrix with {ldName}={ld} needs {need}", name);
    }

    /// <summary>One call's operands as raw pointers (the spans are pinned by the caller for the whole call).</summary>
    /// <remarks>TransC: C(i, j) is stored at C + j*Ldc + i (a product run as its transpose, C^T = op(B)^T op(A)^T).
    /// Bias (or null): one value per column of C as stored, the first k block's addend when not Accumulate, so
    /// Bias[j] for C(i, j), or Bias[i] when TransC. Relu: max(x, 0) on the last k block's stored sums.</remarks>
    private readonly unsafe struct Problem<T>(bool transA, bool transB, int m, int n, int k, T* a, int lda, T* b, int ldb,
        T* c, int ldc, bool accumulate, T* bias, bool relu, bool transC = false) where T : unmanaged
    {
        public readonly bool TransA = transA, TransB = transB, Accumulate = accumulate, TransC = transC, Relu = relu;
        public readonly int M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc;
        public readonly T* A = a, B = b, C = c, Bias = bias;
    }

    /// <summary>What a tile store adds to its sums and whether it applies the ReLU. Add(r, j) = Add[r*LdAdd + j]
    /// (LdAdd 0: one row for every row, a bias); Add null: the sums are stored as they are (LdAdd is then 0 too).</summary>
    private readonly unsafe struct Epilogue<T>(T* add, nint ldAdd, bool relu) where T : unmanaged
    {
        public readonly T* Add = add;
        public readonly nint LdAdd = ldAdd;
        public readonly bool Relu = relu;

        /// <summary>Add(r, j) for the row r of the tile (null when there is no addend).</summary>
        public T* Row(int r) => Add + r * LdAdd;

        /// <summary>The same store for a tile that starts rows rows lower.</summary>
        public Epilogue<T> Down(int rows) => new(Row(rows), LdAdd, Relu);

        /// <summary>The same store for a tile that starts cols columns to the right.</summary>
        public Epilogue<T> Right(int cols) => new(Add == null ? null : Add + cols, LdAdd, Relu);
    }

    /// <summary>An MR x NR micro-kernel: C tile (+)= sum over p &lt; kc of A(r,p) * B(p,j).</summary>
    private unsafe interface IKernel<T> where T : unmanaged
    {
        static abstract int MR { get; }
        static abstract int NR { get; }

        /// <summary>
        /// A(r,p) = a[min(r, mr-1)*rsA + p*csA]; B(p,j) = b[p*rsB + j] for j &lt; NR (all NR readable);
        /// only the mr x nr corner of C is written: C(r, j) = relu?(e.Add(r, j) + sum) (the add first, as C + sum).
        /// </summary>
        static abstract void Tile(int kc, T* a, nint rsA, nint csA, int mr, T* b, nint rsB, T* c, nint ldc, int nr, in Epilogue<T> e);
    }

    /// <summary>Blocking loops, packing and threading, written once for any element type and micro-kernel.</summary>
    /// <remarks>Hot methods are AggressiveOptimization: GEMM loops must not run as tier-0/OSR code while tiering catches up.</remarks>
    private static unsafe partial class Driver<T, TK> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> where TK : IKernel<T>
    {
        // kc: depth of one rank-kc update (an A micro-panel MR x kc stays in L1 across the NR loop);
        // nc: width of a packed B block (kc x nc sits in the 1 MiB L2); mc: height of a packed A block.
        private static readonly int KC = 256;
        private static readonly int NC = 512 * 4 / sizeof(T) / TK.NR * TK.NR;
        private static readonly int MC = 32 * TK.MR;

        [ThreadStatic] private static T[]? _aBuf, _bBuf;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(in Problem<T> p)
        {
            if (p.K == 0)
            {   // an empty sum: C = relu?(C or the bias or 0)
                for (int i = 0; i < p.M; i++)
                    for (int j = 0; j < p.N; j++)
                    {
                        T* c = p.TransC ? p.C + (nint)j * p.Ldc + i : p.C + (nint)i * p.Ldc + j;
                        T v = p.Accumulate ? *c : p.Bias != null ? p.Bias[p.TransC ? i : j] : T.Zero;
                        *c = p.Relu ? Relu(v) : v;
                    }
                return;
            }
            if (typeof(TK) == typeof(Kernel256<T>) && FlipPays(p))
            {
                Run(new Problem<T>(!p.TransB, !p.TransA, p.N, p.M, p.K, p.B, p.Ldb, p.A, p.Lda, p.C, p.Ldc, p.Accumulate, p.Bias, p.Relu, transC: true));
                return;
            }
            long work = (long)p.M * p.N * (p.K + 16);
            int threads = work < ParallelMinWork ? 1 : (int)Math.Min(MaxThreads, (work + ParallelMinWork - 1) / ParallelMinWork);
            if (threads == 1) { Slab(p, 0, p.M, 0, p.N); return; }

            // One aligned slab of C per thread (never more: a slab left over runs after the others); every slab
            // repeats the full k loop, so the reduction order of each C element does not depend on the split.
            var (splitN, align) = SplitSide(p, threads);
            int len = splitN ? p.N : p.M;
            int chunk = ((len + align - 1) / align + threads - 1) / threads * align;
            threads = (len + chunk - 1) / chunk;
            var job = _job ??= new Job();
            job.Start(p, splitN, chunk, threads);
            bool pooled = SpinPool.TryPost(job, threads - 1);
            if (!pooled) for (int t = 1; t < threads; t++) ThreadPool.UnsafeQueueUserWorkItem(job, preferLocal: false);
            try
            {
                job.Drain();
                job.Join();
            }
            finally { if (pooled) SpinPool.Release(); }   // as CpuParallel.For: a slab's exception must not keep the helpers held
        }

        /// <summary>
        /// Which side of C the threads split (N: columns, else rows) and the multiple a slab boundary falls on. The
        /// longer side, except on AVX2 for shallow products (k &lt;= 16), whose time goes to storing C: there the rows
        /// are split whenever each thread gets two row units, so each thread writes whole rows of its own (a TransC
        /// product is never that shallow: FlipPays needs k &gt; 4m). Two threads writing the two halves of every row
        /// ran no faster than one (256x4x400 B^T: 20 us on two threads, 18 on one; rows split: 10; 256x3x400 B^T
        /// 20 -> 8.5), though the halves share at most one cache line per row. AVX2 columns split at a
        /// multiple of one vector, not of the 16-wide tile: a slab's 8-wide right edge costs half a tile (Tile1), so
        /// 300 columns go 152 / 148 (9.5 tiles each) instead of 10 / 9 tiles. Rows split at a multiple of MR, or of a
        /// vector when C has at most NarrowMax columns (the narrow path runs down the rows in vectors).
        /// </summary>
        private static (bool SplitN, int Align) SplitSide(in Problem<T> p, int threads)
        {
            if (typeof(TK) != typeof(Kernel256<T>)) return p.N >= p.M ? (true, TK.NR) : (false, TK.MR);
            int w = Vector256<T>.Count, rowAlign = p.N <= NarrowMax ? w : TK.MR;
            bool splitN = p.N >= p.M && !(p.K <= 16 && !p.TransC && (p.M + rowAlign - 1) / rowAlign >= 2 * threads);
            return (splitN, splitN ? w : rowAlign);
        }

        /// <summary>
        /// Whether A B^T (Linear's forward, a conv weight grad) with fewer rows than columns runs as its transpose
        /// B A^T: B's rows are then read in place and the smaller A is the operand turned into panels, at the price of
        /// writing C through a transposed tile (an extra pass over C per kc block). 32x1024x128 (MinAtar's 1024-128
        /// forward) turns 32 rows of A instead of 128 of B; 16x2048x36 (its conv weight grad) also loses its ragged
        /// edges (36 = 6 x 6 rows, 16 = one panel). Not where turning the extra (n - m) rows costs less than the C
        /// pass (256x400x300).
        /// </summary>
        private static bool FlipPays(in Problem<T> p) =>
            !p.TransC && p.TransB && !p.TransA && p.M > NarrowMax && p.N > NarrowMax
            && (long)(p.N - p.M) * p.K > 4L * p.M * p.N * ((p.K + KC - 1) / KC);

        /// <summary>How the tile at C(i, j) (not TransC) is stored in the k block [pc, pc + kc): added to C when
        /// accumulating or after the first block, to the bias in the first block, stored as it is otherwise; the ReLU
        /// with the last block.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Epilogue<T> Store(in Problem<T> p, int pc, int kc, int i, int j)
        {
            var (load, relu) = BlockStore(p, pc, kc);
            if (load) return new(p.C + (nint)i * p.Ldc + j, p.Ldc, relu);
            return new(p.Bias == null ? null : p.Bias + j, 0, relu);
        }

        /// <summary>The k block [pc, pc + kc)'s store: Load, add the sums to C (accumulating, or after the first
        /// block; otherwise to the bias or nothing); Relu, apply the ReLU (the last block).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (bool Load, bool Relu) BlockStore(in Problem<T> p, int pc, int kc) => (p.Accumulate || pc > 0, p.Relu && pc + kc == p.K);

        /// <summary>C(i.., j..j+n) of a problem that is not TransC, in the k block [pc, pc + kc): B panels bNext apart
        /// (row stride rsB), on AVX2 in one kernel call (Kernel256.Tiles), otherwise a tile at a time.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Tiles(in Problem<T> p, int pc, int kc, T* a, nint rsA, nint csA, int mr, T* b, nint rsB, nint bNext, int i, int j, int n)
        {
            T* c = p.C + (nint)i * p.Ldc + j;
            if (typeof(TK) == typeof(Kernel256<T>)) { Kernel256<T>.Tiles(kc, a, rsA, csA, mr, b, rsB, bNext, c, p.Ldc, n, Store(p, pc, kc, i, j)); return; }
            for (int t = 0; t < n; t += TK.NR, b += bNext)
                TK.Tile(kc, a, rsA, csA, mr, b, rsB, c + t, p.Ldc, Math.Min(TK.NR, n - t), Store(p, pc, kc, i, j + t));
        }

        /// <summary>A tile of a TransC problem in the k block [pc, pc + kc): computed into a stack tile, then added
        /// (to C, or in the first block to the bias, one value per row i here) down C's columns; C + acc gives the
        /// bits the kernel's own update acc + C does.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void TileT(in Problem<T> p, int pc, int kc, T* a, nint rsA, nint csA, int mr, T* b, nint rsB, int i, int j, int nr)
        {
            int s = TK.NR;
            T* t = stackalloc T[12 * 32];
            TK.Tile(kc, a, rsA, csA, mr, b, rsB, t, s, nr, default);
            T* c = p.C + (nint)j * p.Ldc + i;
            var (load, relu) = BlockStore(p, pc, kc);
            T* bias = load || p.Bias == null ? null : p.Bias + i;
            for (int q = 0; q < nr; q++, c += p.Ldc)
                for (int r = 0; r < mr; r++)
                {
                    T v = t[r * s + q];
                    if (load) v = c[r] + v; else if (bias != null) v = bias[r] + v;
                    c[r] = relu ? Relu(v) : v;
                }
        }

        // A fork-join that allocates nothing per call (Parallel.For does). Caller and pool threads claim slabs from
        // a counter until none is left, so the caller alone finishes the work when no pool thread comes; it then
        // waits for the slabs others claimed. The split is the same as before: results do not depend on who ran what.
        [ThreadStatic] private static Job? _job;

        private sealed class Job : IThreadPoolWorkItem
        {
            private const int Idle = int.MaxValue / 2;   // a claim counter no late worker can bring below the slab count
            private Problem<T> _p;
            private bool _splitN;
            private int _chunk, _slabs, _remaining, _next = Idle;
            private Exception? _error;
            private readonly ManualResetEventSlim _done = new(false);

            public void Start(in Problem<T> p, bool splitN, int chunk, int slabs)
            {
                _p = p; _splitN = splitN; _chunk = chunk; _slabs = slabs; _error = null;
                _remaining = slabs;
                _done.Reset();
                Volatile.Write(ref _next, 0);   // publish last: a claim sees the fields above
            }

            public void Execute() => Drain();

            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void Drain()
            {
                int t;
                while ((t = Interlocked.Increment(ref _next) - 1) < _slabs)
                {
                    try
                    {
                        int lo = t * _chunk;
                        if (_splitN) Slab(_p, 0, _p.M, lo, Math.Min(_p.N, lo + _chunk));
                        else Slab(_p, lo, Math.Min(_p.M, lo + _chunk), 0, _p.N);
                    }
                    catch (Exception e) { _error = e; }
                    finally { if (Interlocked.Decrement(ref _remaining) == 0) _done.Set(); }
                }
            }

            public void Join()
            {
                _done.Wait();   // every slab has been claimed (Drain returned); wait for the ones others run
                Volatile.Write(ref _next, Idle);
                if (_error is not null) throw new AggregateException(_error);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Slab(in Problem<T> p, int i0, int i1, int j0, int j1)
        {
            if (typeof(T) == typeof(float) && typeof(TK) == typeof(Kernel512<T>) && SkinnyFits(p.TransB, i1 - i0, j1 - j0, p.K))
            {
                Skinny(Unsafe.As<Problem<T>, Problem<float>>(ref Unsafe.AsRef(in p)), i0, i1, j0, j1);
                return;
            }
            if (typeof(TK) == typeof(Kernel256<T>) && (i1 - i0 <= NarrowMax || j1 - j0 <= NarrowMax))
            {
                Narrow(p, i0, i1, j0, j1);
                return;
            }
            // AVX2, k <= 16: the packed loops write C row after row (six full rows per A micro-panel), which is what
            // the time goes to at such depths; the direct loops' column strips ran 1.0-1.2x slower (256x4x400 tB).
            bool shallow = typeof(TK) == typeof(Kernel256<T>) && p.K <= 16;
            if ((long)(i1 - i0) * (j1 - j0) * p.K <= DirectMaxWork && !shallow) Direct(p, i0, i1, j0, j1);
            else Packed(p, i0, i1, j0, j1);
        }

        /// <summary>Whether rows ld elements apart are a multiple of 1 KiB apart: such rows fall on a few of L1's
        /// sets (64 sets of 8 ways, 4 KiB a way) and evict each other when more than a few are read side by side.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool KilobyteApart(nint ld) => (ld * sizeof(T) & 1023) == 0;

        /// <summary>Small problems: A read in place through its strides; B read in place unless transposed or ragged.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Direct(in Problem<T> p, int i0, int i1, int j0, int j1)
        {
            int mr = TK.MR, nr = TK.NR;
            T* bPanel = Buffer(ref _bBuf, Math.Min(p.K, KC) * nr);
            nint rsA = p.TransA ? 1 : p.Lda, csA = p.TransA ? p.Lda : 1;
            // B rows a multiple of 1 KiB apart fall on a few L1 sets: a panel read in place would evict itself.
            bool aliased = KilobyteApart(p.Ldb) && i1 - i0 > 2 * mr;
            for (int pc = 0; pc < p.K; pc += KC)
            {
                int kc = Math.Min(KC, p.K - pc), j = j0;
                if (!p.TransB && !aliased && !p.TransC)
                {   // B in place: each A micro-panel against all of its whole panels in one kernel call
                    int full = (j1 - j0) / nr * nr;
                    for (int i = i0; i < i1 && full > 0; i += mr)
                        Tiles(p, pc, kc, p.TransA ? p.A + (nint)pc * p.Lda + i : p.A + (nint)i * p.Lda + pc, rsA, csA, Math.Min(mr, i1 - i),
                            p.B + (nint)pc * p.Ldb + j0, p.Ldb, nr, i, j0, full);
                    j += full;
                }
                for (; j < j1; j += nr)
                {
                    int nrj = Math.Min(nr, j1 - j);
                    T* bp; nint rsB;
                    if (!p.TransB && nrj == nr && !aliased) { bp = p.B + (nint)pc * p.Ldb + j; rsB = p.Ldb; }
                    else { PackB(p, bPanel, pc, kc, j, nrj); bp = bPanel; rsB = nr; }
                    for (int i = i0; i < i1; i += mr)
                    {
                        T* ap = p.TransA ? p.A + (nint)pc * p.Lda + i : p.A + (nint)i * p.Lda + pc;
                        if (p.TransC) TileT(p, pc, kc, ap, rsA, csA, Math.Min(mr, i1 - i), bp, rsB, i, j, nrj);
                        else Tiles(p, pc, kc, ap, rsA, csA, Math.Min(mr, i1 - i), bp, rsB, 0, i, j, nrj);
                    }
                }
            }
        }

        /// <summary>GotoBLAS loops: jc (nc) / pc (kc): pack B block / ic (mc): pack A block / ir (MR) / jr (NR): tile.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Packed(in Problem<T> p, int i0, int i1, int j0, int j1)
        {
            int mr = TK.MR, nr = TK.NR;
            int ncMax = Math.Min(NC, (j1 - j0 + nr - 1) / nr * nr), kcMax = Math.Min(KC, p.K);
            T* bBlock = Buffer(ref _bBuf, kcMax * ncMax);
            T* aBlock = Buffer(ref _aBuf, kcMax * Math.Min(MC, (i1 - i0 + mr - 1) / mr * mr) + Vector256<T>.Count);   // + PackA's spill
            for (int jc = j0; jc < j1; jc += NC)
            {
                int nc = Math.Min(NC, j1 - jc);
                for (int pc = 0; pc < p.K; pc += KC)
                {
                    int kc = Math.Min(KC, p.K - pc);
                    if (!p.TransB) PackBRows(p, bBlock, pc, kc, jc, nc);
                    else for (int j = 0; j < nc; j += nr) PackB(p, bBlock + (nint)j * kc, pc, kc, jc + j, Math.Min(nr, nc - j));
                    for (int ic = i0; ic < i1; ic += MC)
                    {
                        int mc = Math.Min(MC, i1 - ic);
                        bool inPlace = typeof(TK) == typeof(Kernel256<T>) && (!p.TransA || (long)kc * p.Lda * sizeof(T) <= InPlaceATBytes);
                        if (!inPlace) for (int i = 0; i < mc; i += mr) PackA(p, aBlock + (nint)i * kc, ic + i, Math.Min(mr, mc - i), pc, kc);
                        for (int i = 0; i < mc; i += mr)
                        {
                            T* ap = !inPlace ? aBlock + (nint)i * kc : p.TransA ? p.A + (nint)pc * p.Lda + ic + i : p.A + (nint)(ic + i) * p.Lda + pc;
                            nint rsA = !inPlace ? 1 : p.TransA ? 1 : p.Lda, csA = !inPlace ? mr : p.TransA ? p.Lda : 1;
                            int mri = Math.Min(mr, mc - i);
                            if (!p.TransC) Tiles(p, pc, kc, ap, rsA, csA, mri, bBlock, nr, (nint)kc * nr, ic + i, jc, nc);
                            else
                                for (int j = 0; j < nc; j += nr)
                                    TileT(p, pc, kc, ap, rsA, csA, mri, bBlock + (nint)j * kc, nr, ic + i, jc + j, Math.Min(nr, nc - j));
                        }
                    }
                }
            }
        }

        /// <summary>
        /// A kc x nc block of untransposed B into NR-wide panels (panel j at dst + j*kc), reading B row by row: the
        /// source streams through memory once instead of one narrow column strip per panel (a page per row for wide B).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void PackBRows(in Problem<T> p, T* dst, int pc, int kc, int j0, int nc)
        {
            int nr = TK.NR;
            T* src = p.B + (nint)pc * p.Ldb + j0;
            for (int q = 0; q < kc; q++, src += p.Ldb)
                for (int j = 0; j < nc; j += nr)
                {
                    int w = Math.Min(nr, nc - j);
                    T* d = dst + (nint)j * kc + (nint)q * nr;
                    Copy(src + j, d, w);
                    for (int r = w; r < nr; r++) d[r] = T.Zero;
                }
        }

        /// <summary>dst[p*NR + j] = B(pc+p, j0+j) for j &lt; nrj, zero for nrj &lt;= j &lt; NR.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void PackB(in Problem<T> p, T* dst, int pc, int kc, int j0, int nrj)
        {
            int nr = TK.NR;
            if (!p.TransB)
            {
                T* src = p.B + (nint)pc * p.Ldb + j0;
                for (int q = 0; q < kc; q++, src += p.Ldb, dst += nr)
                {
                    Copy(src, dst, nrj);
                    for (int j = nrj; j < nr; j++) dst[j] = T.Zero;
                }
                return;
            }
            // B^T is stored [n,k]: each column j of op(B) is a contiguous row of the storage.
            Transpose(p.B + (nint)j0 * p.Ldb + pc, p.Ldb, nrj, kc, dst, nr);
            for (int j = nrj; j < nr; j++)
                for (int q = 0; q < kc; q++) dst[(nint)q * nr + j] = T.Zero;
        }

        /// <summary>dst[0..count) = src[0..count): a short copy, cheaper inline than Span.CopyTo for 12-32 elements.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Copy(T* src, T* dst, int count)
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
                for (; i + Vector256<T>.Count <= count; i += Vector256<T>.Count) Vector256.Load(src + i).Store(dst + i);
            for (; i < count; i++) dst[i] = src[i];
        }

        /// <summary>dst[q*dstStride + r] = src[r*ld + q] for r &lt; rows, q &lt; cols (float: 8 x 8 and 4 x 8 blocks in AVX registers).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Transpose(T* src, nint ld, int rows, int cols, T* dst, nint dstStride)
        {
            int r = 0;
            if (typeof(T) == typeof(float) && Avx.IsSupported)
            {
                float* s = (float*)src, d = (float*)dst;
                int rows8 = rows & ~7, rows4 = rows & ~3, q = 0, cols8 = cols & ~7;
                if (KilobyteApart(ld) && rows8 > 8)
                {
                    // Rows outside when the source rows are a multiple of 1 KiB apart: read column-block first, 64 rows
                    // at such a stride fall in a few L1 sets (8 ways) and evict each other before the line's second
                    // half is read (1 x 1024 @ 1024 x 128^T, MinAtar's batch-1 forward, ran 3x slower). Here each of
                    // the eight rows streams along its line and the written strip (kc lines) stays in L1 for the next
                    // eight rows, which fill its other half.
                    for (r = 0; r < rows8; r += 8)
                        for (q = 0; q < cols8; q += 8) Block8(s + r * ld + q, ld, d + q * dstStride + r, dstStride);
                    if (rows4 > rows8)   // four rows left: 4 x 8 blocks, as below
                        for (q = 0; q < cols8; q += 8) Block4(s + rows8 * ld + q, ld, d + q * dstStride + rows8, dstStride);
                    q = cols8;
                }
                else
                    // Column blocks outside, rows inside: each block's 8 destination rows (one short run of dst) are
                    // written in full before the next, so a wide dst (a 64-wide narrow block) is not swept once per 4 rows.
                    for (; q + 8 <= cols; q += 8)
                    {
                        for (r = 0; r < rows8; r += 8) Block8(s + r * ld + q, ld, d + q * dstStride + r, dstStride);
                        for (; r < rows4; r += 4) Block4(s + r * ld + q, ld, d + q * dstStride + r, dstStride);
                    }
                for (; q < cols; q++)
                    for (int i = 0; i < rows4; i++) d[q * dstStride + i] = s[i * ld + q];
                r = rows4;
            }
            for (; r < rows; r++)
            {
                T* row = src + r * ld;
                for (int q = 0; q < cols; q++) dst[q * dstStride + r] = row[q];
            }
        }

        /// <summary>Eight rows of eight floats at s0 (row stride ld) to eight rows of eight at d0 (stride dstStride): two
        /// 4 x 8 halves turned by <see cref="Quad"/>, each output row joining their 128-bit halves (one 256-bit store).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Block8(float* s0, nint ld, float* d0, nint dstStride)
        {
            var (u0, u1, u2, u3) = Quad(s0, ld);
            var (v0, v1, v2, v3) = Quad(s0 + 4 * ld, ld);
            Avx.Permute2x128(u0, v0, 0x20).Store(d0); Avx.Permute2x128(u1, v1, 0x20).Store(d0 + dstStride);
            Avx.Permute2x128(u2, v2, 0x20).Store(d0 + 2 * dstStride); Avx.Permute2x128(u3, v3, 0x20).Store(d0 + 3 * dstStride);
            Avx.Permute2x128(u0, v0, 0x31).Store(d0 + 4 * dstStride); Avx.Permute2x128(u1, v1, 0x31).Store(d0 + 5 * dstStride);
            Avx.Permute2x128(u2, v2, 0x31).Store(d0 + 6 * dstStride); Avx.Permute2x128(u3, v3, 0x31).Store(d0 + 7 * dstStride);
        }

        /// <summary>Four rows of eight floats at s0 to eight rows of four at d0 (128-bit stores).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Block4(float* s0, nint ld, float* d0, nint dstStride)
        {
            var (u0, u1, u2, u3) = Quad(s0, ld);
            u0.GetLower().Store(d0); u1.GetLower().Store(d0 + dstStride);
            u2.GetLower().Store(d0 + 2 * dstStride); u3.GetLower().Store(d0 + 3 * dstStride);
            u0.GetUpper().Store(d0 + 4 * dstStride); u1.GetUpper().Store(d0 + 5 * dstStride);
            u2.GetUpper().Store(d0 + 6 * dstStride); u3.GetUpper().Store(d0 + 7 * dstStride);
        }

        /// <summary>Four rows of eight floats at s (row stride ld) turned: u_i holds column i of the four rows in its
        /// low half and column i + 4 in its high half.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) Quad(float* s, nint ld)
        {
            var r0 = Avx.LoadVector256(s); var r1 = Avx.LoadVector256(s + ld);
            var r2 = Avx.LoadVector256(s + 2 * ld); var r3 = Avx.LoadVector256(s + 3 * ld);
            // Interleave row pairs, then pick 2-element halves.
            var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
            var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
            return (Avx.Shuffle(t0, t2, 0x44), Avx.Shuffle(t0, t2, 0xEE), Avx.Shuffle(t1, t3, 0x44), Avx.Shuffle(t1, t3, 0xEE));
        }

        /// <summary>dst[p*MR + r] = A(i0+r, pc+p) for r &lt; mri (rows past mri are never read: the kernel clamps them);
        /// may write up to one vector past the panel (the block buffer has room for it).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void PackA(in Problem<T> p, T* dst, int i0, int mri, int pc, int kc)
        {
            int mr = TK.MR;
            if (p.TransA)
            {
                T* src = p.A + (nint)pc * p.Lda + i0;
                int w = Vector256<T>.Count, wv = (mri + w - 1) / w * w, q = 0;
                // Whole vectors per row (a 6-element copy ran element by element: 9% of 300x256x400 A^T): lanes past mri
                // land on the next row's slots, which its own copy then rewrites, or past the last row (room in the
                // buffer). They are read while they stay inside A's storage row: the last row holds only m elements.
                if (Vector256.IsHardwareAccelerated && i0 + wv <= p.Lda)
                {
                    int qEnd = pc + kc < p.K || i0 + wv <= p.M ? kc : kc - 1;
                    for (; q < qEnd; q++, src += p.Lda, dst += mr)
                        for (int v = 0; v < wv; v += w) Vector256.Load(src + v).Store(dst + v);
                }
                for (; q < kc; q++, src += p.Lda, dst += mr)
                    Copy(src, dst, mri);
                return;
            }
            Transpose(p.A + (nint)i0 * p.Lda + pc, p.Lda, mri, kc, dst, mr);
        }

        /// <summary>A thread's pack buffer, grown on demand, pinned and 64-byte aligned: no allocation in steady state.</summary>
        private static T* Buffer(ref T[]? buf, int count)
        {
            int pad = 64 / sizeof(T);
            if (buf == null || buf.Length < count + pad) buf = GC.AllocateUninitializedArray<T>(count + pad, pinned: true);
            nint addr = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buf));
            return (T*)((addr + 63) & ~(nint)63);
        }
    }

    /// <summary>Writes a spilled MR x NR tile (row stride NR) into the mr x nr corner of C through the epilogue: whole
    /// vectors, then a half vector, then single elements (a 12-wide right edge, 300 = 18 x 16 + 12, was 72 scalar
    /// stores per 6-row tile: a sixth of 256x1x300's time); the same add and max per element in every width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void StoreEdge<T>(T* tile, int NR, T* c, nint ldc, int mr, int nr, in Epilogue<T> e)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        T* add = e.Add;
        bool relu = e.Relu;
        int w = Vector256<T>.Count, h = Vector128<T>.Count;
        for (int r = 0; r < mr; r++, c += ldc, tile += NR, add += e.LdAdd)
        {
            int j = 0;
            if (Vector256.IsHardwareAccelerated && Avx.IsSupported)
            {
                for (; j + w <= nr; j += w)
                {
                    var v = Vector256.Load(tile + j);
                    if (add != null) v = Vector256.Load(add + j) + v;
                    (relu ? Relu(v) : v).Store(c + j);
                }
                if (j + h <= nr)
                {
                    var v = Vector128.Load(tile + j);
                    if (add != null) v = Vector128.Load(add + j) + v;
                    (relu ? Relu(v) : v).Store(c + j);
                    j += h;
                }
            }
            for (; j < nr; j++)
            {
                T v = add != null ? add[j] + tile[j] : tile[j];
                c[j] = relu ? Relu(v) : v;
            }
        }
    }

    /// <summary>12 x (2 Vector512) tiles (6 x 2 for ragged or strided A): A broadcast from memory, B rows as two vectors.</summary>
    private readonly unsafe struct Kernel512<T> : IKernel<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        public static int MR => 12;
        public static int NR => 2 * Vector512<T>.Count;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Tile(int kc, T* a, nint rsA, nint csA, int mr, T* b, nint rsB, T* c, nint ldc, int nr, in Epilogue<T> e)
        {
            if (mr == 12 && rsA == 1) { Tile12(kc, a, csA, b, rsB, c, ldc, nr, e); return; }
            Tile6(kc, a, rsA, csA, Math.Min(mr, 6), b, rsB, c, ldc, nr, e);
            if (mr > 6) Tile6(kc, a + 6 * rsA, rsA, csA, mr - 6, b, rsB, c + 6 * ldc, ldc, nr, e.Down(6));
        }

        /// <summary>
        /// 12 x (2 Vector512) tile, 24 accumulators: 14 loads per 24 FMAs. Needs rsA == 1 (packed A, or A^T in
        /// place) so all 12 broadcasts come off one pointer with constant offsets.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Tile12(int kc, T* a, nint csA, T* b, nint rsB, T* c, nint ldc, int nr, in Epilogue<T> e)
        {
            int w = Vector512<T>.Count;
            Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            Vector512<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            Vector512<T> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
            Vector512<T> c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
            for (int q = 0; q < kc; q++, a += csA, b += rsB)
            {
                var b0 = Vector512.Load(b);
                var b1 = Vector512.Load(b + w);
                var x = Vector512.Create(a[0]); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
                x = Vector512.Create(a[1]); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
                x = Vector512.Create(a[2]); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
                x = Vector512.Create(a[3]); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
                x = Vector512.Create(a[4]); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
                x = Vector512.Create(a[5]); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
                x = Vector512.Create(a[6]); c60 = Fma(x, b0, c60); c61 = Fma(x, b1, c61);
                x = Vector512.Create(a[7]); c70 = Fma(x, b0, c70); c71 = Fma(x, b1, c71);
                x = Vector512.Create(a[8]); c80 = Fma(x, b0, c80); c81 = Fma(x, b1, c81);
                x = Vector512.Create(a[9]); c90 = Fma(x, b0, c90); c91 = Fma(x, b1, c91);
                x = Vector512.Create(a[10]); ca0 = Fma(x, b0, ca0); ca1 = Fma(x, b1, ca1);
                x = Vector512.Create(a[11]); cb0 = Fma(x, b0, cb0); cb1 = Fma(x, b1, cb1);
            }
            if (nr < 2 * w)
            {
                T* t = stackalloc T[12 * 2 * 16];
                int s = 2 * w;
                c00.Store(t); c01.Store(t + w); c10.Store(t + s); c11.Store(t + s + w); c20.Store(t + 2 * s); c21.Store(t + 2 * s + w);
                c30.Store(t + 3 * s); c31.Store(t + 3 * s + w); c40.Store(t + 4 * s); c41.Store(t + 4 * s + w);
                c50.Store(t + 5 * s); c51.Store(t + 5 * s + w); c60.Store(t + 6 * s); c61.Store(t + 6 * s + w);
                c70.Store(t + 7 * s); c71.Store(t + 7 * s + w); c80.Store(t + 8 * s); c81.Store(t + 8 * s + w);
                c90.Store(t + 9 * s); c91.Store(t + 9 * s + w); ca0.Store(t + 10 * s); ca1.Store(t + 10 * s + w);
                cb0.Store(t + 11 * s); cb1.Store(t + 11 * s + w);
                StoreEdge(t, s, c, ldc, 12, nr, e);
                return;
            }
            Row(c, w, c00, c01, e.Row(0), e.Relu); Row(c + ldc, w, c10, c11, e.Row(1), e.Relu); Row(c + 2 * ldc, w, c20, c21, e.Row(2), e.Relu);
            Row(c + 3 * ldc, w, c30, c31, e.Row(3), e.Relu); Row(c + 4 * ldc, w, c40, c41, e.Row(4), e.Relu); Row(c + 5 * ldc, w, c50, c51, e.Row(5), e.Relu);
            c += 6 * ldc;
            Row(c, w, c60, c61, e.Row(6), e.Relu); Row(c + ldc, w, c70, c71, e.Row(7), e.Relu); Row(c + 2 * ldc, w, c80, c81, e.Row(8), e.Relu);
            Row(c + 3 * ldc, w, c90, c91, e.Row(9), e.Relu); Row(c + 4 * ldc, w, ca0, ca1, e.Row(10), e.Relu); Row(c + 5 * ldc, w, cb0, cb1, e.Row(11), e.Relu);
        }

        /// <summary>6 x (2 Vector512) tile, 12 accumulators, any A strides (six row pointers).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Tile6(int kc, T* a, nint rsA, nint csA, int mr, T* b, nint rsB, T* c, nint ldc, int nr, in Epilogue<T> e)
        {
            int w = Vector512<T>.Count;
            // Rows past mr alias row 0: they compute a harmless duplicate that is never stored.
            T* a0 = a, a1 = a + (mr > 1 ? rsA : 0), a2 = a + (mr > 2 ? 2 * rsA : 0);
            T* a3 = a + (mr > 3 ? 3 * rsA : 0), a4 = a + (mr > 4 ? 4 * rsA : 0), a5 = a + (mr > 5 ? 5 * rsA : 0);
            Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            Vector512<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            nint off = 0;
            for (int q = 0; q < kc; q++, off += csA, b += rsB)
            {
                var b0 = Vector512.Load(b);
                var b1 = Vector512.Load(b + w);
                var x = Vector512.Create(a0[off]); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
                x = Vector512.Create(a1[off]); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
                x = Vector512.Create(a2[off]); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
                x = Vector512.Create(a3[off]); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
                x = Vector512.Create(a4[off]); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
                x = Vector512.Create(a5[off]); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
            }
            if (nr == 2 * w)
            {
                Row(c, w, c00, c01, e.Row(0), e.Relu);
                if (mr > 1) Row(c + ldc, w, c10, c11, e.Row(1), e.Relu);
                if (mr > 2) Row(c + 2 * ldc, w, c20, c21, e.Row(2), e.Relu);
                if (mr > 3) Row(c + 3 * ldc, w, c30, c31, e.Row(3), e.Relu);
                if (mr > 4) Row(c + 4 * ldc, w, c40, c41, e.Row(4), e.Relu);
                if (mr > 5) Row(c + 5 * ldc, w, c50, c51, e.Row(5), e.Relu);
                return;
            }
            // Ragged right edge: spill to a stack tile and copy the valid corner.
            T* t = stackalloc T[6 * 2 * 16];
            int s = 2 * w;
            c00.Store(t); c01.Store(t + w); c10.Store(t + s); c11.Store(t + s + w); c20.Store(t + 2 * s); c21.Store(t + 2 * s + w);
            c30.Store(t + 3 * s); c31.Store(t + 3 * s + w); c40.Store(t + 4 * s); c41.Store(t + 4 * s + w);
            c50.Store(t + 5 * s); c51.Store(t + 5 * s + w);
            StoreEdge(t, s, c, ldc, mr, nr, e);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Row(T* c, int w, Vector512<T> lo, Vector512<T> hi, T* add, bool relu)
        {
            if (add != null) { lo += Vector512.Load(add); hi += Vector512.Load(add + w); }
            if (relu) { lo = Vector512.Max(lo, Vector512<T>.Zero); hi = Vector512.Max(hi, Vector512<T>.Zero); }
            lo.Store(c); hi.Store(c + w);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<T> Fma(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
        {
            if (typeof(T) == typeof(float))
                return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
            return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        }
    }

    /// <summary>A compile-time flag (a type the JIT specializes on: its branches fold away).</summary>
    private interface IFlag { static abstract bool Value { get; } }
    private readonly struct True : IFlag { public static bool Value => true; }
    private readonly struct False : IFlag { public static bool Value => false; }

    /// <summary>How a tile is stored: Add, an addend is added (the bias, or C itself); Row, the addend has a row per
    /// row of C (Epilogue.LdAdd != 0) rather than one bias row; Relu, max(x, 0) last.</summary>
    private interface IStoreMode
    {
        static abstract bool Add { get; }
        static abstract bool Row { get; }
        static abstract bool Relu { get; }
    }

    private readonly struct StoreMode<TAdd, TRow, TRelu> : IStoreMode where TAdd : IFlag where TRow : IFlag where TRelu : IFlag
    {
        public static bool Add => TAdd.Value;
        public static bool Row => TRow.Value;
        public static bool Relu => TRelu.Value;
    }

    /// <summary>6 x (2 Vector256) tile: 12 accumulators out of 16 ymm registers (the Haswell 6x16 layout).</summary>
    private readonly unsafe struct Kernel256<T> : IKernel<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        public static int MR => 6;
        public static int NR => 2 * Vector256<T>.Count;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Tile(int kc, T* a, nint rsA, nint csA, int mr, T* b, nint rsB, T* c, nint ldc, int nr, in Epilogue<T> e)
        {
            int w = Vector256<T>.Count;
            if (nr <= w) { Tile1(kc, a, rsA, csA, mr, b, rsB, c, ldc, nr, e); return; }
            if (nr == 2 * w) { Tiles(kc, a, rsA, csA, mr, b, rsB, 0, c, ldc, nr, e); return; }
            T* t = stackalloc T[6 * 2 * 8];   // a ragged right edge: the whole tile here, then its valid corner
            Tiles(kc, a, rsA, csA, mr, b, rsB, 0, t, 2 * w, 2 * w, default);
            StoreEdge(t, 2 * w, c, ldc, mr, nr, e);
        }

        /// <summary>
        /// A row of B panels in one call: C[0..mr, 0..n) = e(A's micro-panel x the panels), panel t at b + t*bNext
        /// (row stride rsB), a ragged last panel through <see cref="Tile"/>. The call, prologue, six row pointers and
        /// epilogue set-up are paid once per row of panels instead of once per tile: at depth 1-4 (first layers'
        /// forwards, one-column input grads) that was a fifth to a third of the time.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Tiles(int kc, T* a, nint rsA, nint csA, int mr, T* b, nint rsB, nint bNext, T* c, nint ldc, int n, in Epilogue<T> e)
        {
            if (kc <= ShallowK)
            {   // the store mode as a type: its branches vanish from the shallow kernel (see TilesShallow)
                bool rl = e.Relu, rows = e.LdAdd != 0;
                if (e.Add == null) { if (rl) TilesShallow<StoreMode<False, False, True>>(kc, a, rsA, csA, mr, b, rsB, bNext, c, ldc, n, e); else TilesShallow<StoreMode<False, False, False>>(kc, a, rsA, csA, mr, b, rsB, bNext, c, ldc, n, e); }
                else if (!rows) { if (rl) TilesShallow<StoreMode<True, False, True>>(kc, a, rsA, csA, mr, b, rsB, bNext, c, ldc, n, e); else TilesShallow<StoreMode<True, False, False>>(kc, a, rsA, csA, mr, b, rsB, bNext, c, ldc, n, e); }
                else { if (rl) TilesShallow<StoreMode<True, True, True>>(kc, a, rsA, csA, mr, b, rsB, bNext, c, ldc, n, e); else TilesShallow<StoreMode<True, True, False>>(kc, a, rsA, csA, mr, b, rsB, bNext, c, ldc, n, e); }
                return;
            }
            int w = Vector256<T>.Count, nr = 2 * w, j = 0;
            T* a0 = a, a1 = a + (mr > 1 ? rsA : 0), a2 = a + (mr > 2 ? 2 * rsA : 0);
            T* a3 = a + (mr > 3 ? 3 * rsA : 0), a4 = a + (mr > 4 ? 4 * rsA : 0), a5 = a + (mr > 5 ? 5 * rsA : 0);
            T* add0 = e.Add;
            nint la = e.LdAdd;
            bool relu = e.Relu;
            for (; j + nr <= n; j += nr, b += bNext)
            {
                Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
                Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
                nint off = 0;
                T* bq = b;
                for (int q = 0; q < kc; q++, off += csA, bq += rsB)
                {
                    var b0 = Vector256.Load(bq);
                    var b1 = Vector256.Load(bq + w);
                    var x = Vector256.Create(a0[off]); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
                    x = Vector256.Create(a1[off]); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
                    x = Vector256.Create(a2[off]); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
                    x = Vector256.Create(a3[off]); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
                    x = Vector256.Create(a4[off]); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
                    x = Vector256.Create(a5[off]); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
                }
                T* cj = c + j, add = add0 == null ? null : add0 + j;   // la is 0 when there is no addend
                Row(cj, w, c00, c01, add, relu);
                if (mr > 1) Row(cj + ldc, w, c10, c11, add + la, relu);
                if (mr > 2) Row(cj + 2 * ldc, w, c20, c21, add + 2 * la, relu);
                if (mr > 3) Row(cj + 3 * ldc, w, c30, c31, add + 3 * la, relu);
                if (mr > 4) Row(cj + 4 * ldc, w, c40, c41, add + 4 * la, relu);
                if (mr > 5) Row(cj + 5 * ldc, w, c50, c51, add + 5 * la, relu);
            }
            if (j < n) Tile(kc, a, rsA, csA, mr, b, rsB, c + j, ldc, n - j, e.Right(j));
        }

        /// <summary>At most this deep, <see cref="Tiles"/> runs <see cref="TilesShallow"/>.</summary>
        private const int ShallowK = 4;

        /// <summary>
        /// <see cref="Tiles"/> at depth 1-4, where the time goes to the tile stores: the store mode (TM: an addend or
        /// none, one bias row or a row per row of C, the ReLU) is a type, so a full 6-row tile stores through one
        /// running row pointer with no test left (Tiles' per-row tests and the pointers they keep live took the JIT past
        /// the registers: 55 cycles a tile at depth 1, against 18 for the same FMAs and stores straight; one thread,
        /// one process, us best: 256x1x300 11.8 -> 9.0, 512x2x64 6.4 -> 4.7, 256x4x400 B^T 18.6 -> 15.9, with bias
        /// and ReLU 21.6 -> 18.4). Deeper tiles keep Tiles' loop, whose registers this layout made worse (64x128x64
        /// A^T 13.0 -> 14.1). Same sums and stores as Tiles.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void TilesShallow<TM>(int kc, T* a, nint rsA, nint csA, int mr, T* b, nint rsB, nint bNext, T* c, nint ldc, int n, in Epilogue<T> e)
            where TM : IStoreMode
        {
            int w = Vector256<T>.Count, nr = 2 * w;
            T* a0 = a, a1 = a + (mr > 1 ? rsA : 0), a2 = a + (mr > 2 ? 2 * rsA : 0);
            T* a3 = a + (mr > 3 ? 3 * rsA : 0), a4 = a + (mr > 4 ? 4 * rsA : 0), a5 = a + (mr > 5 ? 5 * rsA : 0);
            int full = n / nr * nr;
            T* cEnd = c + full, add = e.Add;
            nint la = e.LdAdd;
            for (T* cj = c; cj < cEnd; cj += nr, b += bNext, add += TM.Add ? nr : 0)
            {
                Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
                Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
                T* bq = b;
                nint off = 0;
                for (int q = 0; q < kc; q++, off += csA, bq += rsB)
                {
                    var b0 = Vector256.Load(bq);
                    var b1 = Vector256.Load(bq + w);
                    var x = Vector256.Create(a0[off]); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
                    x = Vector256.Create(a1[off]); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
                    x = Vector256.Create(a2[off]); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
                    x = Vector256.Create(a3[off]); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
                    x = Vector256.Create(a4[off]); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
                    x = Vector256.Create(a5[off]); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
                }
                if (mr < 6)
                {   // the last rows of C: Tiles' per-row stores
                    Row(cj, w, c00, c01, add, TM.Relu);
                    if (mr > 1) Row(cj + ldc, w, c10, c11, add + la, TM.Relu);
                    if (mr > 2) Row(cj + 2 * ldc, w, c20, c21, add + 2 * la, TM.Relu);
                    if (mr > 3) Row(cj + 3 * ldc, w, c30, c31, add + 3 * la, TM.Relu);
                    if (mr > 4) Row(cj + 4 * ldc, w, c40, c41, add + 4 * la, TM.Relu);
                    continue;
                }
                T* r = cj, ar = add;
                Put<TM>(r, c00, c01, ar, w); r += ldc; if (TM.Row) ar += la;
                Put<TM>(r, c10, c11, ar, w); r += ldc; if (TM.Row) ar += la;
                Put<TM>(r, c20, c21, ar, w); r += ldc; if (TM.Row) ar += la;
                Put<TM>(r, c30, c31, ar, w); r += ldc; if (TM.Row) ar += la;
                Put<TM>(r, c40, c41, ar, w); r += ldc; if (TM.Row) ar += la;
                Put<TM>(r, c50, c51, ar, w);
            }
            if (full < n) Tile(kc, a, rsA, csA, mr, b, rsB, c + full, ldc, n - full, e.Right(full));
        }

        /// <summary>One row of a tile: c[0..2w) = relu?(add + (lo, hi)) as <see cref="Row"/>, the mode fixed by TM.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put<TM>(T* c, Vector256<T> lo, Vector256<T> hi, T* add, int w) where TM : IStoreMode
        {
            if (TM.Add) { lo = Vector256.Load(add) + lo; hi = Vector256.Load(add + w) + hi; }
            if (TM.Relu) { lo = Relu(lo); hi = Relu(hi); }
            lo.Store(c); hi.Store(c + w);
        }

        /// <summary>
        /// A right edge at most one vector wide (n = 84 = 5 x 16 + 4, 120 = 7 x 16 + 8): 6 x 1 vector, half the
        /// FMAs of the 6 x 2 tile. Same order per element (acc = fma(a, b, acc), q ascending).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Tile1(int kc, T* a, nint rsA, nint csA, int mr, T* b, nint rsB, T* c, nint ldc, int nr, in Epilogue<T> e)
        {
            int w = Vector256<T>.Count;
            T* a0 = a, a1 = a + (mr > 1 ? rsA : 0), a2 = a + (mr > 2 ? 2 * rsA : 0);
            T* a3 = a + (mr > 3 ? 3 * rsA : 0), a4 = a + (mr > 4 ? 4 * rsA : 0), a5 = a + (mr > 5 ? 5 * rsA : 0);
            Vector256<T> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
            nint off = 0;
            for (int q = 0; q < kc; q++, off += csA, b += rsB)
            {
                var b0 = Vector256.Load(b);
                c0 = Fma(Vector256.Create(a0[off]), b0, c0); c1 = Fma(Vector256.Create(a1[off]), b0, c1);
                c2 = Fma(Vector256.Create(a2[off]), b0, c2); c3 = Fma(Vector256.Create(a3[off]), b0, c3);
                c4 = Fma(Vector256.Create(a4[off]), b0, c4); c5 = Fma(Vector256.Create(a5[off]), b0, c5);
            }
            T* t = stackalloc T[6 * 8];
            c0.Store(t); c1.Store(t + w); c2.Store(t + 2 * w); c3.Store(t + 3 * w); c4.Store(t + 4 * w); c5.Store(t + 5 * w);
            StoreEdge(t, w, c, ldc, mr, nr, e);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Row(T* c, int w, Vector256<T> lo, Vector256<T> hi, T* add, bool relu)
        {
            if (add != null) { lo += Vector256.Load(add); hi += Vector256.Load(add + w); }
            if (relu) { lo = Relu(lo); hi = Relu(hi); }
            lo.Store(c); hi.Store(c + w);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<T> Fma(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
        {
            if (typeof(T) == typeof(float))
                return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
            return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        }
    }

    /// <summary>
    /// max(x, 0) in one vmaxps(0, x), where Vector256.Max takes five instructions for IEEE's rules: x when x is NaN
    /// (as Vector256.Max), 0 when x &lt; 0. Only -0 would differ (it stays -0; Vector256.Max gives +0), and a tile's
    /// sums never are -0: an fma chain from +0 gives -0 only from -0 (an exact zero of opposite terms rounds to +0),
    /// nor is a nonzero-or-+0 sum plus C or a bias -0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Relu<T>(Vector256<T> x) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Avx.Max(Vector256<float>.Zero, x.AsSingle()).As<float, T>();
        return Avx.Max(Vector256<double>.Zero, x.AsDouble()).As<double, T>();
    }

    /// <summary>The half-vector <see cref="Relu{T}(Vector256{T})"/> (one vmaxps(0, x), xmm).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> Relu<T>(Vector128<T> x) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Sse.Max(Vector128<float>.Zero, x.AsSingle()).As<float, T>();
        return Sse2.Max(Vector128<double>.Zero, x.AsDouble()).As<double, T>();
    }

    /// <summary>Linear's ReLU on one stored value: max(x, 0), NaN stays NaN (<see cref="Relu{T}(Vector256{T})"/>'s rule).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Relu<T>(T x) where T : System.Numerics.IFloatingPointIeee754<T> => T.Max(x, T.Zero);

    /// <summary>Portable 4 x 4 scalar tile for hardware without SIMD FMA.</summary>
    private readonly unsafe struct KernelScalar<T> : IKernel<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        public static int MR => 4;
        public static int NR => 4;

        public static void Tile(int kc, T* a, nint rsA, nint csA, int mr, T* b, nint rsB, T* c, nint ldc, int nr, in Epilogue<T> e)
        {
            T* acc = stackalloc T[16];
            for (int i = 0; i < 16; i++) acc[i] = T.Zero;
            for (int q = 0; q < kc; q++, b += rsB)
                for (int r = 0; r < mr; r++)
                {
                    T x = a[r * rsA + q * csA];
                    for (int j = 0; j < 4; j++) acc[r * 4 + j] = T.FusedMultiplyAdd(x, b[j], acc[r * 4 + j]);
                }
            StoreEdge(acc, 4, c, ldc, mr, nr, e);
        }
    }
}
