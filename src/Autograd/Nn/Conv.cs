// Conv: Conv2d as im2col + GEMM, and max/avg pooling. On the CPU, Conv2d is one op (transposed im2col, three GEMMs,
// col2im as the input gradient); elsewhere it is composed from differentiable ops (a cached gather + Linear).
using System.Numerics;
using Tiny.Cpu;

namespace Tiny.Nn;

/// <summary>Index tables for unfolding NCHW images into patches (im2col), cached per input geometry (the generic path, any device).</summary>
internal static class Unfold
{
    /// <summary>
    /// For an image [C, H, W] and a k x k window with stride s: the flat input index of every (output position,
    /// channel, ky, kx), laid out [Ho*Wo, C*k*k] (the im2col matrix, row per output pixel).
    /// </summary>
    public static int[] Indices(int c, int h, int w, int kh, int kw, int stride, out int ho, out int wo)
    {
        ho = (h - kh) / stride + 1;
        wo = (w - kw) / stride + 1;
        var idx = new int[ho * wo * c * kh * kw];
        int p = 0;
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < wo; ox++)
                for (int ch = 0; ch < c; ch++)
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++)
                            idx[p++] = (ch * h + oy * stride + ky) * w + ox * stride + kx;
        return idx;
    }

    /// <summary>Gathers patches of x [N, C, H, W] into [N, Ho*Wo, C*kh*kw] (gradient: scatter-add = col2im).</summary>
    public static Tensor Patches(Tensor x, int kh, int kw, int stride, ref (int[] Key, int[] Index, int Ho, int Wo)? cache, out int ho, out int wo)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        int[] key = [n, c, h, w];
        if (cache is not { } cc || !cc.Key.AsSpan().SequenceEqual(key))
        {
            var one = Indices(c, h, w, kh, kw, stride, out int h1, out int w1);
            var all = new int[n * one.Length];
            for (int i = 0; i < n; i++) one.CopyTo(all, i * one.Length);
            cache = (key, all, h1, w1);
        }
        (_, var index, ho, wo) = cache.Value;
        return x.Reshape(n, c * h * w).Gather(1, index, n, index.Length / n).Reshape(n, ho * wo, c * kh * kw);
    }
}

/// <summary>
/// Conv2d as one op on CPU tensors (float32 and float64). The patches are unfolded transposed, colT [C*k*k, N*Ho*Wo],
/// so every GEMM has the long N*Ho*Wo side as its N dimension (B packed by plain copies) and the small weight as A:
/// forward outT = W @ colT (written to NCHW with the bias in one pass), dW = gT @ colT^T, dcolT = W^T @ gT (then col2im).
/// </summary>
internal static unsafe class ConvCpu
{
    /// <summary>Forces the generic gather path (tests and benchmarks compare the two).</summary>
    [ThreadStatic] internal static bool ForceGeneric;

    /// <summary>The convolution of x, or null when the tensors are not CPU tensors of one dtype (the caller falls back).</summary>
    public static Tensor? TryApply(Tensor x, Tensor weight, Tensor? bias, int k, int s, int pad)
    {
        if (ForceGeneric || x.Storage is not CpuStorage xs || weight.Storage is not CpuStorage ws) return null;
        if (ws.DType != xs.DType || (bias is not null && (bias.Storage is not CpuStorage bs || bs.DType != xs.DType))) return null;
        if (x.Numel != xs.Length || weight.Numel != ws.Length) return null;
        return xs.DType switch
        {
            DType.Float32 => Apply<float>(x, weight, bias, k, s, pad),
            DType.Float64 => Apply<double>(x, weight, bias, k, s, pad),
            _ => null,
        };
    }

    private static Tensor Apply<T>(Tensor x, Tensor weight, Tensor? bias, int k, int s, int pad) where T : unmanaged, INumber<T>
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], co = weight.Shape[0];
        int ho = (h + 2 * pad - k) / s + 1, wo = (w + 2 * pad - k) / s + 1;
        int p = ho * wo, np = n * p, ckk = c * k * k;
        var xa = ((CpuStorage)x.Storage).Get<T>();
        var wa = ((CpuStorage)weight.Storage).Get<T>();
        var ba = bias is null ? null : ((CpuStorage)bias.Storage).Get<T>();
        T[]? col = Scratch<T>.Rent(ckk * np);   // UnfoldT writes every element
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
        var r = new Tensor(CpuArrays.Wrap(y), new Shape(n, co, ho, wo));
        Tensor[] parents = bias is null ? [x, weight] : [x, weight, bias];
        r = Tensor.Record(r, "Conv2d", g =>
        {
            var ga = ((CpuStorage)g.Storage).Get<T>();
            if (col is null)   // a second backward through a retained graph: unfold again (x is unchanged: versions are checked)
            {
                col = Scratch<T>.Rent(ckk * np);
                UnfoldT(xa, col, n, c, h, w, k, s, pad, ho, wo);
            }
            var gT = Scratch<T>.Rent(co * np);
            for (int b = 0; b < n; b++)
                for (int o = 0; o < co; o++)
                    ga.AsSpan((b * co + o) * p, p).CopyTo(gT.AsSpan(o * np + b * p, p));
            if (weight.RequiresGrad)
            {
                var dw = CpuArrays.Rent<T>(co * ckk, zero: false);
                Mm(false, true, co, ckk, np, gT, np, col, np, dw, ckk, false);
                weight.AccumulateGrad(new Tensor(CpuArrays.Wrap(dw), weight.Shape));
            }
            if (bias is not null && bias.RequiresGrad)
            {
                var db = CpuArrays.Rent<T>(co, zero: false);
                for (int o = 0; o < co; o++)
                {
                    T acc = T.Zero;
                    foreach (var v in gT.AsSpan(o * np, np)) acc += v;
                    db[o] = acc;
                }
                bias.AccumulateGrad(new Tensor(CpuArrays.Wrap(db), bias.Shape));
            }
            if (x.RequiresGrad)
            {
                var dcol = Scratch<T>.Rent(ckk * np);
                Mm(true, false, ckk, np, co, wa, ckk, gT, np, dcol, np, false);
                x.AccumulateGrad(new Tensor(CpuArrays.Wrap(FoldT(dcol, n, c, h, w, k, s, pad, ho, wo)), x.Shape));
                Scratch<T>.Return(dcol);
            }
            Scratch<T>.Return(gT);
            Scratch<T>.Return(col);   // back to the pool once used; a retained graph's next backward unfolds anew
            col = null;
        }, parents);
        if (!r.RequiresGrad) { Scratch<T>.Return(col); col = null; }   // no graph recorded: the patches are not needed
        return r;
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

/// <summary>2-D convolution on NCHW tensors: y = W * x + b via im2col + GEMM, PyTorch's default init.</summary>
public sealed class Conv2d : Module
{
    private (int[] Key, int[] Index, int Ho, int Wo)? _cache;

    /// <summary>A kernelSize x kernelSize convolution from inChannels to outChannels with the given stride and zero padding; weight
    /// and bias drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = inChannels * kernelSize^2, as PyTorch.</summary>
    public Conv2d(int inChannels, int outChannels, int kernelSize, Rng rng, int stride = 1, int padding = 0, bool bias = true, DType dtype = DType.Float32)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0 || stride <= 0 || padding < 0)
            throw new ArgumentException($"Conv2d: invalid geometry in={inChannels} out={outChannels} kernel={kernelSize} stride={stride} padding={padding}");
        InChannels = inChannels; OutChannels = outChannels; KernelSize = kernelSize; Stride = stride; Padding = padding;
        // torch: kaiming_uniform(a=sqrt(5)) gives U(+-1/sqrt(fan_in)); bias U(+-1/sqrt(fan_in)).
        double bound = 1.0 / Math.Sqrt(inChannels * kernelSize * kernelSize);
        Weight = RegisterParameter("weight", Tensor.Uniform([outChannels, inChannels, kernelSize, kernelSize], -bound, bound, rng, dtype));
        Bias = bias ? RegisterParameter("bias", Tensor.Uniform([outChannels], -bound, bound, rng, dtype)) : null;
    }

    /// <summary>Channels of the input (dimension 1 of [N, C, H, W]).</summary>
    public int InChannels { get; }
    /// <summary>Channels of the output.</summary>
    public int OutChannels { get; }
    /// <summary>Side of the square kernel, in pixels.</summary>
    public int KernelSize { get; }
    /// <summary>Step between kernel positions, in pixels (both directions).</summary>
    public int Stride { get; }
    /// <summary>Zeros added on each side of H and W before the convolution, in pixels.</summary>
    public int Padding { get; }
    /// <summary>The kernels, [OutChannels, InChannels, KernelSize, KernelSize] (parameter "weight").</summary>
    public Tensor Weight { get; }
    /// <summary>The bias, [OutChannels] (parameter "bias"), or null when built without one.</summary>
    public Tensor? Bias { get; }

    /// <summary>The convolution of x [N, InChannels, H, W]: [N, OutChannels, Ho, Wo] with
    /// Ho = (H + 2 Padding - KernelSize) / Stride + 1 (floor), Wo likewise.</summary>
    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4) throw new ArgumentException($"Conv2d: input must be [N, C, H, W], got {x.Shape}");
        if (x.Shape[1] != InChannels) throw new ArgumentException($"Conv2d: input {x.Shape} has {x.Shape[1]} channels, the layer expects {InChannels}");
        int hp = x.Shape[2] + 2 * Padding, wp = x.Shape[3] + 2 * Padding;
        if (hp < KernelSize || wp < KernelSize)
            throw new ArgumentException($"Conv2d: kernel {KernelSize}x{KernelSize} is larger than the padded input {hp}x{wp} (input {x.Shape}, padding {Padding})");
        if (ConvCpu.TryApply(x, Weight, Bias, KernelSize, Stride, Padding) is { } fast) return fast;
        int n = x.Shape[0];
        if (Padding > 0) x = x.Pad(2, Padding, Padding).Pad(3, Padding, Padding);
        var cols = Unfold.Patches(x, KernelSize, KernelSize, Stride, ref _cache, out int ho, out int wo);  // [N, Ho*Wo, C*k*k]
        var y = Tensor.Linear(cols, Weight.Reshape(OutChannels, -1), Bias);                               // [N, Ho*Wo, out]
        return y.Permute(0, 2, 1).Reshape(n, OutChannels, ho, wo);                                        // [N, out, Ho, Wo]
    }
}

/// <summary>Max pooling over k x k windows with a stride (default k), NCHW.</summary>
public sealed class MaxPool2d(int kernelSize, int? stride = null) : Module
{
    private (int[] Key, int[] Index, int Ho, int Wo)? _cache;

    /// <summary>The maximum of each window of x [N, C, H, W]: [N, C, Ho, Wo], Ho = (H - k) / stride + 1 (floor), Wo likewise.</summary>
    public override Tensor Forward(Tensor x) => Pool.Apply(x, kernelSize, stride ?? kernelSize, ref _cache, "MaxPool2d").Max(-1);
}

/// <summary>Average pooling over k x k windows with a stride (default k), NCHW.</summary>
public sealed class AvgPool2d(int kernelSize, int? stride = null) : Module
{
    private (int[] Key, int[] Index, int Ho, int Wo)? _cache;

    /// <summary>The mean of each window of x [N, C, H, W]: [N, C, Ho, Wo], Ho = (H - k) / stride + 1 (floor), Wo likewise.</summary>
    public override Tensor Forward(Tensor x) => Pool.Apply(x, kernelSize, stride ?? kernelSize, ref _cache, "AvgPool2d").Mean(-1);
}

internal static class Pool
{
    /// <summary>Windows of x [N, C, H, W] as [N, C, Ho, Wo, k*k] (each channel unfolded on its own).</summary>
    public static Tensor Apply(Tensor x, int k, int stride, ref (int[] Key, int[] Index, int Ho, int Wo)? cache, string op)
    {
        if (x.Rank != 4) throw new ArgumentException($"{op}: input must be [N, C, H, W], got {x.Shape}");
        if (k <= 0 || stride <= 0) throw new ArgumentException($"{op}: kernel {k} and stride {stride} must be positive");
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        if (h < k || w < k) throw new ArgumentException($"{op}: kernel {k}x{k} is larger than the input {h}x{w}");
        var p = Unfold.Patches(x.Reshape(n * c, 1, h, w), k, k, stride, ref cache, out int ho, out int wo);   // [N*C, Ho*Wo, k*k]
        return p.Reshape(n, c, ho, wo, k * k);
    }
}
