// Tensor.MatMul: 2-D and batched matrix products on the backend's GEMM, and the fused Linear.
namespace Tiny;

public sealed partial class Tensor
{
    /// <summary>
    /// Matrix product like torch.matmul: [m,k]@[k,n], batched [...,m,k]@[...,k,n] (equal batch dims, or one side
    /// 2-D), and 1-D operands treated as a row/column vector.
    /// </summary>
    public Tensor MatMul(Tensor b)
    {
        var a = this;
        a.CheckSameDevice(b, "MatMul");
        if (a.Rank == 0 || b.Rank == 0) throw new ArgumentException($"MatMul: scalar operand ({a.Shape} x {b.Shape})");
        if (a.Rank == 1) return a.Unsqueeze(0).MatMul(b).Squeeze(-2);
        if (b.Rank == 1) return a.MatMul(b.Unsqueeze(1)).Squeeze(-1);
        int m = a.Shape[-2], k = a.Shape[-1], k2 = b.Shape[-2], n = b.Shape[-1];
        if (k != k2) throw new ArgumentException($"MatMul: {a.Shape} x {b.Shape}: inner dims {k} != {k2}");
        var aBatch = a.Shape.ToArray()[..^2];
        var bBatch = b.Shape.ToArray()[..^2];
        int[] batchDims;
        if (aBatch.Length == 0) batchDims = bBatch;
        else if (bBatch.Length == 0) batchDims = aBatch;
        else if (aBatch.AsSpan().SequenceEqual(bBatch)) batchDims = aBatch;
        else throw new ArgumentException($"MatMul: {a.Shape} x {b.Shape}: batch dims differ (use equal batch dims or a 2-D operand)");
        int batch = 1;
        foreach (int d in batchDims) batch *= d;
        int sA = aBatch.Length == 0 ? 0 : m * k, sB = bBatch.Length == 0 ? 0 : k * n;
        var os = new Shape([.. batchDims, m, n]);
        var r = new Tensor(a.Backend.MatMul(a.Storage, b.Storage, batch, m, k, n, false, false, sA, sB), os);
        return Record(r, "MatMul", g =>
        {
            if (a._requiresGrad)
            {
                // dA = G @ B^T (summed over the batch when A was broadcast: strideC 0)
                var da = a.Backend.Allocate(a.DType, a.Numel);
                a.Backend.MatMulAddInPlace(da, g.Storage, b.Storage, batch, m, n, k, false, true, m * n, sB, sA);
                a.AccumulateGrad(new Tensor(da, a.Shape));
            }
            if (b._requiresGrad)
            {
                // dB = A^T @ G
                var db = b.Backend.Allocate(b.DType, b.Numel);
                b.Backend.MatMulAddInPlace(db, a.Storage, g.Storage, batch, k, m, n, true, false, sA, m * n, sB);
                b.AccumulateGrad(new Tensor(db, b.Shape));
            }
        }, a, b);
    }

    /// <summary>
    /// y = x @ W^T + b for x [..., in], W [out, in], b [out] or null: one fused GEMM, like torch.nn.functional.linear.
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null) => Linear(x, weight, bias, relu: false);

    /// <summary>
    /// y = relu(x @ W^T + b): <see cref="Linear(Tensor, Tensor, Tensor?)"/> then <see cref="Relu"/> as one op, the
    /// same values and gradients (Sequential runs a Linear followed by a ReLU this way). The ReLU is applied in place
    /// on the product, and the backward masks the gradient and sums the bias gradient in one pass (the mask y &gt; 0
    /// is the input's x W^T + b &gt; 0, so the pre-activation is not kept).
    /// </summary>
    public static Tensor LinearRelu(Tensor x, Tensor weight, Tensor? bias = null) => Linear(x, weight, bias, relu: true);

    private static Tensor Linear(Tensor x, Tensor weight, Tensor? bias, bool relu)
    {
        if (weight.Rank != 2) throw new ArgumentException($"Linear: weight must be 2-D [out, in], got {weight.Shape}");
        int outF = weight.Shape[0], inF = weight.Shape[1];
        if (x.Rank == 0 || x.Shape[-1] != inF) throw new ArgumentException($"Linear: input {x.Shape} x weight {weight.Shape}: last dim of input must be {inF}");
        x.CheckSameDevice(weight, "Linear");
        if (bias is not null)
        {
            x.CheckSameDevice(bias, "Linear");
            if (bias.Rank != 1 || bias.Shape[0] != outF) throw new ArgumentException($"Linear: bias {bias.Shape} must be [{outF}] for weight {weight.Shape}");
        }
        int rows = x.Numel / Math.Max(1, inF);
        var od = x.Shape.ToArray();
        od[^1] = outF;
        var be = x.Backend;
        var ys = relu ? be.LinearRelu(x.Storage, weight.Storage, bias?.Storage, rows, inF, outF) : be.Linear(x.Storage, weight.Storage, bias?.Storage, rows, inF, outF);
        var y = new Tensor(ys, new Shape(od));
        Tensor[] parents = bias is null ? [x, weight] : [x, weight, bias];
        return Record(y, relu ? "LinearRelu" : "Linear", g =>
        {
            bool needDb = bias is not null && bias._requiresGrad;
            Storage gs = g.Storage;
            Storage? db = null;
            if (relu) (gs, db) = be.ReluBackwardSums(y.Storage, gs, rows, outF, needDb);   // gz = g * (y > 0) and its column sums
            if (x._requiresGrad)   // dx = G @ W
                x.AccumulateGrad(new Tensor(be.MatMul(gs, weight.Storage, 1, rows, outF, inF, false, false, 0, 0), x.Shape));
            if (weight._requiresGrad)   // dW = G^T @ x
                weight.AccumulateGrad(new Tensor(be.MatMul(gs, x.Storage, 1, outF, rows, inF, true, false, 0, 0), weight.Shape));
            if (needDb)   // db = sum over rows of G
                bias!.AccumulateGrad(new Tensor(db ?? be.Reduce(ReduceOp.Sum, gs, new Shape(rows, outF), 0), bias.Shape));
        }, parents);
    }

    /// <summary>log_softmax over dim (fused kernel on the last dim).</summary>
    public Tensor LogSoftmax(int dim = -1)
    {
        int ax = Shape.NormalizeAxis(dim, "LogSoftmax");
        if (ax != Rank - 1) return Sub(LogSumExp(ax, keepDim: true));
        int cols = Shape[-1], rows = Numel / Math.Max(1, cols);
        var y = new Tensor(Backend.LogSoftmax(Storage, rows, cols), Shape);
        return Record(y, "LogSoftmax", g => AccumulateGrad(new Tensor(Backend.LogSoftmaxBackward(y.Storage, g.Storage, rows, cols), Shape)), this);
    }

    /// <summary>softmax over dim.</summary>
    public Tensor Softmax(int dim = -1) => LogSoftmax(dim).Exp();
}
