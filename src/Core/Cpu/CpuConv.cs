// CpuConv: Conv2d on the CPU as one op: the patches unfolded transposed (im2col), three GEMMs, and col2im for the
// input gradient, with the big temporaries reused per thread.
using System.Numerics;

namespace Tiny.Cpu;

/// <summary>
/// Conv2d on CPU storages (float32 and float64). The patches are unfolded transposed, colT [C*k*k, N*Ho*Wo], so every
/// GEMM has the long N*Ho*Wo side as its N dimension (B packed by plain copies) and the small weight as A: forward
/// outT = W @ colT (written to NCHW with the bias in one pass), dW = gT @ colT^T, dcolT = W^T @ gT (then col2im).
/// </summary>
internal static unsafe class CpuConv
{
    /// <summary>y = conv(x, w) + bias; patches: colT (a per-thread scratch array) when kept for the backward.</summary>
    public static Storage Forward<T>(T[] xa, T[] wa, T[]? ba, Conv2dShape g, bool keep, out Storage? patches) where T : unmanaged, INumber<T>
    {
        int n = g.N, c = g.C, h = g.H, w = g.W, co = g.Co, k = g.K, s = g.Stride, pad = g.Pad, ho = g.Ho, wo = g.Wo;
        int p = ho * wo, np = n * p, ckk = c * k * k;
        var col = Scratch<T>.Rent(ckk * np);   // UnfoldT writes every element
        UnfoldT(xa, col, n, c, h, w, k, s, pad, ho, wo);
        var outT = Scratch<T>.Rent(co * np);
        Mm(false, false, co, np, ckk, wa, ckk, col, np, outT, np, false);
        var y = CpuArrays.Rent<T>(n * co * p, zero: false);
        for (int b = 0; b < n; b++)
            for (int o = 0; o < co; o++)
            {
                var src = outT.AsSpan(o * np + b * p, p);
                var dst = y.AsSpan((b * co + o) * p, p);
                if (ba is null) src.CopyTo(dst);
                else
                {
                    T bo = ba[o];
                    for (int i = 0; i < p; i++) dst[i] = src[i] + bo;
                }
            }
        Scratch<T>.Return(outT);
        if (keep) patches = CpuStorage.Of(col);   // not in any scope: the backward hands the array back
        else { Scratch<T>.Return(col); patches = null; }
        return CpuArrays.Wrap(y);
    }

    /// <summary>The gradients asked for from gy [N, Co, Ho, Wo]; colT from the forward (returned to the scratch pool
    /// here), or null to unfold x again (a second backward through a retained graph).</summary>
    public static (Storage? Dx, Storage? Dw, Storage? Db) Backward<T>(T[] ga, T[] xa, T[] wa, T[]? col, Conv2dShape g, bool needDx, bool needDw, bool needDb)
        where T : unmanaged, INumber<T>
    {
        int n = g.N, c = g.C, h = g.H, w = g.W, co = g.Co, k = g.K, s = g.Stride, pad = g.Pad, ho = g.Ho, wo = g.Wo;
        int p = ho * wo, np = n * p, ckk = c * k * k;
        if (col is null)
        {
            col = Scratch<T>.Rent(ckk * np);
            UnfoldT(xa, col, n, c, h, w, k, s, pad, ho, wo);
        }
        var gT = Scratch<T>.Rent(co * np);
        for (int b = 0; b < n; b++)
            for (int o = 0; o < co; o++)
                ga.AsSpan((b * co + o) * p, p).CopyTo(gT.AsSpan(o * np + b * p, p));
        Storage? dw = null, db = null, dx = null;
        if (needDw)
        {
            var a = CpuArrays.Rent<T>(co * ckk, zero: false);
            Mm(false, true, co, ckk, np, gT, np, col, np, a, ckk, false);
            dw = CpuArrays.Wrap(a);
        }
        if (needDb)
        {
            var a = CpuArrays.Rent<T>(co, zero: false);
            for (int o = 0; o < co; o++)
            {
                T acc = T.Zero;
                foreach (var v in gT.AsSpan(o * np, np)) acc += v;
                a[o] = acc;
            }
            db = CpuArrays.Wrap(a);
        }
        if (needDx)
        {
            var dcol = Scratch<T>.Rent(ckk * np);
            Mm(true, false, ckk, np, co, wa, ckk, gT, np, dcol, np, false);
            dx = CpuArrays.Wrap(FoldT(dcol, n, c, h, w, k, s, pad, ho, wo));
            Scratch<T>.Return(dcol);
        }
        Scratch<T>.Return(gT);
        Scratch<T>.Return(col);   // back to the pool once used; a retained graph's next backward unfolds anew
        return (dx, dw, db);
    }

    /// <summary>
    /// Per-thread reuse of the big temporaries (patches, transposed output and gradients): fresh multi-MB arrays each
    /// step land on the large-object heap, and the page faults of touching them after each gen-2 GC cost more than
    /// the unfold itself. An array is returned only when nothing can read it any more.
    /// </summary>
    private static class Scratch<T>
    {
        [ThreadStatic] private static Dictionary<int, Stack<T[]>>? _free;

        public static T[] Rent(int n)
        {
            if (_free is not null && _free.TryGetValue(n, out var st) && st.TryPop(out var a)) return a;
            return GC.AllocateUninitializedArray<T>(n);
        }

        public static void Return(T[]? a)
        {
            if (a is null) return;
            var free = _free ??= [];
            if (!free.TryGetValue(a.Length, out var st)) free[a.Length] = st = new Stack<T[]>();
            if (st.Count < 4) st.Push(a);
        }
    }

    private static void Mm<T>(bool ta, bool tb, int m, int n, int k, T[] a, int lda, T[] b, int ldb, T[] c, int ldc, bool acc)
    {
        if (typeof(T) == typeof(float)) Gemm.Sgemm(ta, tb, m, n, k, (float[])(object)a, lda, (float[])(object)b, ldb, (float[])(object)c, ldc, acc);
        else Gemm.Dgemm(ta, tb, m, n, k, (double[])(object)a, lda, (double[])(object)b, ldb, (double[])(object)c, ldc, acc);
    }

    // The output columns ox whose input column ox*s + kx - pad lies inside [0, w): [lo, hi).
    private static (int Lo, int Hi) Inside(int kx, int s, int pad, int w, int wo)
    {
        int lo = pad > kx ? (pad - kx + s - 1) / s : 0;
        int num = w - 1 + pad - kx;
        int hi = num < 0 ? 0 : Math.Min(wo, num / s + 1);
        return (Math.Min(lo, wo), Math.Max(Math.Min(lo, wo), hi));
    }

    // colT[(ch*k + ky)*k + kx, (b*ho + oy)*wo + ox] = x[b, ch, oy*s + ky - pad, ox*s + kx - pad] (0 outside).
    private static void UnfoldT<T>(T[] src, T[] dst, int n, int c, int h, int w, int k, int s, int pad, int ho, int wo) where T : unmanaged, INumber<T>
    {
        int p = ho * wo, np = n * p;
        fixed (T* ps = src) fixed (T* pd = dst)
            for (int ch = 0; ch < c; ch++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                    {
                        var (lo, hi) = Inside(kx, s, pad, w, wo);
                        T* row = pd + (nint)((ch * k + ky) * k + kx) * np;
                        for (int b = 0; b < n; b++)
                        {
                            T* plane = ps + (nint)(b * c + ch) * h * w;
                            for (int oy = 0; oy < ho; oy++)
                            {
                                T* d = row + (nint)b * p + oy * wo;
                                int iy = oy * s + ky - pad;
                                if ((uint)iy >= (uint)h) { new Span<T>(d, wo).Clear(); continue; }
                                T* sr = plane + (nint)iy * w + kx - pad;
                                for (int ox = 0; ox < lo; ox++) d[ox] = T.Zero;
                                if (s == 1) new ReadOnlySpan<T>(sr + lo, hi - lo).CopyTo(new Span<T>(d + lo, hi - lo));
                                else
                                {
                                    int ox = lo;
                                    for (; ox + 4 <= hi; ox += 4)
                                    {
                                        T* q = sr + (nint)ox * s;
                                        d[ox] = q[0]; d[ox + 1] = q[s]; d[ox + 2] = q[2 * s]; d[ox + 3] = q[3 * s];
                                    }
                                    for (; ox < hi; ox++) d[ox] = sr[(nint)ox * s];
                                }
                                for (int ox = hi; ox < wo; ox++) d[ox] = T.Zero;
                            }
                        }
                    }
    }

    // The adjoint of UnfoldT (col2im): every patch entry adds its gradient back to the input pixel it came from.
    private static T[] FoldT<T>(T[] g, int n, int c, int h, int w, int k, int s, int pad, int ho, int wo) where T : unmanaged, INumber<T>
    {
        var dx = CpuArrays.Rent<T>(n * c * h * w, zero: true);   // accumulated into
        int p = ho * wo, np = n * p;
        fixed (T* pg = g) fixed (T* px = dx)
            for (int ch = 0; ch < c; ch++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                    {
                        var (lo, hi) = Inside(kx, s, pad, w, wo);
                        T* row = pg + (nint)((ch * k + ky) * k + kx) * np;
                        for (int b = 0; b < n; b++)
                        {
                            T* plane = px + (nint)(b * c + ch) * h * w;
                            for (int oy = 0; oy < ho; oy++)
                            {
                                int iy = oy * s + ky - pad;
                                if ((uint)iy >= (uint)h) continue;
                                T* d = row + (nint)b * p + oy * wo;
                                T* xr = plane + (nint)iy * w + kx - pad;
                                for (int ox = lo; ox < hi; ox++) xr[(nint)ox * s] += d[ox];
                            }
                        }
                    }
        return dx;
    }
}
