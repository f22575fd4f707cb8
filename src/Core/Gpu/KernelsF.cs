// KernelsF: the float32 ILGPU kernels (KernelsD.cs is generated from this file by gen-double.sh: edit this one).
using ILGPU;
using ILGPU.Algorithms;
using Real = float;
#pragma warning disable CS1718 // v != v is the NaN test that every kernel backend compiles

namespace Tiny.Gpu;

internal static class KernelsF
{
    // ---------------------------------------------------------------- elementwise
    public static Real UnaryScalar(int op, Real v, Real a, Real b)
    {
        switch (op)
        {
            case 0: return v;                                           // Copy
            case 1: return -v;                                          // Neg
            case 2: return XMath.Exp(v);
            case 3: return XMath.Log(v);
            case 4: return XMath.Sqrt(v);
            case 5: return XMath.Abs(v);
            case 6: return XMath.Tanh(v);
            case 7: return (Real)1 / ((Real)1 + XMath.Exp(-v));       // Sigmoid
            case 8: return v > (Real)0 ? v : (Real)0;                   // Relu
            case 9: return v != v ? v : v > (Real)0 ? (Real)1 : v < (Real)0 ? (Real)(-1) : (Real)0; // Sign
            case 10: return v * v;                                      // Square
            case 11: return (Real)1 / v;                                // Reciprocal
            case 12: return XMath.Sin(v);
            case 13: return XMath.Cos(v);
            case 14: return XMath.Log((Real)1 + v);                     // Log1p
            case 15: return v + a;                                      // AddScalar
            case 16: return v * a;                                      // MulScalar
            case 17: return a == (Real)2 ? v * v : a == (Real)1 ? v : XMath.Pow(v, a); // PowScalar
            case 18: return XMath.Pow(a, v);                            // RPowScalar
            case 19: { Real t = v != v ? v : v > a ? v : a; return t != t ? t : t < b ? t : b; } // Clamp
            default: return v >= a && v <= b ? (Real)1 : (Real)0;     // InRange
        }
    }

    public static void Unary(Index1D i, ArrayView<Real> x, ArrayView<Real> y, int op, Real a, Real b) =>
        y[i] = UnaryScalar(op, x[i], a, b);

    public static Real BinaryScalar(int op, Real x, Real y)
    {
        switch (op)
        {
            case 0: return x + y;
            case 1: return x - y;
            case 2: return x * y;
            case 3: return x / y;
            case 4: return x != x || y != y ? x + y : x > y ? x : y;   // Max (NaN propagates)
            case 5: return x != x || y != y ? x + y : x < y ? x : y;   // Min
            case 6: return XMath.Pow(x, y);
            case 7: return x == y ? (Real)1 : (Real)0;
            case 8: return x != y ? (Real)1 : (Real)0;
            case 9: return x > y ? (Real)1 : (Real)0;
            case 10: return x >= y ? (Real)1 : (Real)0;
            case 11: return x < y ? (Real)1 : (Real)0;
            case 12: return x <= y ? (Real)1 : (Real)0;
            case 13: return x > (Real)0 ? y : (Real)0;                  // ReluBackward
            case 14: return y * ((Real)1 - x * x);                      // TanhBackward
            default: return y * x * ((Real)1 - x);                      // SigmoidBackward
        }
    }

    /// <summary>meta = [outDims(rank), strideA(rank), strideB(rank)]; broadcast dims have stride 0.</summary>
    public static void Binary(Index1D i, ArrayView<Real> a, ArrayView<Real> b, ArrayView<Real> o, ArrayView<int> meta, int rank, int op)
    {
        int rem = i, oa = 0, ob = 0;
        for (int d = rank - 1; d >= 0; d--)
        {
            int dim = meta[d];
            int q = rem % dim; rem /= dim;
            oa += q * meta[rank + d]; ob += q * meta[2 * rank + d];
        }
        o[i] = BinaryScalar(op, a[oa], b[ob]);
    }

    /// <summary>meta = [outDims, strideC, strideA, strideB].</summary>
    public static void Where(Index1D i, ArrayView<Real> c, ArrayView<Real> a, ArrayView<Real> b, ArrayView<Real> o, ArrayView<int> meta, int rank)
    {
        int rem = i, oc = 0, oa = 0, ob = 0;
        for (int d = rank - 1; d >= 0; d--)
        {
            int dim = meta[d];
            int q = rem % dim; rem /= dim;
            oc += q * meta[rank + d]; oa += q * meta[2 * rank + d]; ob += q * meta[3 * rank + d];
        }
        o[i] = c[oc] != (Real)0 ? a[oa] : b[ob];
    }

    // ---------------------------------------------------------------- reductions over [outer, len, inner], one thread per output
    public static void Reduce(Index1D i, ArrayView<Real> x, ArrayView<Real> o, int len, int inner, int op)
    {
        int outerIdx = i / inner, k = i - outerIdx * inner;
        int baseOff = outerIdx * len * inner + k;
        if (len == 0) { o[i] = (Real)0; return; }
        Real best = x[baseOff];
        if (op == 0)
        {
            for (int j = 1; j < len; j++) best += x[baseOff + j * inner];
            o[i] = best;
            return;
        }
        if (op <= 2)
        {
            for (int j = 1; j < len; j++)
            {
                Real v = x[baseOff + j * inner];
                if (v != v || best != best) best = best + v;
                else if (op == 1 ? v > best : v < best) best = v;
            }
            o[i] = best;
            return;
        }
        int bi = 0;
        for (int j = 1; j < len; j++)
        {
            if (best != best) break;
            Real v = x[baseOff + j * inner];
            if (v != v || (op == 3 ? v > best : v < best)) { best = v; bi = j; }
        }
        o[i] = (Real)bi;
    }

    // ---------------------------------------------------------------- movement
    /// <summary>Expand and Permute: o[i] = x[sum_d idx_d * stride_d]; meta = [outDims, strides].</summary>
    public static void Strided(Index1D i, ArrayView<Real> x, ArrayView<Real> o, ArrayView<int> meta, int rank)
    {
        int rem = i, off = 0;
        for (int d = rank - 1; d >= 0; d--)
        {
            int dim = meta[d];
            int q = rem % dim; rem /= dim;
            off += q * meta[rank + d];
        }
        o[i] = x[off];
    }

    /// <summary>Slice: i runs over [outer, count, inner] of the output.</summary>
    public static void Slice(Index1D i, ArrayView<Real> x, ArrayView<Real> o, int len, int inner, int start, int count)
    {
        int block = count * inner;
        int r = i / block, w = i - r * block;
        o[i] = x[(r * len + start) * inner + w];
    }

    /// <summary>SliceAdd: dst[r, start + j, k] += src[r, j, k]; i runs over src.</summary>
    public static void SliceAdd(Index1D i, ArrayView<Real> dst, ArrayView<Real> src, int len, int inner, int start, int count)
    {
        int block = count * inner;
        int r = i / block, w = i - r * block;
        dst[(r * len + start) * inner + w] += src[i];
    }

    /// <summary>meta = [indexDims(rank), xStrides(rank)]; i runs over the index tensor.</summary>
    public static void Gather(Index1D i, ArrayView<Real> x, ArrayView<int> index, ArrayView<Real> o, ArrayView<int> meta, int rank, int axis)
    {
        int rem = i, off = 0;
        for (int d = rank - 1; d >= 0; d--)
        {
            int dim = meta[d];
            int q = rem % dim; rem /= dim;
            off += (d == axis ? index[i] : q) * meta[rank + d];
        }
        o[i] = x[off];
    }

    /// <summary>Backward of Gather, x[.., index[q], ..] += src[q]. i runs over the index tensor's lines along axis
    /// (numel / indexDims[axis] of them); a thread adds its line's entries in order, and two lines never write the same x
    /// element (they differ off the axis), so repeated indices accumulate with no atomics, in the same order on every run.
    /// (No float atomics: OpenCL has none, and ILGPU's compare-exchange emulation casts to generic pointers, which CPU
    /// OpenCL drivers such as POCL reject.)</summary>
    public static void ScatterAdd(Index1D i, ArrayView<Real> x, ArrayView<int> index, ArrayView<Real> src, ArrayView<int> meta, int rank, int axis)
    {
        int rem = i, xOff = 0, at = 0, stride = 1, axisStride = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            int dim = meta[d];
            if (d == axis) axisStride = stride;
            else { int q = rem % dim; rem /= dim; xOff += q * meta[rank + d]; at += q * stride; }
            stride *= dim;
        }
        int len = meta[axis], xAxisStride = meta[rank + axis];
        for (int j = 0; j < len; j++)
        {
            int k = at + j * axisStride;
            x[xOff + index[k] * xAxisStride] += src[k];
        }
    }

    // ---------------------------------------------------------------- matmul
    /// <summary>MaxThreads: the largest group side p (p x p threads); Reg: outputs per thread along each axis (tile = Reg * p);
    /// TileK: the k depth of the shared-memory panels.</summary>
    public const int MaxThreads = 16, Reg = 4, TileK = 16;
    private const int MaxTile = Reg * MaxThreads, PanelStride = MaxTile + 1; // +1: k-major stores along k hit distinct banks

    /// <summary>
    /// C[z] (+)= op(A[z]) @ op(B[z]) (+ bias[col]), register-blocked. A group of p x p threads computes a 4p x 4p tile of C
    /// (p = 16 on GPUs: 64x64 tiles, 256 threads; smaller where the accelerator allows fewer threads per group), each thread
    /// 4x4 outputs strided by p rows and p columns (rows ty + i*p, columns tx + j*p), so that a warp's shared-memory reads are
    /// one broadcast A value and consecutive B values. The k loop stages a TileK x 4p panel of op(A) and of op(B) in shared
    /// memory, both k-major (As[kk * PanelStride + row], Bs[kk * PanelStride + col]); each panel is loaded along the
    /// operand's contiguous axis (k for row-major A and transposed B, rows/columns otherwise) so global loads coalesce.
    /// Out-of-range rows, columns and k are staged as zeros and never stored. Grid = (ceil(n/4p), ceil(m/4p), batch).
    /// </summary>
    public static void MatMul(ArrayView<Real> a, ArrayView<Real> b, ArrayView<Real> c, ArrayView<Real> bias,
        int m, int n, int k, int flags, int strideA, int strideB, int strideC, int p)
    {
        var As = SharedMemory.Allocate<Real>(TileK * PanelStride);
        var Bs = SharedMemory.Allocate<Real>(TileK * PanelStride);
        bool transA = (flags & 1) != 0, transB = (flags & 2) != 0, accumulate = (flags & 4) != 0, hasBias = (flags & 8) != 0;
        int tile = Reg * p, threads = p * p, panel = TileK * tile;
        int tx = Group.IdxX, ty = Group.IdxY;
        int row0 = Grid.IdxY * tile, col0 = Grid.IdxX * tile;
        int z = Grid.IdxZ;
        int aOff = z * strideA, bOff = z * strideB, cOff = z * strideC;
        int lda = transA ? m : k, ldb = transB ? k : n;
        int tid = ty * p + tx;
        Real c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int k0 = 0; k0 < k; k0 += TileK)
        {
            for (int e = tid; e < panel; e += threads)
            {
                // A panel: row-major A is contiguous along k (consecutive threads take consecutive k), transposed A along rows.
                int kk, rr;
                if (transA) { kk = e / tile; rr = e - kk * tile; }
                else { rr = e / TileK; kk = e - rr * TileK; }
                int gr = row0 + rr, gk = k0 + kk;
                Real av = 0;
                if (gr < m && gk < k) av = transA ? a[aOff + gk * lda + gr] : a[aOff + gr * lda + gk];
                As[kk * PanelStride + rr] = av;
                // B panel: row-major B is contiguous along columns, transposed B along k.
                int bk, cc;
                if (transB) { cc = e / TileK; bk = e - cc * TileK; }
                else { bk = e / tile; cc = e - bk * tile; }
                int gc = col0 + cc, gkb = k0 + bk;
                Real bv = 0;
                if (gc < n && gkb < k) bv = transB ? b[bOff + gc * ldb + gkb] : b[bOff + gkb * ldb + gc];
                Bs[bk * PanelStride + cc] = bv;
            }
            Group.Barrier();
            for (int kk = 0; kk < TileK; kk++)
            {
                int ao = kk * PanelStride + ty, bo = kk * PanelStride + tx;
                Real a0 = As[ao], a1 = As[ao + p], a2 = As[ao + 2 * p], a3 = As[ao + 3 * p];
                Real b0 = Bs[bo], b1 = Bs[bo + p], b2 = Bs[bo + 2 * p], b3 = Bs[bo + 3 * p];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }
        int r0 = row0 + ty, r1 = r0 + p, r2 = r1 + p, r3 = r2 + p;
        int c0x = col0 + tx, c1x = c0x + p, c2x = c1x + p, c3x = c2x + p;
        Store(c, bias, cOff, r0, c0x, m, n, c00, accumulate, hasBias);
        Store(c, bias, cOff, r0, c1x, m, n, c01, accumulate, hasBias);
        Store(c, bias, cOff, r0, c2x, m, n, c02, accumulate, hasBias);
        Store(c, bias, cOff, r0, c3x, m, n, c03, accumulate, hasBias);
        Store(c, bias, cOff, r1, c0x, m, n, c10, accumulate, hasBias);
        Store(c, bias, cOff, r1, c1x, m, n, c11, accumulate, hasBias);
        Store(c, bias, cOff, r1, c2x, m, n, c12, accumulate, hasBias);
        Store(c, bias, cOff, r1, c3x, m, n, c13, accumulate, hasBias);
        Store(c, bias, cOff, r2, c0x, m, n, c20, accumulate, hasBias);
        Store(c, bias, cOff, r2, c1x, m, n, c21, accumulate, hasBias);
        Store(c, bias, cOff, r2, c2x, m, n, c22, accumulate, hasBias);
        Store(c, bias, cOff, r2, c3x, m, n, c23, accumulate, hasBias);
        Store(c, bias, cOff, r3, c0x, m, n, c30, accumulate, hasBias);
        Store(c, bias, cOff, r3, c1x, m, n, c31, accumulate, hasBias);
        Store(c, bias, cOff, r3, c2x, m, n, c32, accumulate, hasBias);
        Store(c, bias, cOff, r3, c3x, m, n, c33, accumulate, hasBias);
    }

    private static void Store(ArrayView<Real> c, ArrayView<Real> bias, int cOff, int r, int col, int m, int n, Real v, bool accumulate, bool hasBias)
    {
        if (r >= m || col >= n) return;
        int o = cOff + r * n + col;
        if (hasBias) v += bias[col];
        c[o] = accumulate ? c[o] + v : v;
    }

    // ---------------------------------------------------------------- in place and fused
    public static void Axpy(Index1D i, ArrayView<Real> dst, ArrayView<Real> src, Real alpha) => dst[i] += alpha * src[i];
    public static void Fill(Index1D i, ArrayView<Real> dst, Real value) => dst[i] = value;
    public static void Scale(Index1D i, ArrayView<Real> dst, Real alpha) => dst[i] *= alpha;

    /// <summary>One thread per row: y = x - max - log(sum(exp(x - max))).</summary>
    public static void LogSoftmax(Index1D r, ArrayView<Real> x, ArrayView<Real> y, int cols)
    {
        int o = r * cols;
        Real max = x[o];
        for (int j = 1; j < cols; j++) { Real v = x[o + j]; if (v != v || v > max) max = v; }
        if (XMath.IsInfinity(max)) max = 0;
        Real s = 0;
        for (int j = 0; j < cols; j++) s += XMath.Exp(x[o + j] - max);
        Real lse = XMath.Log(s);
        for (int j = 0; j < cols; j++) y[o + j] = x[o + j] - max - lse;
    }

    /// <summary>dx = g - exp(y) * sum(g), one thread per row.</summary>
    public static void LogSoftmaxBackward(Index1D r, ArrayView<Real> y, ArrayView<Real> g, ArrayView<Real> dx, int cols)
    {
        int o = r * cols;
        Real s = 0;
        for (int j = 0; j < cols; j++) s += g[o + j];
        for (int j = 0; j < cols; j++) dx[o + j] = g[o + j] - XMath.Exp(y[o + j]) * s;
    }

    /// <summary>Partial sums of squares in double, one thread per chunk of 256 elements.</summary>
    public static void SumSquares(Index1D i, ArrayView<Real> x, ArrayView<double> partial, int length)
    {
        double s = 0;
        int end = XMath.Min(length, (i + 1) * 256);
        for (int j = i * 256; j < end; j++) { double d = x[j]; s += d * d; }
        partial[i] = s;
    }

    /// <summary>Partials summed in groups of <see cref="PartialFan"/>, each in order: one level of a tree whose shape
    /// depends only on the length, so ||x||^2 on the device is deterministic. total[i] = sum partial[i*Fan ..).</summary>
    public static void SumPartials(Index1D i, ArrayView<double> partial, ArrayView<double> total, int count)
    {
        double s = 0;
        int end = XMath.Min(count, (i + 1) * PartialFan);
        for (int j = i * PartialFan; j < end; j++) s += partial[j];
        total[i] = s;
    }

    /// <summary>Fan-in of one SumPartials level: 1M elements take 3907 partials, then 123, 4, 1.</summary>
    public const int PartialFan = 32;

    public static void ToDouble(Index1D i, ArrayView<Real> x, ArrayView<double> y) => y[i] = x[i];
    public static void ToFloat(Index1D i, ArrayView<Real> x, ArrayView<float> y) => y[i] = (float)x[i];
}
