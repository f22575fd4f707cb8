// CpuParallel: the fork-join that spreads one large elementwise pass of the CPU backend over Gemm.MaxThreads threads.
namespace Tiny.Cpu;

/// <summary>The work of one chunk [lo, hi) of an elementwise pass (a struct, so a pass allocates nothing).</summary>
internal interface IRangeBody
{
    /// <summary>Runs elements lo .. hi-1.</summary>
    void Run(int lo, int hi);
}

/// <summary>
/// Splits [0, n) into equal chunks, each a multiple of 64 elements (the last takes the rest), one per thread, up to
/// <see cref="Gemm.MaxThreads"/>. Elementwise passes give the same bits however they are split: every element is
/// computed alone, and with chunk starts on a multiple of every vector width the elements that fall in a vector
/// lane or in the scalar tail are the same as in one pass over [0, n).
/// </summary>
internal static class CpuParallel
{
    /// <summary>
    /// Below this many elements per thread a pass stays on the calling thread. A fork costs about a microsecond when
    /// Gemm's helper threads are polling (<see cref="SpinPool"/>, right after a product) and 5-50 us when one has to
    /// be woken; the elementwise maps that run here cost 0.2 ns (Polyak) to 1.6 ns (Adam: a square root and two
    /// divisions) per element on one core, so 16K elements per thread is 3-26 us of work: Adam and Polyak over a
    /// 400x300 weight (120K elements) split, bias vectors and the first layers of small nets do not.
    /// </summary>
    internal const int MinPerThread = 1 << 14;

    private const int Align = 64;

    /// <summary>Threads a pass over n elements would use: 1 when it is too small to split.</summary>
    public static int Threads(int n) => Math.Max(1, Math.Min(Gemm.MaxThreads, n / MinPerThread));

    /// <summary>Runs body over [0, n) on <see cref="Threads"/>(n) threads; the caller runs chunks too and returns when all are done.</summary>
    public static void For<TBody>(int n, in TBody body) where TBody : struct, IRangeBody
    {
        int threads = Threads(n);
        if (threads == 1) { body.Run(0, n); return; }
        int chunk = (n / threads + Align - 1) / Align * Align;
        int parts = (n + chunk - 1) / chunk;
        var job = Job<TBody>.Current ??= new Job<TBody>();
        job.Start(body, n, chunk, parts);
        bool pooled = SpinPool.TryPost(job, parts - 1);   // Gemm's helper threads, or the .NET pool while another caller holds them
        if (!pooled) for (int t = 1; t < parts; t++) ThreadPool.UnsafeQueueUserWorkItem(job, preferLocal: false);
        try
        {
            job.Drain();
            job.Join();
        }
        finally { if (pooled) SpinPool.Release(); }
    }

    // The calling thread and pool threads claim chunks from a counter until none is left (as Gemm's fork-join does),
    // so the caller alone finishes when no pool thread comes; it then waits for the chunks others claimed. A pool
    // thread that arrives after the pass finds the counter idle and claims nothing.
    private sealed class Job<TBody> : IThreadPoolWorkItem where TBody : struct, IRangeBody
    {
        [ThreadStatic] internal static Job<TBody>? Current;

        private const int Idle = int.MaxValue / 2;   // a claim counter no late worker can bring below the chunk count
        private TBody _body;
        private int _n, _chunk, _parts, _remaining, _next = Idle;
        private Exception? _error;
        private readonly ManualResetEventSlim _done = new(false);

        public void Start(in TBody body, int n, int chunk, int parts)
        {
            _body = body; _n = n; _chunk = chunk; _parts = parts; _error = null;
            _remaining = parts;
            _done.Reset();
            Volatile.Write(ref _next, 0);   // publish last: a claim sees the fields above
        }

        public void Execute() => Drain();

        public void Drain()
        {
            int t;
            while ((t = Interlocked.Increment(ref _next) - 1) < _parts)
            {
                try
                {
                    int lo = t * _chunk;
                    _body.Run(lo, Math.Min(_n, lo + _chunk));
                }
                catch (Exception e) { _error = e; }
                finally { if (Interlocked.Decrement(ref _remaining) == 0) _done.Set(); }
            }
        }

        public void Join()
        {
            _done.Wait();
            Volatile.Write(ref _next, Idle);
            _body = default;   // drop the arrays the body holds
            if (_error is not null) throw new AggregateException(_error);
        }
    }
}
