// Gemm's helper threads: they spin a short while after each product before they block, so the back-to-back GEMMs of
// a training step each start on every core in about a microsecond instead of waking a sleeping pool thread.
using System.Diagnostics;

namespace Tiny.Cpu;

/// <summary>
/// Processor count - 1 background threads that run posted work items (a fork-join's claim loop). Each spins for
/// <see cref="SpinMicroseconds"/> after its last item, then blocks until the next post. One caller holds the pool
/// at a time; another caller in the meantime gets false from <see cref="TryPost"/> and uses the .NET thread pool.
/// </summary>
internal static class SpinPool
{
    /// <summary>How long an idle helper keeps polling for work before it blocks (a wake from the block costs
    /// 5-50 us; polling costs the core it runs on, only after a parallel product).</summary>
    internal const int SpinMicroseconds = 200;

    private static readonly long SpinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
    private static Helper[]? _helpers;
    private static int _busy;

    /// <summary>Posts work to up to count helpers and holds the pool until <see cref="Release"/>; false (nothing
    /// posted) when another caller holds it.</summary>
    public static bool TryPost(IThreadPoolWorkItem work, int count)
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        var helpers = _helpers ?? Create();
        for (int i = 0; i < count && i < helpers.Length; i++) helpers[i].Post(work);
        return true;
    }

    /// <summary>Lets the next caller post (call once the posted work is finished).</summary>
    public static void Release() => Volatile.Write(ref _busy, 0);

    private static Helper[] Create()
    {
        var h = new Helper[Math.Max(0, Environment.ProcessorCount - 1)];
        for (int i = 0; i < h.Length; i++) h[i] = new Helper(i);
        return _helpers = h;   // only the pool holder gets here, so this runs once
    }

    private sealed class Helper
    {
        private IThreadPoolWorkItem? _work;
        private int _sleeping;
        private readonly SemaphoreSlim _wake = new(0);

        public Helper(int index)
        {
            var t = new Thread(Loop) { IsBackground = true, Name = $"Tiny.Gemm helper {index}" };
            t.Start();
        }

        public void Post(IThreadPoolWorkItem work)
        {
            Volatile.Write(ref _work, work);
            if (Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Release();
        }

        private void Loop()
        {
            while (true)
            {
                IThreadPoolWorkItem? work;
                long t0 = Stopwatch.GetTimestamp();
                while ((work = Interlocked.Exchange(ref _work, null)) is null)
                {
                    if (Stopwatch.GetTimestamp() - t0 < SpinTicks) { Thread.SpinWait(8); continue; }
                    // Announce the block, then look once more: a post either lands before this look (taken here) or
                    // sees _sleeping = 1 and releases the semaphore (consumed here or by the wait below).
                    Interlocked.Exchange(ref _sleeping, 1);
                    if ((work = Interlocked.Exchange(ref _work, null)) is not null)
                    {
                        if (Interlocked.Exchange(ref _sleeping, 0) == 0) _wake.Wait();   // the poster released: consume it
                        break;
                    }
                    _wake.Wait();
                    t0 = Stopwatch.GetTimestamp();
                }
                work.Execute();
            }
        }
    }
}
