// Kernels: every ILGPU kernel of the tensor primitives, written once over the element type T and its lane L
// (GpuLanes.cs), and compiled for float32 and float64 by KernelSet.
using ILGPU;
using ILGPU.Algorithms;

namespace Tiny.Gpu;

internal static class Kernels
{
    // ---------------------------------------------------------------- elementwise
    /// <summary>One element of a unary op, dispatched by the op's name (a and b: the op's scalars).</summary>
    public static L UnaryScalar<T, L>(UnaryOp op, L v, L a, L b) where T : unmanaged where L : struct, IGpuLane<L, T>
    {
        L zero = L.FromDouble(0), one = L.FromDouble(1);
        switch (op)
        {
            case UnaryOp.Copy: return v;
            case UnaryOp.Neg: return -v;
            case UnaryOp.Exp: return L.Exp(v);
            case UnaryOp.Log: return L.Log(v);
            case UnaryOp.Sqrt: return L.Sqrt(v);
            case UnaryOp.Abs: return L.Abs(v);
            case UnaryOp.Tanh: return L.Tanh(v);
            case UnaryOp.Sigmoid: return one / (one + L.Exp(-v));
            case UnaryOp.Relu: return v > zero ? v : zero;
            case UnaryOp.Sign: return L.IsNaN(v) ? v : v > zero ? one : v < zero ? -one : zero;
            case UnaryOp.Square: return v * v;
            case UnaryOp.Reciprocal: return one / v;
            case UnaryOp.Sin: return L.Sin(v);
            case UnaryOp.Cos: return L.Cos(v);
            case UnaryOp.AddScalar: return v + a;
            case UnaryOp.MulScalar: return v * a;
            case UnaryOp.PowScalar: return L.Equal(a, L.FromDouble(2)) ? v * v : L.Equal(a, one) ? v : L.Pow(v, a);
            case UnaryOp.Clamp: { L t = L.IsNaN(v) ? v : v > a ? v : a; return L.IsNaN(t) ? t : t < b ? t : b; }
            case UnaryOp.InRange: return v >= a && v <= b ? one : zero;
            default: return L.FromDouble(double.NaN);   // not an op: the host never launches one
        }
    }

    public static void Unary<T, L>(Index1D i, ArrayView<T> x, ArrayView<T> y, UnaryOp op, T a, T b)
        where T : unmanaged where L : struct, IGpuLane<L, T> =>
        y[i] = L.Value(UnaryScalar<T, L>(op, L.Splat(x[i]), L.Splat(a), L.Splat(b)));

    /// <summary>One element of a binary op, dispatched by the op's name.</summary>
    public static L BinaryScalar<T, L>(BinaryOp op, L x, L y) where T : unmanaged where L : struct, IGpuLane<L, T>
    {
        L zero = L.FromDouble(0), one = L.FromDouble(1);
        switch (op)
        {
            case BinaryOp.Add: return x + y;
            case BinaryOp.Sub: return x - y;
            case BinaryOp.Mul: return x * y;
            case BinaryOp.Div: return x / y;
            case BinaryOp.Max: return L.IsNaN(x) || L.IsNaN(y) ? x + y : x > y ? x : y;   // NaN propagates
            case BinaryOp.Min: return L.IsNaN(x) || L.IsNaN(y) ? x + y : x < y ? x : y;
            case BinaryOp.Pow: return L.Pow(x, y);
            case BinaryOp.Eq: return L.Equal(x, y) ? one : zero;
            case BinaryOp.Ne: return L.Equal(x, y) ? zero : one;
            case BinaryOp.Gt: return x > y ? one : zero;
            case BinaryOp.Ge: return x >= y ? one : zero;
            case BinaryOp.Lt: return x < y ? one : zero;
            case BinaryOp.Le: return x <= y ? one : zero;
            case BinaryOp.ReluBackward: return x > zero ? y : zero;
            case BinaryOp.TanhBackward: return y * (one - x * x);
            case BinaryOp.SigmoidBackward: return y * x * (one - x);
            default: return L.FromDouble(double.NaN);   // not an op: the host never launches one
        }
    }

    /// <summary>meta = [outDims(rank), strideA(rank), strideB(rank)]; broadcast dims have stride 0.</summary>
    public static void Binary<T, L>(Index1D i, ArrayView<T> a, ArrayView<T> b, ArrayView<T> o, ArrayView<int> meta, int rank, BinaryOp op)
        where T : unmanaged where L : struct, IGpuLane<L, T>
    {
        int rem = i, oa = 0, ob = 0;
        for (int d = rank - 1; d >= 0; d--)
        {
            int dim = meta[d];
            int q = rem % dim; rem /= dim;
            oa += q * meta[rank + d]; ob += q * meta[2 * rank + d];
        }
        o[i] = L.Value(BinaryScalar<T, L>(op, L.Splat(a[oa]), L.Splat(b[ob])));
    }

    /// <summary>meta = [outDims, strideC, strideA, strideB].</summary>
    public static void Where<T, L>(Index1D i, ArrayView<T> c, ArrayView<T> a, ArrayView<T> b, ArrayView<T> o, ArrayView<int> meta, int rank)
        where T : unmanaged where L : struct, IGpuLane<L, T>
    {
        int rem = i, oc = 0, oa = 0, ob = 0;
        for (int d = rank - 1; d >= 0; d--)
        {
            int dim = meta[d];
            int q = rem % dim; rem /= dim;
            oc += q * meta[rank + d]; oa += q * meta[2 * rank + d]; ob += q * meta[3 * rank + d];
        }
        o[i] = L.Equal(L.Splat(c[oc]), L.FromDouble(0)) ? b[ob] : a[oa];
    }

    // ---------------------------------------------------------------- reductions over [outer, len, inner], one thread per output
    public static void Reduce<T, L>(Index1D i, ArrayView<T> x, ArrayView<T> o, int len, int inner, ReduceOp op)
        where T : unmanaged where L : struct, IGpuLane<L, T>
    {
        int outerIdx = i / inner, k = i - outerIdx * inner;
        int baseOff = outerIdx * len * inner + k;
        if (len == 0) { o[i] = L.Value(L.FromDouble(0)); return; }
        L best = L.Splat(x[baseOff]);
        if (op == ReduceOp.Sum)
        {
            for (int j = 1; j < len; j++) best += L.Splat(x[baseOff + j * inner]);
            o[i] = L.Value(best);
            return;
        }
        if (op is ReduceOp.Max or ReduceOp.Min)
        {
            for (int j = 1; j < len; j++)
            {
                L v = L.Splat(x[baseOff + j * inner]);
                if (L.IsNaN(v) || L.IsNaN(best)) best += v;
                else if (op == ReduceOp.Max ? v > best : v < best) best = v;
            }
            o[i] = L.Value(best);
            return;
        }
        int bi = 0;   // ArgMax, ArgMin: the first extreme, or the first NaN
        for (int j = 1; j < len; j++)
        {
            if (L.IsNaN(best)) break;
            L v = L.Splat(x[baseOff + j * inner]);
            if (L.IsNaN(v) || (op == ReduceOp.ArgMax ? v > best : v < best)) { best = v; bi = j; }
        }
        o[i] = L.Value(L.FromDouble(bi));
    }

    // ---------------------------------------------------------------- movement
    /// <summary>Expand and Permute: o[i] = x[sum_d idx_d * stride_d]; meta = [outDims, strides].</summary>
    public static void Strided<T>(Index1D i, ArrayView<T> x, ArrayView<T> o, ArrayView<int> meta, int rank) where T : unmanaged
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
    public static void Slice<T>(Index1D i, ArrayView<T> x, ArrayView<T> o, int len, int inner, int start, int count) where T : unmanaged
    {
        int block = count * inner;
        int r = i / block, w = i - r * block;
        o[i] = x[(r * len + start) * inner + w];
    }

    /// <summary>SliceAdd: dst[r, start + j, k] += src[r, j, k]; i runs over src.</summary>
    public static void SliceAdd<T, L>(Index1D i, ArrayView<T> dst, ArrayView<T> src, int len, int inner, int start, int count)
        where T : unmanaged where L : struct, IGpuLane<L, T>
    {
        int block = count * inner;
        int r = i / block, w = i - r * block;
        int at = (r * len + start) * inner + w;
        dst[at] = L.Value(L.Splat(dst[at]) + L.Splat(src[i]));
    }

    /// <summary>meta = [indexDims(rank), xStrides(rank)]; i runs over the index tensor.</summary>
    public static void Gather<T>(Index1D i, ArrayView<T> x, ArrayView<int> index, ArrayView<T> o, ArrayView<int> meta, int rank, int axis) where T : unmanaged
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
    public static void ScatterAdd<T, L>(Index1D i, ArrayView<T> x, ArrayView<int> index, ArrayView<T> src, ArrayView<int> meta, int rank, int axis)
        where T : unmanaged where L : struct, IGpuLane<L, T>
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
            int to = xOff + index[k] * xAxisStride;
            x[to] = L.Value(L.Splat(x[to]) + L.Splat(src[k]));
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
    public static void MatMul<T, L>(ArrayView<T> a, ArrayView<T> b, ArrayView<T> c, ArrayView<T> bias,
        int m, int n, int k, int flags, int strideA, int strideB, int strideC, int p)
        where T : unmanaged where L : struct, IGpuLane<L, T>
    {
        var As = SharedMemory.Allocate<T>(TileK * PanelStride);
        var Bs = SharedMemory.Allocate<T>(TileK * PanelStride);
        bool transA = (flags & 1) != 0, transB = (flags & 2) != 0, accumulate = (flags & 4) != 0, hasBias = (flags & 8) != 0;
        int tile = Reg * p, threads = p * p, panel = TileK * tile;
        int tx = Group.IdxX, ty = Group.IdxY;
        int row0 = Grid.IdxY * tile, col0 = Grid.IdxX * tile;
        int z = Grid.IdxZ;
        int aOff = z * strideA, bOff = z * strideB, cOff = z * strideC;
        int lda = transA ? m : k, ldb = transB ? k : n;
        int tid = ty * p + tx;
        L c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default,
          c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int k0 = 0; k0 < k; k0 += TileK)
        {
            for (int e = tid; e < panel; e += threads)
            {
                // A panel: row-major A is contiguous along k (consecutive threads take consecutive k), transposed A along rows.
                int ka = Depth(e, !transA, tile), ra = Across(e, !transA, tile);
                As[ka * PanelStride + ra] = Load(a, aOff, lda, !transA, row0 + ra, m, k0 + ka, k);
                // B panel: row-major B is contiguous along columns, transposed B along k.
                int kb = Depth(e, transB, tile), cb = Across(e, transB, tile);
                Bs[kb * PanelStride + cb] = Load(b, bOff, ldb, transB, col0 + cb, n, k0 + kb, k);
            }
            Group.Barrier();
            for (int kk = 0; kk < TileK; kk++)
            {
                int ao = kk * PanelStride + ty, bo = kk * PanelStride + tx;
                L a0 = L.Splat(As[ao]), a1 = L.Splat(As[ao + p]), a2 = L.Splat(As[ao + 2 * p]), a3 = L.Splat(As[ao + 3 * p]);
                L b0 = L.Splat(Bs[bo]), b1 = L.Splat(Bs[bo + p]), b2 = L.Splat(Bs[bo + 2 * p]), b3 = L.Splat(Bs[bo + 3 * p]);
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }
        int r0 = row0 + ty, r1 = r0 + p, r2 = r1 + p, r3 = r2 + p;
        int c0x = col0 + tx, c1x = c0x + p, c2x = c1x + p, c3x = c2x + p;
        Store<T, L>(c, bias, cOff, r0, c0x, m, n, c00, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r0, c1x, m, n, c01, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r0, c2x, m, n, c02, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r0, c3x, m, n, c03, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r1, c0x, m, n, c10, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r1, c1x, m, n, c11, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r1, c2x, m, n, c12, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r1, c3x, m, n, c13, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r2, c0x, m, n, c20, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r2, c1x, m, n, c21, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r2, c2x, m, n, c22, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r2, c3x, m, n, c23, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r3, c0x, m, n, c30, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r3, c1x, m, n, c31, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r3, c2x, m, n, c32, accumulate, hasBias);
        Store<T, L>(c, bias, cOff, r3, c3x, m, n, c33, accumulate, hasBias);
    }

    // Panel element e of a TileK x tile panel: its depth kk (along k) and its place across (a row of op(A), a column of
    // op(B)). alongK: the operand is contiguous along k, so consecutive e take consecutive k; else consecutive places.
    private static int Depth(int e, bool alongK, int tile) => alongK ? e % TileK : e / tile;
    private static int Across(int e, bool alongK, int tile) => alongK ? e / TileK : e % tile;

    /// <summary>op(src)'s element at place r, depth q: src[off + r*ld + q] when contiguous along k, else src[off + q*ld + r];
    /// zero outside [0, extent) x [0, k).</summary>
    private static T Load<T>(ArrayView<T> src, int off, int ld, bool alongK, int r, int extent, int q, int k) where T : unmanaged =>
        r < extent && q < k ? (alongK ? src[off + r * ld + q] : src[off + q * ld + r]) : default;

    private static void Store<T, L>(ArrayView<T> c, ArrayView<T> bias, int cOff, int r, int col, int m, int n, L v, bool accumulate, bool hasBias)
        where T : unmanaged where L : struct, IGpuLane<L, T>
    {
        if (r >= m || col >= n) return;
        int o = cOff + r * n + col;
        if (hasBias) v += L.Splat(bias[col]);
        c[o] = L.Value(accumulate ? L.Splat(c[o]) + v : v);
    }

    // ---------------------------------------------------------------- convolution (the CPU's CpuConv layout)
    /// <summary>im2col, transposed: col[(ch*K + ky)*K + kx, (b*Ho + oy)*Wo + ox] = x[b, ch, oy*S + ky - Pad, ox*S + kx - Pad]
    /// (0 outside the image); i runs over col [C*K*K, N*Ho*Wo].</summary>
    public static void Im2Col<T>(Index1D i, ArrayView<T> x, ArrayView<T> col, Conv2dShape g) where T : unmanaged
    {
        int np = g.N * g.Ho * g.Wo;
        int row = i / np, at = i - row * np;
        int kx = row % g.K, ky = row / g.K % g.K, ch = row / (g.K * g.K);
        int ox = at % g.Wo, oy = at / g.Wo % g.Ho, b = at / (g.Wo * g.Ho);
        int iy = oy * g.Stride + ky - g.Pad, ix = ox * g.Stride + kx - g.Pad;
        col[i] = iy >= 0 && iy < g.H && ix >= 0 && ix < g.W ? x[((b * g.C + ch) * g.H + iy) * g.W + ix] : default;
    }

    /// <summary>col2im, the adjoint of <see cref="Im2Col{T}"/>: dx[b, ch, iy, ix] = the sum of the patch entries taken from
    /// that pixel, in (ky, kx) order (the CPU's order, so the sums are the same); i runs over dx [N, C, H, W].</summary>
    public static void Col2Im<T, L>(Index1D i, ArrayView<T> dcol, ArrayView<T> dx, Conv2dShape g) where T : unmanaged where L : struct, IGpuLane<L, T>
    {
        int np = g.N * g.Ho * g.Wo;
        int ix = i % g.W, iy = i / g.W % g.H, ch = i / (g.W * g.H) % g.C, b = i / (g.W * g.H * g.C);
        L acc = L.FromDouble(0);
        for (int ky = 0; ky < g.K; ky++)
        {
            int ty = iy + g.Pad - ky;
            if (ty < 0 || ty % g.Stride != 0 || ty / g.Stride >= g.Ho) continue;
            for (int kx = 0; kx < g.K; kx++)
            {
                int tx = ix + g.Pad - kx;
                if (tx < 0 || tx % g.Stride != 0 || tx / g.Stride >= g.Wo) continue;
                acc += L.Splat(dcol[((ch * g.K + ky) * g.K + kx) * np + (b * g.Ho + ty / g.Stride) * g.Wo + tx / g.Stride]);
            }
        }
        dx[i] = L.Value(acc);
    }

    /// <summary>The forward's output from outT [Co, N*Ho*Wo]: y[b, o, q] = outT[o, b*Ho*Wo + q] (+ bias[o] when hasBias);
    /// i runs over y [N, Co, Ho*Wo].</summary>
    public static void ConvOut<T, L>(Index1D i, ArrayView<T> outT, ArrayView<T> bias, ArrayView<T> y, Conv2dShape g, int hasBias)
        where T : unmanaged where L : struct, IGpuLane<L, T>
    {
        int p = g.Ho * g.Wo;
        int q = i % p, o = i / p % g.Co, b = i / (p * g.Co);
        T v = outT[o * g.N * p + b * p + q];
        y[i] = hasBias != 0 ? L.Value(L.Splat(v) + L.Splat(bias[o])) : v;
    }

    // ---------------------------------------------------------------- in place and fused
    public static void Axpy<T, L>(Index1D i, ArrayView<T> dst, ArrayView<T> src, T alpha) where T : unmanaged where L : struct, IGpuLane<L, T> =>
        dst[i] = L.Value(L.Splat(dst[i]) + L.Splat(alpha) * L.Splat(src[i]));

    public static void Fill<T>(Index1D i, ArrayView<T> dst, T value) where T : unmanaged => dst[i] = value;

    public static void Scale<T, L>(Index1D i, ArrayView<T> dst, T alpha) where T : unmanaged where L : struct, IGpuLane<L, T> =>
        dst[i] = L.Value(L.Splat(dst[i]) * L.Splat(alpha));

    /// <summary>One thread per row: y = x - max - log(sum(exp(x - max))).</summary>
    public static void LogSoftmax<T, L>(Index1D r, ArrayView<T> x, ArrayView<T> y, int cols) where T : unmanaged where L : struct, IGpuLane<L, T>
    {
        int o = r * cols;
        L max = L.Splat(x[o]);
        for (int j = 1; j < cols; j++) { L v = L.Splat(x[o + j]); if (L.IsNaN(v) || v > max) max = v; }
        if (L.IsInfinity(max)) max = L.FromDouble(0);
        L s = L.FromDouble(0);
        for (int j = 0; j < cols; j++) s += L.Exp(L.Splat(x[o + j]) - max);
        L lse = L.Log(s);
        for (int j = 0; j < cols; j++) y[o + j] = L.Value(L.Splat(x[o + j]) - max - lse);
    }

    /// <summary>dx = g - exp(y) * sum(g), one thread per row.</summary>
    public static void LogSoftmaxBackward<T, L>(Index1D r, ArrayView<T> y, ArrayView<T> g, ArrayView<T> dx, int cols)
        where T : unmanaged where L : struct, IGpuLane<L, T>
    {
        int o = r * cols;
        L s = L.FromDouble(0);
        for (int j = 0; j < cols; j++) s += L.Splat(g[o + j]);
        for (int j = 0; j < cols; j++) dx[o + j] = L.Value(L.Splat(g[o + j]) - L.Exp(L.Splat(y[o + j])) * s);
    }

    /// <summary>Elements taken by one thread of <see cref="Partials{T, L}"/>.</summary>
    public const int SquaresChunk = 256;

    /// <summary>One chunk's partial in double of op over a (and b), one thread per chunk of <see cref="SquaresChunk"/>
    /// elements, in order: sum a*b (a = b: the sum of squares), sum a, sum (a - b)^2 (the difference in double) or
    /// max |a| (NaN when the chunk holds one).</summary>
    public static void Partials<T, L>(Index1D i, ArrayView<T> a, ArrayView<T> b, ArrayView<double> partial, int length, PartialOp op)
        where T : unmanaged where L : struct, IGpuLane<L, T>
    {
        double s = 0;
        bool nan = false;
        int end = XMath.Min(length, (i + 1) * SquaresChunk);
        for (int j = i * SquaresChunk; j < end; j++)
        {
            L v = L.Splat(a[j]);
            double x = L.ToDouble(v);
            switch (op)
            {
                case PartialOp.Products: s += x * L.ToDouble(L.Splat(b[j])); break;
                case PartialOp.Values: s += x; break;
                case PartialOp.SquaredDifferences: { double d = x - L.ToDouble(L.Splat(b[j])); s += d * d; break; }
                default: { nan |= L.IsNaN(v); double m = XMath.Abs(x); if (m > s) s = m; break; }   // MaxAbs
            }
        }
        partial[i] = nan ? double.NaN : s;
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

    /// <summary>y = x widened to double (exact).</summary>
    public static void ToDouble<T, L>(Index1D i, ArrayView<T> x, ArrayView<double> y) where T : unmanaged where L : struct, IGpuLane<L, T> =>
        y[i] = L.ToDouble(L.Splat(x[i]));

    /// <summary>y = x rounded to T (nearest).</summary>
    public static void FromDouble<T, L>(Index1D i, ArrayView<double> x, ArrayView<T> y) where T : unmanaged where L : struct, IGpuLane<L, T> =>
        y[i] = L.Value(L.FromDouble(x[i]));
}

/// <summary>What one <see cref="Kernels.Partials{T, L}"/> chunk computes.</summary>
internal enum PartialOp
{
    /// <summary>sum a*b</summary>
    Products,
    /// <summary>sum a</summary>
    Values,
    /// <summary>sum (a - b)^2</summary>
    SquaredDifferences,
    /// <summary>max |a|</summary>
    MaxAbs,
}
