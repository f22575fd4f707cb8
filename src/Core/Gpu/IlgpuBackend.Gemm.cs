// IlgpuBackend's matrix products: batched MatMul, accumulating MatMul and Linear, all on the register-blocked GEMM
// kernel (Kernels.MatMul).
using ILGPU;
using ILGPU.Runtime;

namespace Tiny.Gpu;

public sealed partial class IlgpuBackend
{
    private readonly int _groupSide; // matmul groups are p x p threads

    /// <inheritdoc/>
    public Storage MatMul(Storage a, Storage b, int batch, int m, int k, int n, bool transA, bool transB, int strideA, int strideB)
    {
        SameType(a, b, "MatMul");
        var c = New(a.DType, batch * m * n);
        Gemm(c, S(a), S(b), null, batch, m, k, n, transA, transB, strideA, strideB, m * n, accumulate: false);
        Sync();
        return c;
    }

    /// <inheritdoc/>
    public void MatMulAddInPlace(Storage c, Storage a, Storage b, int batch, int m, int k, int n, bool transA, bool transB, int strideA, int strideB, int strideC)
    {
        SameType(a, b, "MatMul");
        SameType(c, a, "MatMul");
        Gemm(S(c), S(a), S(b), null, batch, m, k, n, transA, transB, strideA, strideB, strideC, accumulate: true);
        Sync();
        c.BumpVersion();
    }

    /// <inheritdoc/>
    public Storage Linear(Storage x, Storage w, Storage? bias, int rows, int inF, int outF)
    {
        SameType(x, w, "Linear");
        var y = New(x.DType, rows * outF);
        Gemm(y, S(x), S(w), bias is null ? null : S(bias), 1, rows, inF, outF, false, true, 0, 0, 0, accumulate: false);
        Sync();
        return y;
    }

    private void Gemm(IlgpuStorage c, IlgpuStorage a, IlgpuStorage b, IlgpuStorage? bias, int batch, int m, int k, int n,
        bool transA, bool transB, int strideA, int strideB, int strideC, bool accumulate)
    {
        if (batch == 0 || m == 0 || n == 0) return;
        int flags = (transA ? 1 : 0) | (transB ? 2 : 0) | (accumulate ? 4 : 0) | (bias is not null ? 8 : 0);
        int p = _groupSide, tile = Kernels.Reg * p; // 4p x 4p C tile per p x p group, 4x4 outputs per thread
        var cfg = new KernelConfig(new Index3D((n + tile - 1) / tile, (m + tile - 1) / tile, batch), new Index3D(p, p, 1));
        K(c.DType).MatMul(cfg, a, b, c, bias ?? c, m, n, k, flags, strideA, strideB, strideC, p);
    }
}
