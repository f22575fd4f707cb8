// Conv: Conv2d as im2col + one GEMM, and max/avg pooling, all composed from differentiable ops. On the CPU, im2col is
// a dedicated op (direct loops, padding inline, col2im as its backward); elsewhere it is a cached gather.
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

/// <summary>im2col as one op on CPU tensors: [N, C, H, W] -> [N, Ho*Wo, C*k*k] with zero padding; backward = col2im.</summary>
internal static class Im2Col
{
    /// <summary>Forces the generic gather path (tests and benchmarks compare the two).</summary>
    [ThreadStatic] internal static bool ForceGeneric;

    /// <summary>The patches of x, or null when x is not a CPU tensor (the caller then pads and gathers).</summary>
    public static Tensor? TryApply(Tensor x, int k, int stride, int pad, out int ho, out int wo)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        ho = (h + 2 * pad - k) / stride + 1;
        wo = (w + 2 * pad - k) / stride + 1;
        if (ForceGeneric || x.Storage is not CpuStorage cs) return null;
        var shape = new Shape(n, ho * wo, c * k * k);
        Tensor r;
        Action<Tensor> backward;
        int h1 = ho, w1 = wo;
        if (cs.DType == DType.Float32)
        {
            var dst = CpuPool.Rent<float>(shape.Numel, zero: false);   // Unfold writes every element
            Unfold(cs.F, dst, n, c, h, w, k, stride, pad, ho, wo);
            r = new Tensor(CpuPool.Wrap(dst), shape);
            backward = g => x.AccumulateGrad(new Tensor(CpuPool.Wrap(Fold(((CpuStorage)g.Storage).F, n, c, h, w, k, stride, pad, h1, w1)), x.Shape));
        }
        else
        {
            var dst = CpuPool.Rent<double>(shape.Numel, zero: false);
            Unfold((double[])cs.Data, dst, n, c, h, w, k, stride, pad, ho, wo);
            r = new Tensor(CpuPool.Wrap(dst), shape);
            backward = g => x.AccumulateGrad(new Tensor(CpuPool.Wrap(Fold((double[])((CpuStorage)g.Storage).Data, n, c, h, w, k, stride, pad, h1, w1)), x.Shape));
        }
        return Tensor.Record(r, "Im2Col", backward, x);
    }

    // dst[n, oy*wo + ox, (ch*k + ky)*k + kx] = src[n, ch, oy*s + ky - pad, ox*s + kx - pad] (0 outside).
    private static void Unfold<T>(T[] src, T[] dst, int n, int c, int h, int w, int k, int s, int pad, int ho, int wo) where T : struct, INumber<T>
    {
        int p = 0;
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                    for (int ch = 0; ch < c; ch++)
                    {
                        int plane = (b * c + ch) * h;
                        for (int ky = 0; ky < k; ky++)
                        {
                            int iy = oy * s + ky - pad, ix0 = ox * s - pad;
                            if ((uint)iy >= (uint)h) { dst.AsSpan(p, k).Clear(); p += k; continue; }
                            int row = (plane + iy) * w;
                            if (ix0 >= 0 && ix0 + k <= w) { src.AsSpan(row + ix0, k).CopyTo(dst.AsSpan(p, k)); p += k; continue; }
                            for (int kx = 0; kx < k; kx++, p++)
                            {
                                int ix = ix0 + kx;
                                dst[p] = (uint)ix < (uint)w ? src[row + ix] : T.Zero;
                            }
                        }
                    }
    }

    // The adjoint of Unfold: every patch entry adds its gradient back to the input pixel it came from.
    private static T[] Fold<T>(T[] g, int n, int c, int h, int w, int k, int s, int pad, int ho, int wo) where T : struct, INumber<T>
    {
        var dx = CpuPool.Rent<T>(n * c * h * w, zero: true);   // accumulated into
        int p = 0;
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                    for (int ch = 0; ch < c; ch++)
                    {
                        int plane = (b * c + ch) * h;
                        for (int ky = 0; ky < k; ky++)
                        {
                            int iy = oy * s + ky - pad, ix0 = ox * s - pad;
                            if ((uint)iy >= (uint)h) { p += k; continue; }
                            int row = (plane + iy) * w;
                            for (int kx = 0; kx < k; kx++, p++)
                            {
                                int ix = ix0 + kx;
                                if ((uint)ix < (uint)w) dx[row + ix] += g[p];
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

    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4) throw new ArgumentException($"Conv2d: input must be [N, C, H, W], got {x.Shape}");
        if (x.Shape[1] != InChannels) throw new ArgumentException($"Conv2d: input {x.Shape} has {x.Shape[1]} channels, the layer expects {InChannels}");
        int hp = x.Shape[2] + 2 * Padding, wp = x.Shape[3] + 2 * Padding;
        if (hp < KernelSize || wp < KernelSize)
            throw new ArgumentException($"Conv2d: kernel {KernelSize}x{KernelSize} is larger than the padded input {hp}x{wp} (input {x.Shape}, padding {Padding})");
        int n = x.Shape[0], ho, wo;
        var cols = Im2Col.TryApply(x, KernelSize, Stride, Padding, out ho, out wo);                         // [N, Ho*Wo, C*k*k]
        if (cols is null)
        {
            if (Padding > 0) x = x.Pad(2, Padding, Padding).Pad(3, Padding, Padding);
            cols = Unfold.Patches(x, KernelSize, KernelSize, Stride, ref _cache, out ho, out wo);
        }
        var y = Tensor.Linear(cols, Weight.Reshape(OutChannels, -1), Bias);                               // [N, Ho*Wo, out]
        return y.Permute(0, 2, 1).Reshape(n, OutChannels, ho, wo);                                        // [N, out, Ho, Wo]
    }
}

/// <summary>Max pooling over k x k windows with a stride (default k), NCHW.</summary>
public sealed class MaxPool2d(int kernelSize, int? stride = null) : Module
{
    private (int[] Key, int[] Index, int Ho, int Wo)? _cache;

    public override Tensor Forward(Tensor x) => Pool.Apply(x, kernelSize, stride ?? kernelSize, ref _cache, "MaxPool2d").Max(-1);
}

/// <summary>Average pooling over k x k windows with a stride (default k), NCHW.</summary>
public sealed class AvgPool2d(int kernelSize, int? stride = null) : Module
{
    private (int[] Key, int[] Index, int Ho, int Wo)? _cache;

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
