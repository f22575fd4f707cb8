// IlgpuBackend's whole-storage statistics read back as host numbers (sums of squares, norms, max |x|, the moments of an
// update, sums and distances): one generic chunk kernel in double for all of them, one wait and one copy per call.
using ILGPU;
using ILGPU.Runtime;

namespace Tiny.Gpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    public double SumSquares(Storage x) => SumSquaresEach([x])[0];

    /// <inheritdoc/>
    public double[] SumSquaresEach(IReadOnlyList<Storage> xs) => PartialsEach(PartialOp.Products, xs.Select(x => (x, x)).ToList());

    /// <inheritdoc/>
    public double[] L2NormEach(IReadOnlyList<Storage> xs) => Array.ConvertAll(SumSquaresEach(xs), Math.Sqrt);

    /// <inheritdoc/>
    public double[] TorchSumSquaresEach(IReadOnlyList<Storage> xs) => SumSquaresEach(xs);

    /// <inheritdoc/>
    public double[] MaxAbsEach(IReadOnlyList<Storage> xs) => PartialsEach(PartialOp.MaxAbs, xs.Select(x => (x, x)).ToList());

    /// <inheritdoc/>
    public (double GG, double DD, double PP, double DG)[] MomentsEach(IReadOnlyList<(Storage G, Storage D, Storage P)> xs)
    {
        var pairs = new List<(Storage, Storage)>(4 * xs.Count);
        foreach (var (g, d, p) in xs) pairs.AddRange([(g, g), (d, d), (p, p), (d, g)]);
        var s = PartialsEach(PartialOp.Products, pairs);
        var r = new (double, double, double, double)[xs.Count];
        for (int i = 0; i < r.Length; i++) r[i] = (s[4 * i], s[4 * i + 1], s[4 * i + 2], s[4 * i + 3]);
        return r;
    }

    /// <inheritdoc/>
    public double Sum(Storage x) => PartialsEach(PartialOp.Values, [(x, x)])[0];

    /// <inheritdoc/>
    public double SquaredDistance(Storage a, Storage b) => PartialsEach(PartialOp.SquaredDifferences, [(a, b)])[0];

    // Partials of 256 elements each (in double, in a fixed order) for every pair, written side by side into one pooled
    // buffer; one wait and one copy back, then each pair's partials combined in order on the host: summed, or for
    // MaxAbs the largest (NaN if one is NaN; 0 for an empty storage).
    private double[] PartialsEach(PartialOp op, IReadOnlyList<(Storage A, Storage B)> xs)
    {
        var starts = new int[xs.Count + 1];
        for (int i = 0; i < xs.Count; i++)
        {
            var (a, b) = (S(xs[i].A), S(xs[i].B));
            SameType(a, b, op.ToString());
            if (a.Length != b.Length) throw new ArgumentException($"{op}: {a.Length} elements vs {b.Length}");
            starts[i + 1] = starts[i] + (a.Length + Kernels.SquaresChunk - 1) / Kernels.SquaresChunk;
        }
        var r = new double[xs.Count];
        int total = starts[^1];
        if (total == 0) return r;
        var buffer = (MemoryBuffer1D<double, Stride1D.Dense>)Pool.Rent(DType.Float64, total);
        for (int i = 0; i < xs.Count; i++)
        {
            var (a, b) = (S(xs[i].A), S(xs[i].B));
            int chunks = starts[i + 1] - starts[i];
            if (chunks > 0) K(a.DType).Partials(chunks, a, b, buffer.View.SubView(starts[i], chunks), op);
        }
        var p = new double[total];
        Wait();
        buffer.View.SubView(0, total).CopyToCPU(p);
        Pool.Return(buffer, DType.Float64);
        for (int i = 0; i < xs.Count; i++)
        {
            double s = 0;
            for (int j = starts[i]; j < starts[i + 1]; j++) s = op == PartialOp.MaxAbs ? Math.Max(s, p[j]) : s + p[j];   // Math.Max: NaN wins
            r[i] = s;
        }
        return r;
    }
}
