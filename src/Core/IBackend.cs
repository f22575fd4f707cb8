// IBackend: the one seam between tensors and the hardware; every op a tensor does is one of these primitives.
namespace Tiny;

/// <summary>Elementwise unary ops. Parameterised ones read the scalars a and b.</summary>
public enum UnaryOp
{
    /// <summary>x (a copy)</summary>
    Copy,
    /// <summary>-x</summary>
    Neg,
    /// <summary>e^x</summary>
    Exp,
    /// <summary>ln x (NaN for x &lt; 0, -inf at 0)</summary>
    Log,
    /// <summary>sqrt(x)</summary>
    Sqrt,
    /// <summary>|x|</summary>
    Abs,
    /// <summary>tanh(x), torch's SLEEF u10 algorithm on the CPU</summary>
    Tanh,
    /// <summary>1 / (1 + e^-x)</summary>
    Sigmoid,
    /// <summary>max(x, 0)</summary>
    Relu,
    /// <summary>-1, 0 or 1 by the sign of x (NaN stays NaN)</summary>
    Sign,
    /// <summary>x * x</summary>
    Square,
    /// <summary>1 / x</summary>
    Reciprocal,
    /// <summary>sin(x), x in radians</summary>
    Sin,
    /// <summary>cos(x), x in radians</summary>
    Cos,
    /// <summary>x + a</summary>
    AddScalar,
    /// <summary>x * a</summary>
    MulScalar,
    /// <summary>x ^ a</summary>
    PowScalar,
    /// <summary>clamp(x, a, b)</summary>
    Clamp,
    /// <summary>1 where lo &lt;= x &lt;= hi (a, b), else 0: the gradient mask of Clamp</summary>
    InRange,
}

/// <summary>Elementwise binary ops with NumPy broadcasting. Comparisons give 1 or 0.</summary>
public enum BinaryOp
{
    /// <summary>a + b</summary>
    Add,
    /// <summary>a - b</summary>
    Sub,
    /// <summary>a * b</summary>
    Mul,
    /// <summary>a / b</summary>
    Div,
    /// <summary>max(a, b); NaN if either is NaN</summary>
    Max,
    /// <summary>min(a, b); NaN if either is NaN</summary>
    Min,
    /// <summary>a ^ b</summary>
    Pow,
    /// <summary>1 where a == b, else 0</summary>
    Eq,
    /// <summary>1 where a != b, else 0</summary>
    Ne,
    /// <summary>1 where a &gt; b, else 0</summary>
    Gt,
    /// <summary>1 where a &gt;= b, else 0</summary>
    Ge,
    /// <summary>1 where a &lt; b, else 0</summary>
    Lt,
    /// <summary>1 where a &lt;= b, else 0</summary>
    Le,
    /// <summary>g * (x &gt; 0): ReLU backward from the input x (a) and the gradient g (b).</summary>
    ReluBackward,
    /// <summary>g * (1 - y^2): tanh backward from the output y (a) and g (b).</summary>
    TanhBackward,
    /// <summary>g * y * (1 - y): sigmoid backward from the output y (a) and g (b).</summary>
    SigmoidBackward,
}

/// <summary>Reductions over one axis. ArgMax/ArgMin return indices stored as the tensor's float type.</summary>
public enum ReduceOp
{
    /// <summary>Sum of the elements along the axis.</summary>
    Sum,
    /// <summary>Largest element along the axis (NaN if any is NaN).</summary>
    Max,
    /// <summary>Smallest element along the axis (NaN if any is NaN).</summary>
    Min,
    /// <summary>Index of the first largest element along the axis (of the first NaN if there is one).</summary>
    ArgMax,
    /// <summary>Index of the first smallest element along the axis (of the first NaN if there is one).</summary>
    ArgMin,
}

/// <summary>The geometry of a 2-D convolution over NCHW tensors: N images of C channels, H x W pixels, a square K x K
/// kernel to Co channels, the stride and the zero padding on each side.</summary>
public readonly record struct Conv2dShape(int N, int C, int H, int W, int Co, int K, int Stride, int Pad)
{
    /// <summary>Output height, (H + 2 Pad - K) / Stride + 1 (floor).</summary>
    public int Ho => (H + 2 * Pad - K) / Stride + 1;
    /// <summary>Output width, (W + 2 Pad - K) / Stride + 1 (floor).</summary>
    public int Wo => (W + 2 * Pad - K) / Stride + 1;
    /// <summary>Rows of the patch matrix, C*K*K.</summary>
    public int PatchRows => C * K * K;
    /// <summary>Columns of the patch matrix, N*Ho*Wo.</summary>
    public int PatchCols => N * Ho * Wo;

    /// <summary>Throws ArgumentException unless x, w and bias have this geometry's lengths and one dtype.</summary>
    internal void Check(Storage x, Storage w, Storage? bias)
    {
        if (w.DType != x.DType || bias is not null && bias.DType != x.DType)
            throw new ArgumentException($"Conv2d: dtype mismatch: x {x.DType.Name()}, weight {w.DType.Name()}{(bias is null ? "" : $", bias {bias.DType.Name()}")}");
        if (x.Length != N * C * H * W || w.Length != Co * PatchRows || bias is not null && bias.Length != Co)
            throw new ArgumentException($"Conv2d: storages of {x.Length}, {w.Length}{(bias is null ? "" : $", {bias.Length}")} elements do not fit {this}");
    }
}

/// <summary>
/// The primitives a device must implement. Storages are contiguous and row-major; shapes are passed alongside.
/// Every method returns a new storage unless its name says InPlace.
/// </summary>
public interface IBackend
{
    /// <summary>Short name for messages (cpu, cuda:0, ...).</summary>
    string Name { get; }

    /// <summary>The device this backend serves.</summary>
    Device Device { get; }

    // creation and transfer
    /// <summary>A new storage of length zeros.</summary>
    Storage Allocate(DType dtype, int length);
    /// <summary>A new storage of length elements, each value rounded to dtype.</summary>
    Storage Full(DType dtype, int length, double value);
    /// <summary>A float32 storage holding a copy of data.</summary>
    Storage FromArray(float[] data);
    /// <summary>A float64 storage holding a copy of data.</summary>
    Storage FromArray(double[] data);
    /// <summary>A host copy of s as float32 (float64 elements are rounded); waits for the device.</summary>
    float[] ToFloatArray(Storage s);
    /// <summary>A host copy of s as float64 (float32 elements are widened exactly); waits for the device.</summary>
    double[] ToDoubleArray(Storage s);
    /// <summary>Copies s into dst on the host (dst has s's length, T is s's element type); waits for the device.</summary>
    void CopyToHost<T>(Storage s, Span<T> dst) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>;
    /// <summary>Overwrites dst with src from the host (src has dst's length, T is dst's element type).</summary>
    void CopyFromHost<T>(Storage dst, ReadOnlySpan<T> src) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>;
    /// <summary>Element index of s, widened to double; waits for the device.</summary>
    double GetItem(Storage s, int index);
    /// <summary>A copy of s converted to dtype (a plain copy when it already has that type).</summary>
    Storage Cast(Storage s, DType dtype);
    /// <summary>length draws from U[low, high) taken from rng in order on the CPU (the same numbers on every device).</summary>
    Storage Uniform(DType dtype, int length, double low, double high, Rng rng);
    /// <summary>length draws from N(mean, std^2) taken from rng in order on the CPU (the same numbers on every device).</summary>
    Storage Normal(DType dtype, int length, double mean, double std, Rng rng);

    // elementwise
    /// <summary>op applied to every element of x; a and b are the scalar parameters of the ops that take them.</summary>
    Storage Unary(UnaryOp op, Storage x, double a = 0, double b = 0);
    /// <summary>op applied elementwise to a and b, both broadcast (NumPy rules) to outShape.</summary>
    Storage Binary(BinaryOp op, Storage a, Shape aShape, Storage b, Shape bShape, Shape outShape);
    /// <summary>out = cond != 0 ? a : b elementwise, all three broadcast to outShape.</summary>
    Storage Where(Storage cond, Shape condShape, Storage a, Shape aShape, Storage b, Shape bShape, Shape outShape);

    // reductions: output has xShape with axis removed
    /// <summary>op over one axis of x (xShape); the result has xShape without that axis.</summary>
    Storage Reduce(ReduceOp op, Storage x, Shape xShape, int axis);
    /// <summary>Sums a broadcast gradient g (gShape) back to targetShape (same rank after left-padding with 1s).</summary>
    Storage SumToShape(Storage g, Shape gShape, Shape targetShape);

    // movement
    /// <summary>x broadcast (materialised) to outShape: size-1 and missing leading dimensions repeat.</summary>
    Storage Expand(Storage x, Shape xShape, Shape outShape);
    /// <summary>x with its axes reordered: output axis i is input axis perm[i] (a contiguous copy).</summary>
    Storage Permute(Storage x, Shape xShape, int[] perm);
    /// <summary>The elements start .. start+length-1 of x along axis, as a contiguous copy.</summary>
    Storage Slice(Storage x, Shape xShape, int axis, int start, int length);
    /// <summary>Writes src (srcShape) into dst (dstShape) at offset start along axis, adding to what is there.</summary>
    void SliceAddInPlace(Storage dst, Shape dstShape, int axis, int start, Storage src, Shape srcShape);
    /// <summary>torch.gather: out[i][j] = x[i][index[i][j]] along axis; index has the output's shape.</summary>
    Storage Gather(Storage x, Shape xShape, int axis, int[] index, Shape indexShape);
    /// <summary>Backward of Gather: out (xShape, zeros) gets src added at the gathered positions.</summary>
    Storage ScatterAdd(Shape xShape, DType dtype, int axis, int[] index, Shape indexShape, Storage src);

    // linear algebra: C[b] = op(A[b]) @ op(B[b]); a batch stride of 0 broadcasts that operand
    /// <summary>Batched matrix product C[i] = op(A[i]) @ op(B[i]) for i &lt; batch: op(A) is [m, k], op(B) is [k, n], C is a new
    /// [batch, m, n]; op transposes when transA/transB is set; strideA/strideB are the elements between consecutive
    /// matrices (0 broadcasts one matrix to the whole batch).</summary>
    Storage MatMul(Storage a, Storage b, int batch, int m, int k, int n, bool transA, bool transB, int strideA, int strideB);
    /// <summary>c += op(A) @ op(B) for one matrix pair (used by backward passes to accumulate).</summary>
    void MatMulAddInPlace(Storage c, Storage a, Storage b, int batch, int m, int k, int n, bool transA, bool transB, int strideA, int strideB, int strideC);

    // convolution
    /// <summary>Conv2d forward: y [N, Co, Ho, Wo] = w [Co, C, K, K] (*) x [N, C, H, W] (+ bias [Co]), all of one dtype.
    /// With keepPatches, patches is x unfolded, [C*K*K, N*Ho*Wo] (im2col, transposed), for the backward; else null.</summary>
    Storage Conv2d(Storage x, Storage w, Storage? bias, Conv2dShape s, bool keepPatches, out Storage? patches);

    /// <summary>Conv2d backward from g = dL/dy [N, Co, Ho, Wo]: dx (col2im of w^T g), dw (g against the patches) and db
    /// (g summed over N, Ho and Wo), each only when asked for (null otherwise). patches: the forward's, taken over (its
    /// memory is reused after this call), or null to unfold x again.</summary>
    (Storage? Dx, Storage? Dw, Storage? Db) Conv2dBackward(Storage g, Storage x, Storage w, Storage? patches, Conv2dShape s,
        bool needDx, bool needDw, bool needDb);

    // in place (updates, gradient accumulation)
    /// <summary>dst += alpha * src (same length).</summary>
    void AxpyInPlace(Storage dst, Storage src, double alpha);
    /// <summary>Sets every element of dst to value.</summary>
    void FillInPlace(Storage dst, double value);
    /// <summary>Copies src into dst (same dtype and length).</summary>
    void CopyInPlace(Storage dst, Storage src);
    /// <summary>dst *= alpha.</summary>
    void ScaleInPlace(Storage dst, double alpha);

    // fused kernels
    /// <summary>log_softmax over the last axis of a [rows, cols] view.</summary>
    Storage LogSoftmax(Storage x, int rows, int cols);
    /// <summary>Backward of log_softmax: g - softmax * sum(g) per row, from the output y = log_softmax.</summary>
    Storage LogSoftmaxBackward(Storage y, Storage g, int rows, int cols);
    /// <summary>y = x @ W^T + bias (bias may be null) for x [rows, inF], W [outF, inF].</summary>
    Storage Linear(Storage x, Storage w, Storage? bias, int rows, int inF, int outF);

    /// <summary>y = relu(x @ W^T + bias): <see cref="Linear"/> then ReLU, the same bits; a backend may fuse them (the
    /// CPU applies the ReLU in place on the product: one buffer, no second pass over a fresh one).</summary>
    Storage LinearRelu(Storage x, Storage w, Storage? bias, int rows, int inF, int outF) =>
        Unary(UnaryOp.Relu, Linear(x, w, bias, rows, inF, outF));

    /// <summary>The backward of ReLU from its output y and the gradient g, both [rows, cols]: gz = g * (y &gt; 0) (y &gt; 0
    /// exactly where the input was), and, when withSums, the column sums of gz (the bias gradient of the Linear
    /// before it) as <see cref="Reduce"/> sums axis 0. A backend may compute both in one pass (the CPU does).</summary>
    (Storage Gz, Storage? Sums) ReluBackwardSums(Storage y, Storage g, int rows, int cols, bool withSums) =>
        UnfusedReluBackwardSums(this, y, g, rows, cols, withSums);

    /// <summary><see cref="ReluBackwardSums"/> as two ops (Binary, then Reduce over axis 0): the default, and the
    /// CPU's path where its fused row pass would sum in another order.</summary>
    internal static (Storage Gz, Storage? Sums) UnfusedReluBackwardSums(IBackend be, Storage y, Storage g, int rows, int cols, bool withSums)
    {
        var shape = new Shape(rows, cols);
        var gz = be.Binary(BinaryOp.ReluBackward, y, shape, g, shape, shape);
        return (gz, withSums ? be.Reduce(ReduceOp.Sum, gz, shape, 0) : null);
    }
    /// <summary>Sum of squares of all elements, accumulated in double.</summary>
    double SumSquares(Storage x);
    /// <summary>SumSquares of each storage, with one wait for the device for all of them (gradient clipping).</summary>
    double[] SumSquaresEach(IReadOnlyList<Storage> xs);

    /// <summary>The 2-norm of each storage, with one wait for the device for all of them: on the CPU in the storage's
    /// dtype and torch 1.13's summation order (bit-equal to torch's x.norm()), on a device the square root of
    /// <see cref="SumSquaresEach"/> (double partial sums in a fixed order).</summary>
    double[] L2NormEach(IReadOnlyList<Storage> xs);

    // whole-storage statistics read back to the host (the divergence check, clipping, an optimizer's internals)
    /// <summary>x.pow(2).sum() of each storage, with one wait for the device for all of them: on the CPU in the storage's
    /// dtype and torch 1.13's cascade-sum order (bit-equal to torch's), on a device <see cref="SumSquaresEach"/>.</summary>
    double[] TorchSumSquaresEach(IReadOnlyList<Storage> xs);

    /// <summary>max |x| of each storage (NaN when it holds a NaN, 0 when it is empty), with one wait for the device for
    /// all of them: finite exactly when the storage holds no NaN and no infinity.</summary>
    double[] MaxAbsEach(IReadOnlyList<Storage> xs);

    /// <summary>sum g^2, sum d^2, sum p^2 and sum d*g of each triple (one dtype, one length), the elements widened to
    /// double and summed in double, with one wait for the device for all of them (on the CPU one pass over the three).</summary>
    (double GG, double DD, double PP, double DG)[] MomentsEach(IReadOnlyList<(Storage G, Storage D, Storage P)> xs);

    /// <summary>The sum of x's elements, widened to double and summed in double.</summary>
    double Sum(Storage x);

    /// <summary>sum (a - b)^2 over a and b (one dtype, one length), the differences and their squares in double (no
    /// cancellation however close a and b are).</summary>
    double SquaredDistance(Storage a, Storage b);

    /// <summary>The counting pre-pass of <see cref="FusedMap{TMap, TCount, T}"/> alone: the number of elements where count,
    /// run over copies of the lanes of x, y and the states (nothing is stored; r is 0), leaves x &gt; 0 (false for NaN).
    /// Exact on every backend; waits for the device. A share of elements meeting an elementwise condition, written once
    /// as a map.</summary>
    long CountPositive<TCount, T>(in TCount count, Storage x, Storage y, ReadOnlySpan<Storage?> states)
        where TCount : unmanaged, IFusedMap<TCount, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>;

    /// <summary>Runs a fused elementwise map (an update rule written over ILane) as one pass over x (read and written),
    /// y (read) and up to four state buffers (read and written; a null entry is an unused slot), all of one dtype T
    /// and one length, after the
    /// declared per-tensor reduction. On a GPU: one kernel launch (plus the reduction's), queued like any op.</summary>
    void FusedMap<TMap, T>(in TMap c, Storage x, Storage y, ReadOnlySpan<Storage?> states, PrePass pre = PrePass.None)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>;

    /// <summary>FusedMap after a counting pre-pass: first <paramref name="count"/>, a second map, runs over copies of the
    /// same lanes (its writes are discarded, r is 0) and the backend counts the elements where it leaves x &gt; 0 (false
    /// for NaN); then c runs with r = that count, rounded to T. For a per-tensor statistic of an elementwise condition on
    /// values the map computes first (the fraction of elements where a recomputed update and y agree in sign). The
    /// count is exact (an integer) on every backend; a GPU keeps it on the device.</summary>
    void FusedMap<TMap, TCount, T>(in TMap c, in TCount count, Storage x, Storage y, ReadOnlySpan<Storage?> states)
        where TMap : unmanaged, IFusedMap<TMap, T> where TCount : unmanaged, IFusedMap<TCount, T>
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>;
}

/// <summary>The argument checks of every backend's host copies.</summary>
internal static class HostCopy
{
    /// <summary>Throws ArgumentException unless s holds length elements of type T.</summary>
    public static void Check<T>(Storage s, int length, string op)
    {
        var t = typeof(T) == typeof(float) ? DType.Float32 : typeof(T) == typeof(double) ? DType.Float64
            : throw new ArgumentException($"{op}: element type {typeof(T).Name} is not float or double");
        if (s.DType != t) throw new ArgumentException($"{op}: the storage is {s.DType.Name()}, the host span {t.Name()}");
        if (s.Length != length) throw new ArgumentException($"{op}: the storage has {s.Length} elements, the host span {length}");
    }
}
