// IlgpuBackend's matrix products: batched MatMul, accumulating MatMul, Linear, and Conv2d as im2col + GEMM, all on
// the register-blocked GEMM kernel (Kernels.MatMul).
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

    /// <inheritdoc/>
    public Storage Conv2d(Storage x, Storage w, Storage? bias, Conv2dShape s, bool keepPatches, out Storage? patches)
    {
        s.Check(x, w, bias);
        var gx = S(x); var gw = S(w); var gb = bias is null ? null : S(bias);
        patches = null;
        if (s.N == 0) return New(gx.DType, 0);
        var k = K(gx.DType);
        var col = Temp(gx.DType, s.PatchRows * s.PatchCols);
        k.Im2Col(gx, col, s);
        var outT = Temp(gx.DType, s.Co * s.PatchCols);
        Gemm(outT, gw, col, null, 1, s.Co, s.PatchRows, s.PatchCols, false, false, 0, 0, 0, accumulate: false);   // W @ colT
        var y = New(gx.DType, s.N * s.Co * s.Ho * s.Wo);
        k.ConvOut(outT, gb, y, s);
        Release(outT);
        if (keepPatches) patches = col; else Release(col);
        Sync();
        return y;
    }

    /// <inheritdoc/>
    public (Storage? Dx, Storage? Dw, Storage? Db) Conv2dBackward(Storage g, Storage x, Storage w, Storage? patches, Conv2dShape s,
        bool needDx, bool needDw, bool needDb)
    {
        s.Check(x, w, null);
        var gg = S(g); var gx = S(x); var gw = S(w);
        var dtype = gx.DType;
        var k = K(dtype);
        int np = s.PatchCols, p = s.Ho * s.Wo;
        if (s.N == 0) return (needDx ? New(dtype, 0) : null, needDw ? Full(dtype, s.Co * s.PatchRows, 0) : null, needDb ? Full(dtype, s.Co, 0) : null);
        var col = patches is null ? null : S(patches);
        if (col is null && needDw) { col = Temp(dtype, s.PatchRows * np); k.Im2Col(gx, col, s); }   // a retained graph's second backward
        var gT = Temp(dtype, s.Co * np);
        k.Strided(gT.Length, gg, gT, _ints.Meta([s.Co, s.N, p, p, s.Co * p, 1]), 3);   // [N, Co, P] -> [Co, N*P]
        IlgpuStorage? dw = null, db = null, dx = null;
        if (needDw)
        {
            dw = New(dtype, s.Co * s.PatchRows);
            Gemm(dw, gT, col!, null, 1, s.Co, np, s.PatchRows, false, true, 0, 0, 0, accumulate: false);   // gT @ colT^T
        }
        if (needDb)
        {
            db = New(dtype, s.Co);
            k.Reduce(s.Co, gT, db, np, 1, ReduceOp.Sum);
        }
        if (needDx)
        {
            var dcol = Temp(dtype, s.PatchRows * np);
            Gemm(dcol, gw, gT, null, 1, s.PatchRows, s.Co, np, true, false, 0, 0, 0, accumulate: false);   // W^T @ gT
            dx = New(dtype, s.N * s.C * s.H * s.W);
            k.Col2Im(dcol, dx, s);
            Release(dcol);
        }
        Release(gT);
        if (col is not null) Release(col);   // the forward's patches are taken over here
        Sync();
        return (dx, dw, db);
    }

    /// <summary>A device buffer outside every scope, for a temporary that goes back to the pool by <see cref="Release"/>
    /// as soon as the launches that use it are queued (the stream runs the next user's work after them).</summary>
    private IlgpuStorage Temp(DType dtype, int length) => new(this, dtype, length, Pool.Rent(dtype, length));
}
