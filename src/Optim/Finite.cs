// Finite: the cheap divergence check a training run makes after each update (is every parameter still finite?).
namespace Tiny.Optim;

/// <summary>Finds tensors holding a NaN or an infinity without copying them to the host.</summary>
public static class Finite
{
    /// <summary>The index of the first tensor holding a NaN or an infinity, or -1. Each tensor's max |x| is computed on
    /// its backend (tensors on one device: all read back together, one wait); it is finite exactly when the tensor is.</summary>
    public static int FirstNonFinite(IReadOnlyList<Tensor> tensors) =>
        Array.FindIndex(Backends.Each(tensors, (b, xs) => b.MaxAbsEach(xs)), m => !double.IsFinite(m));
}
