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
        return grads[0].DType == DType.Float32
            ? double.CreateTruncating(Apply<float>(grads, g => g.DataF, maxNorm, inf))
            : Apply<double>(grads, g => g.DataD, maxNorm, inf);
    }

    private delegate Span<T> Data<T>(Tensor t);

    private static T Apply<T>(List<Tensor> grads, Data<T> data, double maxNorm, bool inf) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T total = T.Zero;
        // Off the CPU, every 2-norm is computed on the device and they come back together (one wait for the device).
        double[]? sq = !inf && grads[0].Device.Kind != DeviceKind.Cpu && grads.All(g => g.Device == grads[0].Device)
            ? grads[0].Backend.SumSquaresEach(grads.Select(g => g.Storage).ToList()) : null;
        for (int i = 0; i < grads.Count; i++)
        {
            var g = grads[i];
            T n = T.Zero;
            if (sq is not null) n = T.CreateTruncating(Math.Sqrt(sq[i]));
            else if (g.Device.Kind != DeviceKind.Cpu) n = T.CreateTruncating(DeviceNorm(g, inf));  // on the device, one scalar back
            else if (inf) foreach (var x in data(g)) n = T.Max(n, T.Abs(x));          // max |g|
            else n = Tiny.Cpu.TorchNorm.L2<T>(data(g));                                             // ||g||_2
            total = inf ? T.Max(total, n) : T.FusedMultiplyAdd(n, n, total);
        }
        if (!inf) total = T.Sqrt(total);                                             // norm of the norms
        T coef = T.CreateTruncating(maxNorm) / (total + T.CreateTruncating(1e-6));   // max_norm / (total + 1e-6)
        coef = T.Min(coef, T.One);                                                   // clamped to <= 1
        foreach (var g in grads)
        {
            if (g.Device.Kind != DeviceKind.Cpu) g.Backend.ScaleInPlace(g.Storage, double.CreateTruncating(coef));   // scaled on the device
            else
            {
                var d = data(g);
                for (int i = 0; i < d.Length; i++) d[i] *= coef;
            }
            g.MarkModified();
        }
        return total;
    }

    /// <summary>||g||_2 (deterministic partial sums in double on the device) or max |g| of a tensor off the CPU.</summary>
    private static double DeviceNorm(Tensor g, bool inf)
    {
        var b = g.Backend;
        if (!inf) return Math.Sqrt(b.SumSquares(g.Storage));
        if (g.Numel == 0) return 0;
        return b.GetItem(b.Reduce(ReduceOp.Max, b.Unary(UnaryOp.Abs, g.Storage), new Shape(g.Numel), 0), 0);
    }

    /// <summary>Clamps every gradient element into [-clip, clip].</summary>
    public static void GradValue(IEnumerable<Tensor> parameters, double clip)
    {
        foreach (var g in parameters.Select(p => p.Grad).OfType<Tensor>())
        {
            if (g.Device.Kind != DeviceKind.Cpu) g.Backend.CopyInPlace(g.Storage, g.Backend.Unary(UnaryOp.Clamp, g.Storage, -clip, clip));
            else if (g.DType == DType.Float32) { var d = g.DataF; float c = (float)clip; for (int i = 0; i < d.Length; i++) d[i] = Math.Clamp(d[i], -c, c); }
            else { var d = g.DataD; for (int i = 0; i < d.Length; i++) d[i] = Math.Clamp(d[i], -clip, clip); }
            g.MarkModified();
        }
    }
}
