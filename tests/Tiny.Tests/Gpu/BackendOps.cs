// BackendOps: the rows of BackendSuite, each an IBackend primitive on fixed inputs beside its scalar reference (plain
// loops in double over the inputs rounded to the dtype: the definition of the op, independent of every backend).
using NUnit.Framework;

namespace Tiny.Tests.Gpu;

public static class BackendOps
{
    private static readonly DType[] Types = [DType.Float32, DType.Float64];

    // ------------------------------------------------------------ helpers
    /// <summary>n draws from U[lo, hi) (quantized to halves when asked, for ties), rounded to t.</summary>
    public static double[] Data(int n, int seed, DType t, double lo = -2, double hi = 2, bool quantize = false)
    {
        var rng = new Rng(seed);
        var d = new double[n];
        for (int i = 0; i < n; i++)
        {
            d[i] = rng.Uniform(lo, hi);
            if (quantize) d[i] = Math.Round(d[i] * 2) / 2;
        }
        return Round(d, t);
    }

    private static double[] Round(double[] d, DType t) => t == DType.Float32 ? d.Select(v => (double)(float)v).ToArray() : d;
    private static double R(double v, DType t) => t == DType.Float32 ? (float)v : v;

    /// <summary>d on backend b as t.</summary>
    public static Storage On(IBackend b, double[] d, DType t) => t == DType.Float32 ? b.FromArray(d.Select(v => (float)v).ToArray()) : b.FromArray(d);

    private static double[] Out(IBackend b, Storage s) => b.ToDoubleArray(s);

    private static TestCaseData Row(string name, DType t, Func<IBackend, double[]> run, Func<double[]> reference, double? tolerance = null) =>
        new TestCaseData(new OpCase($"{name}_{t.Name()}", t, run, reference, tolerance ?? (t == DType.Float32 ? 1e-5 : 1e-12))).SetName($"{name}_{t.Name()}");

    /// <summary>The flat index into a source of shape src broadcast (NumPy rules) to out, for flat output index i.</summary>
    private static int Src(int i, Shape outS, Shape src)
    {
        int off = 0, stride = 1;
        for (int d = outS.Rank - 1; d >= 0; d--)
        {
            int q = i % outS[d]; i /= outS[d];
            int sd = d - (outS.Rank - src.Rank);
            if (sd < 0) continue;
            if (src[sd] != 1) off += q * stride;
            stride *= src[sd];
        }
        return off;
    }

    /// <summary>The multi-index of flat index i in shape s.</summary>
    private static int[] Index(int i, Shape s)
    {
        var ix = new int[s.Rank];
        for (int d = s.Rank - 1; d >= 0; d--) { ix[d] = i % s[d]; i /= s[d]; }
        return ix;
    }

    private static int Flat(int[] ix, Shape s)
    {
        int f = 0;
        for (int d = 0; d < s.Rank; d++) f = f * s[d] + ix[d];
        return f;
    }

    // ------------------------------------------------------------ scalar definitions
    private static double UnaryRef(UnaryOp op, double v, double a, double b) => op switch
    {
        UnaryOp.Copy => v,
        UnaryOp.Neg => -v,
        UnaryOp.Exp => Math.Exp(v),
        UnaryOp.Log => Math.Log(v),
        UnaryOp.Sqrt => Math.Sqrt(v),
        UnaryOp.Abs => Math.Abs(v),
        UnaryOp.Tanh => Math.Tanh(v),
        UnaryOp.Sigmoid => 1 / (1 + Math.Exp(-v)),
        UnaryOp.Relu => v > 0 ? v : 0,
        UnaryOp.Sign => Math.Sign(v),
        UnaryOp.Square => v * v,
        UnaryOp.Reciprocal => 1 / v,
        UnaryOp.Sin => Math.Sin(v),
        UnaryOp.Cos => Math.Cos(v),
        UnaryOp.AddScalar => v + a,
        UnaryOp.MulScalar => v * a,
        UnaryOp.PowScalar => Math.Pow(v, a),
        UnaryOp.Clamp => Math.Min(Math.Max(v, a), b),
        UnaryOp.InRange => v >= a && v <= b ? 1 : 0,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "no reference for this unary op"),
    };

    private static double BinaryRef(BinaryOp op, double x, double y) => op switch
    {
        BinaryOp.Add => x + y,
        BinaryOp.Sub => x - y,
        BinaryOp.Mul => x * y,
        BinaryOp.Div => x / y,
        BinaryOp.Max => Math.Max(x, y),
        BinaryOp.Min => Math.Min(x, y),
        BinaryOp.Pow => Math.Pow(x, y),
        BinaryOp.Eq => x == y ? 1 : 0,
        BinaryOp.Ne => x != y ? 1 : 0,
        BinaryOp.Gt => x > y ? 1 : 0,
        BinaryOp.Ge => x >= y ? 1 : 0,
        BinaryOp.Lt => x < y ? 1 : 0,
        BinaryOp.Le => x <= y ? 1 : 0,
        BinaryOp.ReluBackward => x > 0 ? y : 0,
        BinaryOp.TanhBackward => y * (1 - x * x),
        BinaryOp.SigmoidBackward => y * x * (1 - x),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "no reference for this binary op"),
    };

    /// <summary>op over one axis of x (shape s): the first extreme wins ties; NaN propagates (Arg*: the first NaN's index).</summary>
    private static double[] ReduceRef(ReduceOp op, double[] x, Shape s, int axis)
    {
        int outer = s.Product(0, axis), len = s[axis], inner = s.Product(axis + 1, s.Rank);
        var r = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < inner; k++)
            {
                double best = x[o * len * inner + k], sum = 0;
                int at = 0;
                for (int j = 0; j < len; j++)
                {
                    double v = x[(o * len + j) * inner + k];
                    sum += v;
                    if (double.IsNaN(best)) continue;
                    if (double.IsNaN(v) || (op is ReduceOp.Max or ReduceOp.ArgMax ? v > best : v < best)) { best = v; at = j; }
                }
                r[o * inner + k] = op switch { ReduceOp.Sum => sum, ReduceOp.Max or ReduceOp.Min => best, _ => at };
            }
        return r;
    }

    /// <summary>C[z] = op(A[z]) @ op(B[z]) (+ C0[z]), A [batch, m, k] (or [k, m] transposed), B one [k, n] (or [n, k]) for every z.</summary>
    private static double[] MatMulRef(double[] a, double[] b, double[]? c0, int batch, int m, int k, int n, bool ta, bool tb)
    {
        var c = new double[batch * m * n];
        for (int z = 0; z < batch; z++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = c0?[(z * m + i) * n + j] ?? 0;
                    for (int q = 0; q < k; q++)
                        s += a[z * m * k + (ta ? q * m + i : i * k + q)] * b[tb ? j * k + q : q * n + j];
                    c[(z * m + i) * n + j] = s;
                }
        return c;
    }

    /// <summary>Direct convolution y[b, o, oy, ox] = bias[o] + sum over (c, ky, kx) of w[o, c, ky, kx] x[b, c, oy*s+ky-p, ox*s+kx-p].</summary>
    private static double[] ConvRef(double[] x, double[] w, double[]? bias, Conv2dShape g)
    {
        var y = new double[g.N * g.Co * g.Ho * g.Wo];
        for (int b = 0; b < g.N; b++)
            for (int o = 0; o < g.Co; o++)
                for (int oy = 0; oy < g.Ho; oy++)
                    for (int ox = 0; ox < g.Wo; ox++)
                    {
                        double s = bias?[o] ?? 0;
                        for (int c = 0; c < g.C; c++)
                            for (int ky = 0; ky < g.K; ky++)
                                for (int kx = 0; kx < g.K; kx++)
                                {
                                    int iy = oy * g.Stride + ky - g.Pad, ix = ox * g.Stride + kx - g.Pad;
                                    if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W)
                                        s += w[((o * g.C + c) * g.K + ky) * g.K + kx] * x[((b * g.C + c) * g.H + iy) * g.W + ix];
                                }
                        y[((b * g.Co + o) * g.Ho + oy) * g.Wo + ox] = s;
                    }
        return y;
    }

    /// <summary>The conv's gradients from gy, by the chain rule on the direct sum: dx, dw and db concatenated.</summary>
    private static double[] ConvGradRef(double[] x, double[] w, double[] gy, Conv2dShape g)
    {
        var dx = new double[x.Length]; var dw = new double[w.Length]; var db = new double[g.Co];
        for (int b = 0; b < g.N; b++)
            for (int o = 0; o < g.Co; o++)
                for (int oy = 0; oy < g.Ho; oy++)
                    for (int ox = 0; ox < g.Wo; ox++)
                    {
                        double gv = gy[((b * g.Co + o) * g.Ho + oy) * g.Wo + ox];
                        db[o] += gv;
                        for (int c = 0; c < g.C; c++)
                            for (int ky = 0; ky < g.K; ky++)
                                for (int kx = 0; kx < g.K; kx++)
                                {
                                    int iy = oy * g.Stride + ky - g.Pad, ix = ox * g.Stride + kx - g.Pad;
                                    if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
                                    int wi = ((o * g.C + c) * g.K + ky) * g.K + kx, xi = ((b * g.C + c) * g.H + iy) * g.W + ix;
                                    dw[wi] += gv * x[xi];
                                    dx[xi] += gv * w[wi];
                                }
                    }
        return [.. dx, .. dw, .. db];
    }

    // ------------------------------------------------------------ rows
    /// <summary>Every row: each primitive on both dtypes.</summary>
    public static IEnumerable<TestCaseData> Rows() => Types.SelectMany(t =>
        Creation(t).Concat(Elementwise(t)).Concat(Reductions(t)).Concat(Movement(t)).Concat(Products(t)).Concat(InPlace(t)).Concat(Convolution(t)));

    private static IEnumerable<TestCaseData> Creation(DType t)
    {
        var d = Data(7, 1, t);
        var other = t == DType.Float32 ? DType.Float64 : DType.Float32;
        yield return Row("FromArray", t, b => Out(b, On(b, d, t)), () => d);
        yield return Row("Full", t, b => Out(b, b.Full(t, 5, 1.25)), () => [1.25, 1.25, 1.25, 1.25, 1.25]);
        yield return Row("Allocate", t, b => Out(b, b.Allocate(t, 4)), () => new double[4]);
        yield return Row("AllocateEmpty", t, b => [b.Allocate(t, 0).Length], () => [0]);
        yield return Row("Cast", t, b => Out(b, b.Cast(On(b, d, t), other)), () => Round(d, other));
        yield return Row("CastSame", t, b => Out(b, b.Cast(On(b, d, t), t)), () => d);
        yield return Row("GetItem", t, b => [b.GetItem(On(b, d, t), 3)], () => [d[3]]);
        yield return Row("ToFloatArray", t, b => b.ToFloatArray(On(b, d, t)).Select(v => (double)v).ToArray(), () => Round(d, DType.Float32), 0);
        yield return Row("CopyToHost", t, b =>
        {
            var s = On(b, d, t);
            if (t == DType.Float32) { var f = new float[7]; b.CopyToHost<float>(s, f); return f.Select(v => (double)v).ToArray(); }
            var h = new double[7]; b.CopyToHost<double>(s, h); return h;
        }, () => d, 0);
        var e = Data(7, 2, t);
        yield return Row("CopyFromHost", t, b =>
        {
            var s = On(b, d, t);
            if (t == DType.Float32) b.CopyFromHost<float>(s, e.Select(v => (float)v).ToArray()); else b.CopyFromHost<double>(s, e);
            return Out(b, s);
        }, () => e, 0);
        var rng = new Rng(5);
        var uniform = Round(Enumerable.Range(0, 9).Select(_ => rng.Uniform(-1, 3)).ToArray(), t);
        yield return Row("Uniform", t, b => Out(b, b.Uniform(t, 9, -1, 3, new Rng(5))), () => uniform, 0);
        var rn = new Rng(6);
        var normal = Round(Enumerable.Range(0, 9).Select(_ => rn.Normal(1, 2)).ToArray(), t);
        yield return Row("Normal", t, b => Out(b, b.Normal(t, 9, 1, 2, new Rng(6))), () => normal, 0);
    }

    private static readonly (int[] A, int[] B)[] BroadcastCases =
    [
        ([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [4]), ([2, 1, 4], [3, 1]), ([1], [2, 3]), ([3, 1], [1, 5]), ([], [2, 2]), ([2, 3, 1], [2, 1, 5]),
    ];

    private static IEnumerable<TestCaseData> Elementwise(DType t)
    {
        foreach (var op in Enum.GetValues<UnaryOp>())
        {
            bool positive = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.PowScalar or UnaryOp.Reciprocal;
            var d = Data(11, 2, t, positive ? 0.1 : -2, 2, quantize: op == UnaryOp.Sign);
            double a = R(op switch { UnaryOp.PowScalar => 1.5, UnaryOp.Clamp or UnaryOp.InRange => -0.5, _ => 0.7 }, t), b2 = R(0.8, t);
            yield return Row($"Unary_{op}", t, b => Out(b, b.Unary(op, On(b, d, t), a, b2)), () => d.Select(v => R(UnaryRef(op, v, a, b2), t)).ToArray());
        }
        foreach (var op in Enum.GetValues<BinaryOp>())
        {
            bool q = op != BinaryOp.Pow;
            var cases = BroadcastCases.Select(c => (A: new Shape(c.A), B: new Shape(c.B))).ToArray();
            var inputs = cases.Select(c => (X: Data(c.A.Numel, 3, t, q ? -2 : 0.1, 2, q), Y: Data(c.B.Numel, 4, t, -2, 2, q))).ToArray();
            yield return Row($"Binary_{op}", t, b => cases.SelectMany((c, k) =>
                Out(b, b.Binary(op, On(b, inputs[k].X, t), c.A, On(b, inputs[k].Y, t), c.B, Shape.Broadcast(c.A, c.B, "test")))).ToArray(),
                () => cases.SelectMany((c, k) =>
                {
                    var o = Shape.Broadcast(c.A, c.B, "test");
                    return Enumerable.Range(0, o.Numel).Select(i => R(BinaryRef(op, inputs[k].X[Src(i, o, c.A)], inputs[k].Y[Src(i, o, c.B)]), t));
                }).ToArray());
        }
        Shape cS = new(3, 1), aS = new(1, 4), bS = new(3, 4), oS = new(3, 4);
        double[] cond = [1, 0, 1];
        var wa = Data(4, 5, t); var wb = Data(12, 6, t);
        yield return Row("Where", t, b => Out(b, b.Where(On(b, cond, t), cS, On(b, wa, t), aS, On(b, wb, t), bS, oS)),
            () => Enumerable.Range(0, 12).Select(i => cond[Src(i, oS, cS)] != 0 ? wa[Src(i, oS, aS)] : wb[Src(i, oS, bS)]).ToArray());
    }

    private static IEnumerable<TestCaseData> Reductions(DType t)
    {
        Shape s = new(3, 4, 5);
        var d = Data(s.Numel, 7, t, quantize: true);   // ties: the first index must win
        var dn = Data(6, 8, t); dn[4] = double.NaN;
        foreach (var op in Enum.GetValues<ReduceOp>())
        {
            for (int axis = 0; axis < 3; axis++)
            {
                int ax = axis;
                yield return Row($"Reduce_{op}_axis{ax}", t, b => Out(b, b.Reduce(op, On(b, d, t), s, ax)), () => ReduceRef(op, d, s, ax).Select(v => R(v, t)).ToArray());
            }
            yield return Row($"Reduce_{op}_NaN", t, b => Out(b, b.Reduce(op, On(b, dn, t), new Shape(2, 3), 1)), () => ReduceRef(op, dn, new Shape(2, 3), 1));
        }
        Shape gS = new(2, 3, 4);
        var g = Data(gS.Numel, 9, t);
        foreach (int[] target in new[] { new[] { 3, 1 }, new[] { 1 }, new[] { 2, 1, 4 }, new[] { 4 }, new[] { 2, 3, 4 } })
        {
            Shape ts = target;
            yield return Row($"SumToShape_to_{string.Join("x", target)}", t, b => Out(b, b.SumToShape(On(b, g, t), gS, ts)), () =>
            {
                var r = new double[ts.Numel];
                for (int i = 0; i < g.Length; i++) r[Src(i, gS, ts)] += g[i];   // each element lands on the target cell it broadcasts from
                return r.Select(v => R(v, t)).ToArray();
            });
        }
        var sq = Data(300, 21, t);
        yield return Row("SumSquares", t, b => [b.SumSquares(On(b, sq, t))], () => [sq.Sum(v => v * v)], 1e-12);
        var parts = new[] { Data(10, 22, t), Data(300, 23, t), Data(1, 24, t) };
        yield return Row("SumSquaresEach", t, b => b.SumSquaresEach(parts.Select(p => On(b, p, t)).ToList()), () => parts.Select(p => p.Sum(v => v * v)).ToArray(), 1e-12);
        yield return Row("L2NormEach", t, b => b.L2NormEach(parts.Select(p => On(b, p, t)).ToList()),
            () => parts.Select(p => R(Math.Sqrt(p.Sum(v => v * v)), t)).ToArray());
        foreach (var row in Statistics(t)) yield return row;
        int rows = 3, cols = 5;
        var lx = Data(rows * cols, 22, t, -4, 4);
        var lg = Data(rows * cols, 23, t);
        double[] LogSoftmax(double[] x) => Enumerable.Range(0, x.Length).Select(i =>
        {
            int r0 = i / cols * cols;
            double max = x.Skip(r0).Take(cols).Max();
            return x[i] - max - Math.Log(x.Skip(r0).Take(cols).Sum(v => Math.Exp(v - max)));
        }).ToArray();
        yield return Row("LogSoftmax", t, b => Out(b, b.LogSoftmax(On(b, lx, t), rows, cols)), () => LogSoftmax(lx).Select(v => R(v, t)).ToArray());
        var ly = Round(LogSoftmax(lx), t);
        yield return Row("LogSoftmaxBackward", t, b => Out(b, b.LogSoftmaxBackward(On(b, ly, t), On(b, lg, t), rows, cols)),
            () => Enumerable.Range(0, ly.Length).Select(i => R(lg[i] - Math.Exp(ly[i]) * lg.Skip(i / cols * cols).Take(cols).Sum(), t)).ToArray());
    }

    /// <summary>The whole-storage statistics read back to the host: lengths around the SIMD widths and the device's
    /// 256-element chunks, an empty storage, NaN and infinity.</summary>
    private static IEnumerable<TestCaseData> Statistics(DType t)
    {
        var parts = new[] { Data(10, 25, t), Data(300, 26, t, -3, 3), Data(1, 27, t), Array.Empty<double>() };
        Storage[] Up(IBackend b, IEnumerable<double[]> ps) => ps.Select(p => On(b, p, t)).ToArray();
        yield return Row("TorchSumSquaresEach", t, b => b.TorchSumSquaresEach(Up(b, parts)), () => parts.Select(p => p.Sum(v => v * v)).ToArray());
        var nan = Data(300, 28, t); nan[257] = double.NaN;
        var maxes = parts.Append(nan).ToArray();
        yield return Row("MaxAbsEach", t, b => b.MaxAbsEach(Up(b, maxes)), () => maxes.Select(p => p.Contains(double.NaN) ? double.NaN : p.Select(Math.Abs).DefaultIfEmpty(0).Max()).ToArray(), 0);
        var inf = Data(20, 29, t); inf[3] = double.NegativeInfinity;
        yield return Row("MaxAbsEach_infinity", t, b => b.MaxAbsEach(Up(b, [inf, parts[0]])).Select(v => double.IsPositiveInfinity(v) ? 1.0 : 0.0).ToArray(), () => [1, 0], 0);
        var ds = new[] { Data(10, 30, t), Data(300, 31, t), Data(1, 32, t), Array.Empty<double>() };
        var ps = new[] { Data(10, 33, t), Data(300, 34, t), Data(1, 35, t), Array.Empty<double>() };
        yield return Row("MomentsEach", t, b =>
        {
            var (gs, dd, pp) = (Up(b, parts), Up(b, ds), Up(b, ps));
            return b.MomentsEach(Enumerable.Range(0, gs.Length).Select(i => (gs[i], dd[i], pp[i])).ToList()).SelectMany(m => new[] { m.GG, m.DD, m.PP, m.DG }).ToArray();
        }, () => Enumerable.Range(0, parts.Length).SelectMany(i => new[]
        {
            parts[i].Sum(v => v * v), ds[i].Sum(v => v * v), ps[i].Sum(v => v * v), ds[i].Zip(parts[i], (d, g) => d * g).Sum(),
        }).ToArray(), 1e-12);
        yield return Row("Sum", t, b => [b.Sum(On(b, parts[1], t)), b.Sum(On(b, parts[3], t))], () => [parts[1].Sum(), 0], 1e-12);
        yield return Row("SquaredDistance", t, b => [b.SquaredDistance(On(b, parts[1], t), On(b, ds[1], t))],
            () => [parts[1].Zip(ds[1], (x, y) => (x - y) * (x - y)).Sum()], 1e-12);
        // CountPositive: BackendSuite's AgreeProbe, x <- (y + s0*a) * y in the dtype, counted where > 0 (NaN and 0: not).
        var y = Data(300, 36, t); var s0 = Data(300, 37, t);
        y[3] = 0; y[4] = double.NaN; s0[5] = double.NaN;
        yield return Row("CountPositive", t, b =>
        {
            var (x, yy, ss) = (On(b, new double[300], t), On(b, y, t), On(b, s0, t));
            long n = t == DType.Float32 ? b.CountPositive<BackendSuite.AgreeProbe<float>, float>(new() { A = 0.5f }, x, yy, [ss])
                : b.CountPositive<BackendSuite.AgreeProbe<double>, double>(new() { A = 0.5 }, x, yy, [ss]);
            long empty = t == DType.Float32 ? b.CountPositive<BackendSuite.AgreeProbe<float>, float>(default, On(b, [], t), On(b, [], t), [])
                : b.CountPositive<BackendSuite.AgreeProbe<double>, double>(default, On(b, [], t), On(b, [], t), []);
            return [n, empty, b.ToDoubleArray(ss).SequenceEqual(s0) ? 1 : 0];
        }, () =>
        [
            Enumerable.Range(0, 300).Count(i => t == DType.Float32 ? ((float)y[i] + (float)s0[i] * 0.5f) * (float)y[i] > 0 : (y[i] + s0[i] * 0.5) * y[i] > 0),
            0, 1,   // nothing counts in an empty storage; the probe's writes are discarded
        ], 0);
    }

    private static IEnumerable<TestCaseData> Movement(DType t)
    {
        var d = Data(6, 10, t);
        foreach (var (from, to) in new[] { (new Shape(2, 1, 3), new Shape(2, 4, 3)), (new Shape(6), new Shape(2, 6)) })
            yield return Row($"Expand_{from.Rank}d_to_{to.Rank}d", t, b => Out(b, b.Expand(On(b, d, t), from, to)),
                () => Enumerable.Range(0, to.Numel).Select(i => d[Src(i, to, from)]).ToArray(), 0);
        Shape s = new(2, 3, 4);
        var x = Data(s.Numel, 11, t);
        foreach (int[] perm in new[] { new[] { 0, 2, 1 }, new[] { 2, 0, 1 }, new[] { 1, 2, 0 }, new[] { 2, 1, 0 } })
        {
            Shape o = perm.Select(p => s[p]).ToArray();
            yield return Row($"Permute_{string.Join("", perm)}", t, b => Out(b, b.Permute(On(b, x, t), s, perm)), () => Enumerable.Range(0, o.Numel).Select(i =>
            {
                var oi = Index(i, o); var xi = new int[3];
                for (int k = 0; k < 3; k++) xi[perm[k]] = oi[k];
                return x[Flat(xi, s)];
            }).ToArray(), 0);
        }
        for (int axis = 0; axis < 3; axis++)
        {
            int ax = axis;
            Shape o = s.With(ax, 1);
            yield return Row($"Slice_axis{ax}", t, b => Out(b, b.Slice(On(b, x, t), s, ax, 1, 1)),
                () => Enumerable.Range(0, o.Numel).Select(i => { var ix = Index(i, o); ix[ax] += 1; return x[Flat(ix, s)]; }).ToArray(), 0);
            var src = Data(o.Numel, 12 + ax, t); var dst = Data(s.Numel, 20 + ax, t);
            yield return Row($"SliceAddInPlace_axis{ax}", t, b => { var ds = On(b, dst, t); b.SliceAddInPlace(ds, s, ax, 1, On(b, src, t), o); return Out(b, ds); }, () =>
            {
                var r = (double[])dst.Clone();
                for (int i = 0; i < o.Numel; i++) { var ix = Index(i, o); ix[ax] += 1; r[Flat(ix, s)] = R(r[Flat(ix, s)] + src[i], t); }
                return r;
            });
        }
        Shape xS = new(3, 4);
        var gx = Data(12, 13, t);
        var gathers = new (string Name, int Axis, int[] Index, Shape IndexShape, Shape XShape)[]
        {
            ("axis1", 1, [0, 0, 3, 1, 1, 1, 2, 2, 0], new Shape(3, 3), xS),   // repeats in each row
            ("axis0", 0, [2, 2, 0, 1, 2, 2, 2, 2], new Shape(2, 4), xS),
            // rank 3, the middle axis, an index longer than x along the axis and shorter off it (one device thread per index line)
            ("rank3_axis1", 1, Enumerable.Range(0, 30).Select(j => (j * 7 + j / 5) % 3).ToArray(), new Shape(2, 5, 3), new Shape(2, 3, 4)),
        };
        foreach (var (name, axis, index, iS, xs) in gathers)
        {
            var xv = Data(xs.Numel, 13, t);
            int ToX(int i) { var ix = Index(i, iS); ix[axis] = index[i]; return Flat(ix, xs); }   // torch.gather's source of element i
            yield return Row($"Gather_{name}", t, b => Out(b, b.Gather(On(b, xv, t), xs, axis, index, iS)), () => Enumerable.Range(0, iS.Numel).Select(i => xv[ToX(i)]).ToArray(), 0);
            var sv = Data(iS.Numel, 14, t);
            yield return Row($"ScatterAdd_{name}", t, b => Out(b, b.ScatterAdd(xs, t, axis, index, iS, On(b, sv, t))), () =>
            {
                var r = new double[xs.Numel];
                for (int i = 0; i < iS.Numel; i++) r[ToX(i)] += sv[i];
                return r.Select(v => R(v, t)).ToArray();
            });
        }
    }

    private static IEnumerable<TestCaseData> Products(DType t)
    {
        // sizes ragged against the devices' 64x64 (4p x 4p) C tile and TileK 16 k panels
        foreach (var (m, k, n) in new[] { (5, 7, 3), (33, 17, 9), (1, 40, 34), (70, 37, 65) })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    const int batch = 2;
                    var a = Data(batch * m * k, 16, t); var bm = Data(k * n, 17, t); var c0 = Data(batch * m * n, 18, t);   // strideB 0: B broadcast over the batch
                    string what = $"{m}x{k}x{n}{(ta ? "_tA" : "")}{(tb ? "_tB" : "")}";
                    yield return Row($"MatMul_{what}", t, b => Out(b, b.MatMul(On(b, a, t), On(b, bm, t), batch, m, k, n, ta, tb, m * k, 0)),
                        () => MatMulRef(a, bm, null, batch, m, k, n, ta, tb).Select(v => R(v, t)).ToArray());
                    yield return Row($"MatMulAddInPlace_{what}", t, b =>
                    {
                        var c = On(b, c0, t);
                        b.MatMulAddInPlace(c, On(b, a, t), On(b, bm, t), batch, m, k, n, ta, tb, m * k, 0, m * n);
                        return Out(b, c);
                    }, () => MatMulRef(a, bm, c0, batch, m, k, n, ta, tb).Select(v => R(v, t)).ToArray());
                }
        int rows = 3, inF = 7, outF = 3;
        var w = Data(outF * inF, 24, t); var bias = Data(outF, 25, t); var x = Data(rows * inF, 26, t);
        foreach (bool withBias in new[] { true, false })
            yield return Row(withBias ? "Linear_bias" : "Linear", t, b => Out(b, b.Linear(On(b, x, t), On(b, w, t), withBias ? On(b, bias, t) : null, rows, inF, outF)),
                () => Enumerable.Range(0, rows * outF).Select(i => R((withBias ? bias[i % outF] : 0) + Enumerable.Range(0, inF).Sum(q => x[i / outF * inF + q] * w[i % outF * inF + q]), t)).ToArray());
    }

    private static IEnumerable<TestCaseData> InPlace(DType t)
    {
        var d = Data(10, 19, t); var s = Data(10, 20, t);
        Func<IBackend, double[]> Apply(Action<IBackend, Storage, Storage> op) => b => { var ds = On(b, d, t); op(b, ds, On(b, s, t)); return Out(b, ds); };
        yield return Row("AxpyInPlace", t, Apply((b, ds, ss) => b.AxpyInPlace(ds, ss, -0.3)), () => d.Select((v, i) => R(v + R(-0.3, t) * s[i], t)).ToArray());
        yield return Row("ScaleInPlace", t, Apply((b, ds, _) => b.ScaleInPlace(ds, 1.7)), () => d.Select(v => R(v * R(1.7, t), t)).ToArray());
        yield return Row("CopyInPlace", t, Apply((b, ds, ss) => b.CopyInPlace(ds, ss)), () => s, 0);
        yield return Row("FillInPlace", t, Apply((b, ds, _) => b.FillInPlace(ds, 0.25)), () => Enumerable.Repeat(0.25, 10).ToArray(), 0);
    }

    private static IEnumerable<TestCaseData> Convolution(DType t)
    {
        // (batch, inC, outC, H, W, kernel, stride, padding): 1x1, even and odd kernels, strides, padding past the kernel's reach
        int[][] geometries = [[1, 1, 2, 5, 5, 3, 1, 0], [2, 2, 3, 7, 6, 3, 2, 1], [2, 3, 2, 4, 4, 1, 1, 0], [1, 2, 2, 6, 5, 2, 2, 0], [3, 1, 1, 5, 7, 4, 3, 2]];
        foreach (var q in geometries)
        {
            var g = new Conv2dShape(q[0], q[1], q[3], q[4], q[2], q[5], q[6], q[7]);
            var x = Data(g.N * g.C * g.H * g.W, 40, t); var w = Data(g.Co * g.PatchRows, 41, t); var bias = Data(g.Co, 42, t);
            var gy = Data(g.N * g.Co * g.Ho * g.Wo, 43, t);
            string name = string.Join("_", q);
            yield return Row($"Conv2d_{name}", t, b => Out(b, b.Conv2d(On(b, x, t), On(b, w, t), On(b, bias, t), g, false, out _)),
                () => ConvRef(x, w, bias, g).Select(v => R(v, t)).ToArray());
            foreach (bool kept in new[] { true, false })   // the forward's patches, or unfolded again
                yield return Row($"Conv2dBackward_{name}{(kept ? "" : "_unfolded_again")}", t, b =>
                {
                    var xs = On(b, x, t); var ws = On(b, w, t);
                    b.Conv2d(xs, ws, null, g, kept, out var patches);
                    var (dx, dw, db) = b.Conv2dBackward(On(b, gy, t), xs, ws, patches, g, true, true, true);
                    return [.. Out(b, dx!), .. Out(b, dw!), .. Out(b, db!)];
                }, () => ConvGradRef(x, w, gy, g).Select(v => R(v, t)).ToArray());
        }
    }
}
