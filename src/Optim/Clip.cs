// Gradient clipping with torch.nn.utils' (1.13) semantics, in the gradients' dtype.
using System.Numerics;

namespace Tiny.Optim;

/// <summary>clip_grad_norm_ and clip_grad_value_.</summary>
public static class Clip
{
    /// <summary>Scales all grads by min(1, maxNorm/(total+1e-6)), total = the norm of the per-tensor norms
    /// (normType 2, or double.PositiveInfinity for the max |g|). Returns total (in the grads' dtype).</summary>
    public static double GradNorm(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2)
    {
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return 0;
        if (normType != 2 && !double.IsPositiveInfinity(normType))
            throw new ArgumentException($"Clip.GradNorm: normType {normType} is not supported (2 or infinity)", nameof(normType));
        bool inf = double.IsPositiveInfinity(normType);
        // Each tensor's norm on its backend (on one device: all of them with one wait), then combined in the grads' dtype.
        var norms = Backends.Each(grads, (b, xs) => inf ? b.MaxAbsEach(xs) : b.L2NormEach(xs));
        return grads[0].DType == DType.Float32
            ? double.CreateTruncating(Apply<float>(grads, norms, maxNorm, inf))
            : Apply<double>(grads, norms, maxNorm, inf);
    }

    private static T Apply<T>(List<Tensor> grads, double[] norms, double maxNorm, bool inf) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T total = T.Zero;
        foreach (double norm in norms)
        {
            T n = T.CreateTruncating(norm);   // exact: a CPU norm is a T, a device norm is rounded to T as torch's would be
            total = inf ? T.Max(total, n) : T.FusedMultiplyAdd(n, n, total);
        }
        if (!inf) total = T.Sqrt(total);                                             // norm of the norms
        T coef = T.CreateTruncating(maxNorm) / (total + T.CreateTruncating(1e-6));   // max_norm / (total + 1e-6)
        coef = T.Min(coef, T.One);                                                   // clamped to <= 1
        foreach (var g in grads)
        {
            g.Backend.ScaleInPlace(g.Storage, double.CreateTruncating(coef));         // g * coef in T
            g.MarkModified();
        }
        return total;
    }

    /// <summary>Clamps every gradient element into [-clip, clip].</summary>
    public static void GradValue(IEnumerable<Tensor> parameters, double clip)
    {
        foreach (var g in parameters.Select(p => p.Grad).OfType<Tensor>())
        {
            g.Backend.CopyInPlace(g.Storage, g.Backend.Unary(UnaryOp.Clamp, g.Storage, -clip, clip));
            g.MarkModified();
        }
    }
}
