// Conv: Conv2d as one op on the backend's convolution primitives (im2col + GEMM, col2im for the input gradient), and
// max/avg pooling composed from a cached gather.

namespace Tiny.Nn;

/// <summary>Index tables for unfolding NCHW images into patches, cached per input geometry (pooling's windows).</summary>
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

/// <summary>2-D convolution on NCHW tensors: y = W * x + b via the backend's im2col + GEMM, PyTorch's default init.</summary>
public sealed class Conv2d : Module
{
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
        var s = new Conv2dShape(x.Shape[0], InChannels, x.Shape[2], x.Shape[3], OutChannels, KernelSize, Stride, Padding);
        return Apply(x, Weight, Bias, s);
    }

    /// <summary>The convolution as one recorded op: the backend's forward keeps the unfolded patches when a gradient
    /// will be needed, and its backward takes them over (a retained graph's second backward unfolds x again).</summary>
    internal static Tensor Apply(Tensor x, Tensor weight, Tensor? bias, Conv2dShape s)
    {
        var b = x.Backend;
        Tensor[] parents = bias is null ? [x, weight] : [x, weight, bias];
        bool grad = Tensor.IsGradEnabled && parents.Any(p => p.RequiresGrad);
        var y = new Tensor(b.Conv2d(x.Storage, weight.Storage, bias?.Storage, s, grad, out var patches), new Shape(s.N, s.Co, s.Ho, s.Wo));
        return Tensor.Record(y, "Conv2d", g =>
        {
            var (dx, dw, db) = b.Conv2dBackward(g.Storage, x.Storage, weight.Storage, patches, s, x.RequiresGrad, weight.RequiresGrad, bias is { RequiresGrad: true });
            patches = null;   // taken over by the backward
            if (dw is not null) weight.AccumulateGrad(new Tensor(dw, weight.Shape));
            if (db is not null) bias!.AccumulateGrad(new Tensor(db, bias.Shape));
            if (dx is not null) x.AccumulateGrad(new Tensor(dx, x.Shape));
        }, parents);
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
