// Finite: the cheap divergence check a training run makes after each update (is every parameter still finite?).
using System.Numerics;

namespace Tiny.Optim;

/// <summary>Finds tensors holding a NaN or an infinity without copying them to the host.</summary>
public static class Finite
{
    /// <summary>The index of the first tensor holding a NaN or an infinity, or -1. Off the CPU every tensor's sum of
    /// squares is computed on its device and read back together (one wait); a NaN or an infinity makes it non-finite.</summary>
    public static int FirstNonFinite(IReadOnlyList<Tensor> tensors)
    {
        if (tensors.Count == 0) return -1;
        if (tensors.All(t => t.Device.Kind != DeviceKind.Cpu && t.Device == tensors[0].Device))
            return Array.FindIndex(tensors[0].Backend.SumSquaresEach(tensors.Select(t => t.Storage).ToList()), x => !double.IsFinite(x));
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            if (t.Device.Kind != DeviceKind.Cpu) { if (!double.IsFinite(t.Backend.SumSquares(t.Storage))) return i; }
            else if (t.DType == DType.Float32 ? !AllFinite<float>(t.DataF) : !AllFinite<double>(t.DataD)) return i;
        }
        return -1;
    }

    private static bool AllFinite<T>(ReadOnlySpan<T> x) where T : IFloatingPointIeee754<T>
    {
        foreach (var v in x) if (!T.IsFinite(v)) return false;
        return true;
    }
}
