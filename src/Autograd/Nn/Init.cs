// Init: weight initialisers (orthogonal, xavier, kaiming, constant), filling a parameter in place like torch.nn.init.
namespace Tiny.Nn;

/// <summary>In-place initialisers with torch.nn.init's semantics; randomness from an Rng.</summary>
public static class Init
{
    private static (int fanIn, int fanOut) Fans(Tensor t)
    {
        if (t.Rank < 2) throw new ArgumentException($"Init: fan in/out needs at least 2 dims, got {t.Shape}");
        int receptive = t.Shape.Product(2, t.Rank);
        return (t.Shape[1] * receptive, t.Shape[0] * receptive);
    }

    private static void Set(Tensor t, double[] values)
    {
        using var _ = Tensor.NoGrad();
        t.CopyFrom(Tensor.FromArray(values, t.Shape.ToArray()).To(t.DType));
    }

    /// <summary>Fills with a constant.</summary>
    public static void Constant(Tensor t, double value)
    {
        using var _ = Tensor.NoGrad();
        t.FillInPlace(value);
    }

    /// <summary>U(low, high).</summary>
    public static void Uniform(Tensor t, double low, double high, Rng rng)
    {
        var v = new double[t.Numel];
        for (int i = 0; i < v.Length; i++) v[i] = rng.Uniform(low, high);
        Set(t, v);
    }

    /// <summary>N(mean, std).</summary>
    public static void Normal(Tensor t, double mean, double std, Rng rng)
    {
        var v = new double[t.Numel];
        for (int i = 0; i < v.Length; i++) v[i] = rng.Normal(mean, std);
        Set(t, v);
    }

    /// <summary>Xavier/Glorot uniform: U(-a, a), a = gain*sqrt(6/(fan_in+fan_out)).</summary>
    public static void XavierUniform(Tensor t, Rng rng, double gain = 1)
    {
        var (fi, fo) = Fans(t);
        double a = gain * Math.Sqrt(6.0 / (fi + fo));
        Uniform(t, -a, a, rng);
    }

    /// <summary>Xavier/Glorot normal: N(0, gain*sqrt(2/(fan_in+fan_out))).</summary>
    public static void XavierNormal(Tensor t, Rng rng, double gain = 1)
    {
        var (fi, fo) = Fans(t);
        Normal(t, 0, gain * Math.Sqrt(2.0 / (fi + fo)), rng);
    }

    /// <summary>Kaiming uniform (fan_in, ReLU gain sqrt(2) by default): U(-b, b), b = gain*sqrt(3/fan_in).</summary>
    public static void KaimingUniform(Tensor t, Rng rng, double gain = 1.4142135623730951)
    {
        var (fi, _) = Fans(t);
        double b = gain * Math.Sqrt(3.0 / fi);
        Uniform(t, -b, b, rng);
    }

    /// <summary>Kaiming normal (fan_in): N(0, gain/sqrt(fan_in)).</summary>
    public static void KaimingNormal(Tensor t, Rng rng, double gain = 1.4142135623730951)
    {
        var (fi, _) = Fans(t);
        Normal(t, 0, gain / Math.Sqrt(fi), rng);
    }

    /// <summary>
    /// (Semi-)orthogonal init scaled by gain, as torch.nn.init.orthogonal_: QR of a normal matrix with the signs of
    /// R's diagonal folded into Q.
    /// </summary>
    public static void Orthogonal(Tensor t, Rng rng, double gain = 1)
    {
        if (t.Rank < 2) throw new ArgumentException($"Orthogonal: needs at least 2 dims, got {t.Shape}");
        int rows = t.Shape[0], cols = t.Numel / rows;
        bool transpose = rows < cols;
        int m = transpose ? cols : rows, n = transpose ? rows : cols;   // m >= n
        var a = new double[m, n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) a[i, j] = rng.NextNormal();
        // Modified Gram-Schmidt: Q (m x n) with R's diagonal positive, which equals QR with sign correction.
        for (int j = 0; j < n; j++)
        {
            for (int k = 0; k < j; k++)
            {
                double dot = 0;
                for (int i = 0; i < m; i++) dot += a[i, k] * a[i, j];
                for (int i = 0; i < m; i++) a[i, j] -= dot * a[i, k];
            }
            double norm = 0;
            for (int i = 0; i < m; i++) norm += a[i, j] * a[i, j];
            norm = Math.Sqrt(norm);
            for (int i = 0; i < m; i++) a[i, j] /= norm;
        }
        var v = new double[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                v[r * cols + c] = gain * (transpose ? a[c, r] : a[r, c]);
        Set(t, v);
    }
}
