// CpuKernels: the generic (float/double) loops behind CpuBackend, on TensorPrimitives and Vector<T>.
using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Tiny.Cpu;

internal static class CpuKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static T C(double v) => T.CreateTruncating(v);

    // ---------------------------------------------------------------- unary
    public static void Unary(UnaryOp op, ReadOnlySpan<T> x, Span<T> y, double a, double b)
    {
        switch (op)
        {
            case UnaryOp.Copy: x.CopyTo(y); break;
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); break;
            case UnaryOp.Tanh: TorchTanh.Tanh(x, y); break;   // torch's bits (SLEEF u10)
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
            case UnaryOp.Relu: Relu(x, y); break;
            case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
            case UnaryOp.Reciprocal: TensorPrimitives.Divide(T.One, x, y); break;
            case UnaryOp.Sin: TensorPrimitives.Sin(x, y); break;
            case UnaryOp.Cos: TensorPrimitives.Cos(x, y); break;
            case UnaryOp.AddScalar: TensorPrimitives.Add(x, C(a), y); break;
            case UnaryOp.MulScalar: TensorPrimitives.Multiply(x, C(a), y); break;
            case UnaryOp.PowScalar:
                if (a == 2) TensorPrimitives.Multiply(x, x, y);
                else if (a == 1) x.CopyTo(y);
                else for (int i = 0; i < x.Length; i++) y[i] = T.Pow(x[i], C(a));
                break;
            case UnaryOp.Clamp:
                TensorPrimitives.Max(x, C(a), y);
                TensorPrimitives.Min(y, C(b), y);
                break;
            default:
                for (int i = 0; i < x.Length; i++) y[i] = Scalar(op, x[i], a, b);
                break;
        }
    }

    private static T Scalar(UnaryOp op, T v, double a, double b) => op switch
    {
        UnaryOp.Sign => T.IsNaN(v) ? v : v > T.Zero ? T.One : v < T.Zero ? -T.One : T.Zero,
        UnaryOp.InRange => v >= C(a) && v <= C(b) ? T.One : T.Zero,
        _ => throw new NotSupportedException($"unary op {op}"),
    };

    /// <summary>y = max(x, 0); y may be x (in place).</summary>
    public static void Relu(ReadOnlySpan<T> x, Span<T> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<T>.Count;
            for (; i <= x.Length - w; i += w)
                Vector.Max(new Vector<T>(x.Slice(i, w)), Vector<T>.Zero).CopyTo(y.Slice(i, w));
        }
        for (; i < x.Length; i++) y[i] = x[i] > T.Zero ? x[i] : T.Zero;
    }

    // ---------------------------------------------------------------- binary, same shape
    public static void BinarySame(BinaryOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> o)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, o); return;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, o); return;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, o); return;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, o); return;
            case BinaryOp.Max: TensorPrimitives.Max(a, b, o); return;
            case BinaryOp.Min: TensorPrimitives.Min(a, b, o); return;
        }
        int i = 0;
        if (Vector.IsHardwareAccelerated && op is BinaryOp.ReluBackward or BinaryOp.TanhBackward or BinaryOp.SigmoidBackward)
        {
            int w = Vector<T>.Count;
            var one = Vector<T>.One;
            for (; i <= a.Length - w; i += w)
            {
                var va = new Vector<T>(a.Slice(i, w));
                var vb = new Vector<T>(b.Slice(i, w));
                Vector<T> r = op switch
                {
                    BinaryOp.ReluBackward => Vector.ConditionalSelect(Vector.GreaterThan(va, Vector<T>.Zero), vb, Vector<T>.Zero),
                    BinaryOp.TanhBackward => vb * (one - va * va),
                    _ => vb * va * (one - va),
                };
                r.CopyTo(o.Slice(i, w));
            }
        }
        for (; i < a.Length; i++) o[i] = Scalar(op, a[i], b[i]);
    }

    /// <summary>
    /// ReLU backward by rows: gz = g * (y &gt; 0), and into sums (when not null) the column sums of gz, row 0 copied
    /// then each row added in order: the bits of BinarySame(ReluBackward) over the whole array and of Reduce's sum over
    /// axis 0 (for cols &gt; 1), with each row of gz added while it is still in L1.
    /// </summary>
    public static void ReluBackwardSums(T[] y, T[] g, T[] gz, int rows, int cols, T[]? sums)
    {
        if (rows == 0 && sums is not null) Array.Clear(sums);   // an empty sum, as Reduce gives
        for (int r = 0; r < rows; r++)
        {
            var row = gz.AsSpan(r * cols, cols);
            BinarySame(BinaryOp.ReluBackward, y.AsSpan(r * cols, cols), g.AsSpan(r * cols, cols), row);
            if (sums is null) continue;
            if (r == 0) row.CopyTo(sums);
            else TensorPrimitives.Add(sums, row, sums);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Scalar(BinaryOp op, T x, T y) => op switch
    {
        BinaryOp.Add => x + y,
        BinaryOp.Sub => x - y,
        BinaryOp.Mul => x * y,
        BinaryOp.Div => x / y,
        BinaryOp.Max => T.IsNaN(x) || T.IsNaN(y) ? T.NaN : (x > y ? x : y),
        BinaryOp.Min => T.IsNaN(x) || T.IsNaN(y) ? T.NaN : (x < y ? x : y),
        BinaryOp.Pow => T.Pow(x, y),
        BinaryOp.Eq => x == y ? T.One : T.Zero,
        BinaryOp.Ne => x != y ? T.One : T.Zero,
        BinaryOp.Gt => x > y ? T.One : T.Zero,
        BinaryOp.Ge => x >= y ? T.One : T.Zero,
        BinaryOp.Lt => x < y ? T.One : T.Zero,
        BinaryOp.Le => x <= y ? T.One : T.Zero,
        BinaryOp.ReluBackward => x > T.Zero ? y : T.Zero,
        BinaryOp.TanhBackward => y * (T.One - x * x),
        BinaryOp.SigmoidBackward => y * x * (T.One - x),
        _ => throw new NotSupportedException($"binary op {op}"),
    };

    // ---------------------------------------------------------------- binary with broadcasting
    public static void Binary(BinaryOp op, T[] a, Shape aS, T[] b, Shape bS, T[] o, Shape oS)
    {
        int n = oS.Numel;
        if (n == 0) return;
        if (a.Length == n && b.Length == n) { BinarySame(op, a, b, o); return; }
        // b is a trailing block repeated over rows (bias add, scalar): op row by row.
        if (a.Length == n && IsSuffix(bS, oS))
        {
            int inner = b.Length;
            if (inner == 1 && op is BinaryOp.Add or BinaryOp.Sub or BinaryOp.Mul or BinaryOp.Div)
            {
                T s = b[0];
                switch (op)
                {
                    case BinaryOp.Add: TensorPrimitives.Add(a, s, o); break;
                    case BinaryOp.Sub: TensorPrimitives.Subtract(a, s, o); break;
                    case BinaryOp.Mul: TensorPrimitives.Multiply(a, s, o); break;
                    default: TensorPrimitives.Divide(a, s, o); break;
                }
                return;
            }
            if (inner >= 8 || inner == n)
            {
                for (int r = 0; r < n; r += inner) BinarySame(op, a.AsSpan(r, inner), b, o.AsSpan(r, inner));
                return;
            }
        }
        if (b.Length == n && IsSuffix(aS, oS) && a.Length >= 8)
        {
            int inner = a.Length;
            for (int r = 0; r < n; r += inner) BinarySame(op, a, b.AsSpan(r, inner), o.AsSpan(r, inner));
            return;
        }
        // General: odometer over the output; strides are 0 along broadcast dims.
        int rank = oS.Rank;
        var sa = BroadcastStrides(aS, oS);
        var sb = BroadcastStrides(bS, oS);
        int last = oS[rank - 1];
        int saLast = sa[rank - 1], sbLast = sb[rank - 1];
        Span<int> idx = stackalloc int[rank];
        int offA = 0, offB = 0;
        for (int start = 0; start < n; start += last)
        {
            if (saLast == 1 && sbLast == 1) BinarySame(op, a.AsSpan(offA, last), b.AsSpan(offB, last), o.AsSpan(start, last));
            else
                for (int j = 0, ia = offA, ib = offB; j < last; j++, ia += saLast, ib += sbLast)
                    o[start + j] = Scalar(op, a[ia], b[ib]);
            // advance the odometer over dims [0, rank-1)
            for (int d = rank - 2; d >= 0; d--)
            {
                idx[d]++; offA += sa[d]; offB += sb[d];
                if (idx[d] < oS[d]) break;
                offA -= sa[d] * idx[d]; offB -= sb[d] * idx[d]; idx[d] = 0;
            }
        }
    }

    /// <summary>True when s (after dropping leading 1s) equals the trailing dims of o.</summary>
    public static bool IsSuffix(Shape s, Shape o)
    {
        int lead = 0;
        while (lead < s.Rank && s[lead] == 1) lead++;
        int len = s.Rank - lead;
        if (len > o.Rank) return false;
        for (int i = 0; i < len; i++) if (s[lead + i] != o[o.Rank - len + i]) return false;
        return true;
    }

    public static int[] BroadcastStrides(Shape s, Shape o)
    {
        int rank = o.Rank;
        var st = new int[rank];
        int acc = 1;
        for (int i = rank - 1; i >= 0; i--)
        {
            int si = i - (rank - s.Rank);
            int d = si >= 0 ? s[si] : 1;
            st[i] = d == 1 ? 0 : acc;
            acc *= d;
        }
        return st;
    }

    public static void Where(T[] c, Shape cS, T[] a, Shape aS, T[] b, Shape bS, T[] o, Shape oS)
    {
        int n = oS.Numel;
        if (n == 0) return;
        int rank = Math.Max(oS.Rank, 1);
        var oSh = oS.Rank == 0 ? new Shape(1) : oS;
        var sc = BroadcastStrides(cS, oSh); var sa = BroadcastStrides(aS, oSh); var sb = BroadcastStrides(bS, oSh);
        Span<int> idx = stackalloc int[rank];
        for (int i = 0; i < n; i++)
        {
            int oc = 0, oa = 0, ob = 0;
            int rem = i;
            for (int d = rank - 1; d >= 0; d--)
            {
                int q = rem % oSh[d]; rem /= oSh[d];
                oc += q * sc[d]; oa += q * sa[d]; ob += q * sb[d];
            }
            o[i] = c[oc] != T.Zero ? a[oa] : b[ob];
        }
    }

    // ---------------------------------------------------------------- reductions over [outer, len, inner]
    public static void Reduce(ReduceOp op, T[] x, int outer, int len, int inner, T[] o)
    {
        if (len == 0)
        {
            if (op != ReduceOp.Sum) throw new ArgumentException($"{op}: cannot reduce over an empty axis");
            Array.Clear(o);
            return;
        }
        if (inner == 1)
        {
            for (int i = 0; i < outer; i++)
            {
                var row = new ReadOnlySpan<T>(x, i * len, len);
                o[i] = op switch
                {
                    ReduceOp.Sum => TensorPrimitives.Sum(row),
                    ReduceOp.Max => TensorPrimitives.Max(row),
                    ReduceOp.Min => TensorPrimitives.Min(row),
                    ReduceOp.ArgMax => C(ArgBest(row, true)),
                    _ => C(ArgBest(row, false)),
                };
            }
            return;
        }
        for (int i = 0; i < outer; i++)
        {
            var acc = new Span<T>(o, i * inner, inner);
            int baseOff = i * len * inner;
            if (op is ReduceOp.ArgMax or ReduceOp.ArgMin)
            {
                bool max = op == ReduceOp.ArgMax;
                for (int k = 0; k < inner; k++)
                {
                    T best = x[baseOff + k]; int bi = 0;
                    for (int j = 1; j < len; j++)
                    {
                        T v = x[baseOff + j * inner + k];
                        if (T.IsNaN(best)) break;
                        if (T.IsNaN(v) || (max ? v > best : v < best)) { best = v; bi = j; }
                    }
                    acc[k] = C(bi);
                }
                continue;
            }
            new ReadOnlySpan<T>(x, baseOff, inner).CopyTo(acc);
            for (int j = 1; j < len; j++)
            {
                var row = new ReadOnlySpan<T>(x, baseOff + j * inner, inner);
                switch (op)
                {
                    case ReduceOp.Sum: TensorPrimitives.Add(acc, row, acc); break;
                    case ReduceOp.Max: TensorPrimitives.Max(acc, row, acc); break;
                    default: TensorPrimitives.Min(acc, row, acc); break;
                }
            }
        }
    }

    /// <summary>Index of the first max (or min); the first NaN wins, as in PyTorch.</summary>
    private static int ArgBest(ReadOnlySpan<T> row, bool max)
    {
        T best = row[0]; int bi = 0;
        if (T.IsNaN(best)) return 0;
        for (int j = 1; j < row.Length; j++)
        {
            T v = row[j];
            if (T.IsNaN(v)) return j;
            if (max ? v > best : v < best) { best = v; bi = j; }
        }
        return bi;
    }

    // ---------------------------------------------------------------- movement
    public static void Expand(T[] x, Shape xS, T[] o, Shape oS)
    {
        int n = oS.Numel;
        if (n == 0) return;
        if (x.Length == 1) { Array.Fill(o, x[0]); return; }
        if (IsSuffix(xS, oS))
        {
            for (int r = 0; r < n; r += x.Length) x.AsSpan().CopyTo(o.AsSpan(r));
            return;
        }
        int rank = oS.Rank;
        var sx = BroadcastStrides(xS, oS);
        Span<int> idx = stackalloc int[rank];
        int off = 0;
        for (int i = 0; i < n; i++)
        {
            o[i] = x[off];
            for (int d = rank - 1; d >= 0; d--)
            {
                idx[d]++; off += sx[d];
                if (idx[d] < oS[d]) break;
                off -= sx[d] * idx[d]; idx[d] = 0;
            }
        }
    }

    public static void Permute(T[] x, Shape xS, int[] perm, T[] o)
    {
        int rank = xS.Rank;
        int n = xS.Numel;
        if (n == 0) return;
        var xs = xS.Strides();
        // 2-D transpose, or a batch of them ([B, R, C] -> [B, C, R], as Conv2d's NHWC -> NCHW): blocked copies.
        if ((rank == 2 && perm[0] == 1) || (rank == 3 && perm[0] == 0 && perm[1] == 2))
        {
            int batch = rank == 3 ? xS[0] : 1, rows = xS[rank - 2], cols = xS[rank - 1], plane = rows * cols;
            const int B = 32;
            for (int b = 0; b < batch; b++)
            {
                int bo = b * plane;
                for (int i0 = 0; i0 < rows; i0 += B)
                    for (int j0 = 0; j0 < cols; j0 += B)
                    {
                        int i1 = Math.Min(i0 + B, rows), j1 = Math.Min(j0 + B, cols);
                        for (int i = i0; i < i1; i++)
                            for (int j = j0; j < j1; j++)
                                o[bo + j * rows + i] = x[bo + i * cols + j];
                    }
            }
            return;
        }
        var oDims = new int[rank];
        var st = new int[rank];
        for (int d = 0; d < rank; d++) { oDims[d] = xS[perm[d]]; st[d] = xs[perm[d]]; }
        Span<int> idx = stackalloc int[rank];
        int off = 0;
        for (int i = 0; i < n; i++)
        {
            o[i] = x[off];
            for (int d = rank - 1; d >= 0; d--)
            {
                idx[d]++; off += st[d];
                if (idx[d] < oDims[d]) break;
                off -= st[d] * idx[d]; idx[d] = 0;
            }
        }
    }

    public static void Slice(T[] x, int outer, int len, int inner, int start, int count, T[] o)
    {
        int block = count * inner;
        for (int i = 0; i < outer; i++)
            Array.Copy(x, (i * len + start) * inner, o, i * block, block);
    }

    public static void SliceAdd(T[] dst, int outer, int len, int inner, int start, int count, T[] src)
    {
        int block = count * inner;
        for (int i = 0; i < outer; i++)
        {
            var d = dst.AsSpan((i * len + start) * inner, block);
            TensorPrimitives.Add(d, src.AsSpan(i * block, block), d);
        }
    }

    /// <summary>Gather (scatter = false) or scatter-add (scatter = true) along axis; index has shape iS.</summary>
    public static void GatherScatter(T[] x, Shape xS, int axis, int[] index, Shape iS, T[] o, bool scatter)
    {
        int rank = iS.Rank;
        int n = iS.Numel;
        var xs = xS.Strides();
        int axisLen = xS[axis];
        Span<int> idx = stackalloc int[Math.Max(rank, 1)];
        int off = 0; // offset in x without the axis term
        for (int i = 0; i < n; i++)
        {
            int j = index[i];
            if ((uint)j >= (uint)axisLen)
                throw new ArgumentOutOfRangeException(nameof(index), $"{(scatter ? "ScatterAdd" : "Gather")}: index {j} is out of range for axis {axis} of size {axisLen} (shape {xS})");
            int xo = off + j * xs[axis];
            if (scatter) x[xo] += o[i]; else o[i] = x[xo];
            for (int d = rank - 1; d >= 0; d--)
            {
                idx[d]++;
                if (d != axis) off += xs[d];
                if (idx[d] < iS[d]) break;
                if (d != axis) off -= xs[d] * idx[d];
                idx[d] = 0;
            }
        }
    }

    // ---------------------------------------------------------------- fused
    public static void LogSoftmax(T[] x, T[] y, int rows, int cols)
    {
        T[] tmp = ArrayPool<T>.Shared.Rent(cols);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                var xr = new ReadOnlySpan<T>(x, r * cols, cols);
                var yr = new Span<T>(y, r * cols, cols);
                T max = TensorPrimitives.Max(xr);
                if (T.IsInfinity(max)) max = T.Zero;
                TensorPrimitives.Subtract(xr, max, yr);
                var t = tmp.AsSpan(0, cols);
                TensorPrimitives.Exp(yr, t);
                T lse = T.Log(TensorPrimitives.Sum(t));
                TensorPrimitives.Subtract(yr, lse, yr);
            }
        }
        finally { ArrayPool<T>.Shared.Return(tmp); }
    }

    public static void LogSoftmaxBackward(T[] y, T[] g, T[] dx, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            var yr = new ReadOnlySpan<T>(y, r * cols, cols);
            var gr = new ReadOnlySpan<T>(g, r * cols, cols);
            var dr = new Span<T>(dx, r * cols, cols);
            T s = TensorPrimitives.Sum(gr);
            TensorPrimitives.Exp(yr, dr);
            // dx = g - softmax * sum(g)
            TensorPrimitives.Multiply(dr, -s, dr);
            TensorPrimitives.Add(dr, gr, dr);
        }
    }
}
