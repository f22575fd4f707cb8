// BackendSuite: every IBackend primitive at tiny sizes, held equal to CpuBackend; derived once per backend.
using ILGPU.Runtime.CPU;
using NUnit.Framework;
using Tiny.Cpu;
using Tiny.Gpu;

namespace Tiny.Tests.Gpu;

public abstract class BackendSuite
{
    /// <summary>The backend under test.</summary>
    protected abstract IBackend Backend { get; }

    private static readonly IBackend Ref = CpuBackend.Instance;
    private static readonly DType[] Types = [DType.Float32, DType.Float64];

    // ------------------------------------------------------------ helpers
    private static double[] Data(int n, int seed, double lo = -2, double hi = 2, bool quantize = false)
    {
        var rng = new Rng(seed);
        var d = new double[n];
        for (int i = 0; i < n; i++) { d[i] = rng.Uniform(lo, hi); if (quantize) d[i] = Math.Round(d[i] * 2) / 2; }
        return d;
    }

    private static Storage On(IBackend b, double[] d, DType t) => t == DType.Float32 ? b.FromArray(d.Select(v => (float)v).ToArray()) : b.FromArray(d);

    private (Storage dev, Storage cpu) Both(double[] d, DType t) => (On(Backend, d, t), On(Ref, d, t));

    private static void Close(Storage expected, Storage actual, string what)
    {
        Assert.That(actual.DType, Is.EqualTo(expected.DType), what + ": dtype");
        var e = expected.Backend.ToDoubleArray(expected);
        var a = actual.Backend.ToDoubleArray(actual);
        Assert.That(a.Length, Is.EqualTo(e.Length), what + ": length");
        double tol = expected.DType == DType.Float32 ? 1e-5 : 1e-12;
        for (int i = 0; i < e.Length; i++)
        {
            if (double.IsNaN(e[i])) { Assert.That(double.IsNaN(a[i]), $"{what}[{i}]: expected NaN, got {a[i]}"); continue; }
            Assert.That(Math.Abs(a[i] - e[i]), Is.LessThanOrEqualTo(tol * Math.Max(1, Math.Abs(e[i]))), $"{what}[{i}]: {a[i]} vs cpu {e[i]}");
        }
    }

    // ------------------------------------------------------------ creation and transfer
    [Test]
    public void CreationTransferCastRandom()
    {
        foreach (var t in Types)
        {
            var d = Data(7, 1);
            var (g, c) = Both(d, t);
            Close(c, g, "FromArray");
            Assert.That(Backend.GetItem(g, 3), Is.EqualTo(Ref.GetItem(c, 3)));
            Close(Ref.Full(t, 5, 1.25), Backend.Full(t, 5, 1.25), "Full");
            Close(Ref.Allocate(t, 4), Backend.Allocate(t, 4), "Allocate zeros");
            var other = t == DType.Float32 ? DType.Float64 : DType.Float32;
            Close(Ref.Cast(c, other), Backend.Cast(g, other), "Cast");
            Close(Ref.Cast(c, t), Backend.Cast(g, t), "Cast same");
            Close(Ref.Uniform(t, 9, -1, 3, new Rng(5)), Backend.Uniform(t, 9, -1, 3, new Rng(5)), "Uniform");
            Close(Ref.Normal(t, 9, 1, 2, new Rng(6)), Backend.Normal(t, 9, 1, 2, new Rng(6)), "Normal");
            Assert.That(Backend.ToFloatArray(g), Is.EqualTo(Ref.ToFloatArray(c)));
            Assert.That(Backend.Allocate(t, 0).Length, Is.EqualTo(0));
        }
    }

    // ------------------------------------------------------------ elementwise
    [Test]
    public void UnaryAllOps()
    {
        foreach (var t in Types)
            foreach (UnaryOp op in Enum.GetValues<UnaryOp>())
            {
                bool positive = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Log1p or UnaryOp.PowScalar or UnaryOp.Reciprocal;
                var d = Data(11, 2, positive ? 0.1 : -2, 2);
                if (op == UnaryOp.Sign) d[0] = 0;
                var (g, c) = Both(d, t);
                double a = op switch { UnaryOp.PowScalar => 1.5, UnaryOp.RPowScalar => 2.5, UnaryOp.Clamp or UnaryOp.InRange => -0.5, _ => 0.7 };
                Close(Ref.Unary(op, c, a, 0.8), Backend.Unary(op, g, a, 0.8), $"{t} {op}");
            }
    }

    private static readonly (int[] a, int[] b)[] BroadcastCases =
    [
        ([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [4]), ([2, 1, 4], [3, 1]), ([1], [2, 3]), ([3, 1], [1, 5]), ([], [2, 2]), ([2, 3, 1], [2, 1, 5]),
    ];

    [Test]
    public void BinaryAllOpsBroadcasting()
    {
        foreach (var t in Types)
            foreach (var (sa, sb) in BroadcastCases)
            {
                Shape aS = sa, bS = sb, oS = Shape.Broadcast(aS, bS, "test");
                foreach (BinaryOp op in Enum.GetValues<BinaryOp>())
                {
                    var (ga, ca) = Both(Data(aS.Numel, 3, op == BinaryOp.Pow ? 0.1 : -2, 2, quantize: op != BinaryOp.Pow), t);
                    var (gb, cb) = Both(Data(bS.Numel, 4, -2, 2, quantize: op != BinaryOp.Pow), t);
                    Close(Ref.Binary(op, ca, aS, cb, bS, oS), Backend.Binary(op, ga, aS, gb, bS, oS), $"{t} {op} {aS}x{bS}");
                }
            }
    }

    [Test]
    public void WhereBroadcasting()
    {
        foreach (var t in Types)
        {
            Shape cS = new(3, 1), aS = new(1, 4), bS = new(3, 4), oS = new(3, 4);
            var (gc, cc) = Both([1, 0, 1], t);
            var (ga, ca) = Both(Data(4, 5), t);
            var (gb, cb) = Both(Data(12, 6), t);
            Close(Ref.Where(cc, cS, ca, aS, cb, bS, oS), Backend.Where(gc, cS, ga, aS, gb, bS, oS), $"{t} Where");
        }
    }

    // ------------------------------------------------------------ reductions
    [Test]
    public void ReduceEveryOpEveryAxis()
    {
        foreach (var t in Types)
        {
            Shape s = new(3, 4, 5);
            var d = Data(s.Numel, 7, quantize: true); // ties: the first index must win
            var (g, c) = Both(d, t);
            foreach (ReduceOp op in Enum.GetValues<ReduceOp>())
                for (int axis = 0; axis < 3; axis++)
                    Close(Ref.Reduce(op, c, s, axis), Backend.Reduce(op, g, s, axis), $"{t} {op} axis {axis}");
            var dn = Data(6, 8); dn[4] = double.NaN;
            var (gn, cn) = Both(dn, t);
            foreach (ReduceOp op in Enum.GetValues<ReduceOp>())
                Close(Ref.Reduce(op, cn, new Shape(2, 3), 1), Backend.Reduce(op, gn, new Shape(2, 3), 1), $"{t} {op} with NaN");
        }
    }

    [Test]
    public void SumToShape()
    {
        foreach (var t in Types)
        {
            Shape gS = new(2, 3, 4);
            var (g, c) = Both(Data(gS.Numel, 9), t);
            foreach (int[] target in new[] { new[] { 3, 1 }, new[] { 1 }, new[] { 2, 1, 4 }, new[] { 4 }, new[] { 2, 3, 4 } })
                Close(Ref.SumToShape(c, gS, target), Backend.SumToShape(g, gS, target), $"{t} SumToShape {gS}->[{string.Join(",", target)}]");
        }
    }

    // ------------------------------------------------------------ movement
    [Test]
    public void ExpandPermuteSlice()
    {
        foreach (var t in Types)
        {
            var (g, c) = Both(Data(6, 10), t);
            Close(Ref.Expand(c, new Shape(2, 1, 3), new Shape(2, 4, 3)), Backend.Expand(g, new Shape(2, 1, 3), new Shape(2, 4, 3)), "Expand middle");
            Close(Ref.Expand(c, new Shape(6), new Shape(2, 6)), Backend.Expand(g, new Shape(6), new Shape(2, 6)), "Expand lead");
            Shape s = new(2, 3, 4);
            var (g3, c3) = Both(Data(s.Numel, 11), t);
            foreach (int[] perm in new[] { new[] { 0, 2, 1 }, new[] { 2, 0, 1 }, new[] { 1, 2, 0 }, new[] { 2, 1, 0 } })
                Close(Ref.Permute(c3, s, perm), Backend.Permute(g3, s, perm), $"Permute {string.Join(",", perm)}");
            for (int axis = 0; axis < 3; axis++)
            {
                Close(Ref.Slice(c3, s, axis, 1, 1), Backend.Slice(g3, s, axis, 1, 1), $"Slice axis {axis}");
                var srcShape = s.With(axis, 1);
                var (gs, cs) = Both(Data(srcShape.Numel, 12 + axis), t);
                var (gd, cd) = Both(Data(s.Numel, 20 + axis), t);
                Ref.SliceAddInPlace(cd, s, axis, 1, cs, srcShape);
                Backend.SliceAddInPlace(gd, s, axis, 1, gs, srcShape);
                Close(cd, gd, $"SliceAdd axis {axis}");
            }
        }
    }

    [Test]
    public void GatherScatterAddRepeatedIndices()
    {
        foreach (var t in Types)
        {
            Shape xS = new(3, 4);
            var (g, c) = Both(Data(12, 13), t);
            int[] idx1 = [0, 0, 3, 1, 1, 1, 2, 2, 0]; Shape i1 = new(3, 3);   // along axis 1, repeats in each row
            int[] idx0 = [2, 2, 0, 1, 2, 2, 2, 2]; Shape i0 = new(2, 4);      // along axis 0
            Close(Ref.Gather(c, xS, 1, idx1, i1), Backend.Gather(g, xS, 1, idx1, i1), $"{t} Gather axis 1");
            Close(Ref.Gather(c, xS, 0, idx0, i0), Backend.Gather(g, xS, 0, idx0, i0), $"{t} Gather axis 0");
            var (s1, r1) = Both(Data(9, 14), t);
            var (s0, r0) = Both(Data(8, 15), t);
            Close(Ref.ScatterAdd(xS, t, 1, idx1, i1, r1), Backend.ScatterAdd(xS, t, 1, idx1, i1, s1), $"{t} ScatterAdd axis 1");
            Close(Ref.ScatterAdd(xS, t, 0, idx0, i0, r0), Backend.ScatterAdd(xS, t, 0, idx0, i0, s0), $"{t} ScatterAdd axis 0");
            // rank 3, the middle axis, an index longer than x along the axis and shorter off it (one thread per index line)
            Shape x3 = new(2, 3, 4), i3 = new(2, 5, 3);
            int[] idx3 = Enumerable.Range(0, i3.Numel).Select(j => (j * 7 + j / 5) % 3).ToArray();
            var (s3, r3) = Both(Data(i3.Numel, 16), t);
            Close(Ref.ScatterAdd(x3, t, 1, idx3, i3, r3), Backend.ScatterAdd(x3, t, 1, idx3, i3, s3), $"{t} ScatterAdd rank 3 axis 1");
            Assert.Throws<ArgumentOutOfRangeException>(() => Backend.Gather(g, xS, 1, [4, 0, 0], new Shape(3, 1)));
        }
    }

    // ------------------------------------------------------------ linear algebra
    [TestCase(5, 7, 3)]
    [TestCase(33, 17, 9)]
    [TestCase(1, 40, 34)]
    [TestCase(70, 37, 65)] // ragged against the 64x64 (4p x 4p) C tile and the TileK 16 k panels
    public void MatMulAllTransposes(int m, int k, int n)
    {
        foreach (var t in Types)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    const int batch = 2;
                    var (ga, ca) = Both(Data(batch * m * k, 16), t);
                    var (gb, cb) = Both(Data(k * n, 17), t); // strideB 0: B broadcast over the batch
                    string what = $"{t} {m}x{k}x{n} tA={ta} tB={tb}";
                    Close(Ref.MatMul(ca, cb, batch, m, k, n, ta, tb, m * k, 0), Backend.MatMul(ga, gb, batch, m, k, n, ta, tb, m * k, 0), what);
                    var (gc, cc) = Both(Data(batch * m * n, 18), t);
                    Ref.MatMulAddInPlace(cc, ca, cb, batch, m, k, n, ta, tb, m * k, 0, m * n);
                    Backend.MatMulAddInPlace(gc, ga, gb, batch, m, k, n, ta, tb, m * k, 0, m * n);
                    Close(cc, gc, what + " accumulate");
                }
    }

    // ------------------------------------------------------------ in place and fused
    [Test]
    public void InPlaceOps()
    {
        foreach (var t in Types)
        {
            var (gd, cd) = Both(Data(10, 19), t);
            var (gs, cs) = Both(Data(10, 20), t);
            Ref.AxpyInPlace(cd, cs, -0.3); Backend.AxpyInPlace(gd, gs, -0.3); Close(cd, gd, "Axpy");
            Ref.ScaleInPlace(cd, 1.7); Backend.ScaleInPlace(gd, 1.7); Close(cd, gd, "Scale");
            Ref.CopyInPlace(cd, cs); Backend.CopyInPlace(gd, gs); Close(cd, gd, "Copy");
            Ref.FillInPlace(cd, 0.25); Backend.FillInPlace(gd, 0.25); Close(cd, gd, "Fill");
            Assert.That(Backend.SumSquares(gs), Is.EqualTo(Ref.SumSquares(cs)).Within(1e-9));
            var (gl, cl) = Both(Data(300, 21), t);
            Assert.That(Backend.SumSquares(gl), Is.EqualTo(Ref.SumSquares(cl)).Within(1e-9), "SumSquares over chunks");
        }
    }

    [Test]
    public void LogSoftmaxAndLinear()
    {
        foreach (var t in Types)
        {
            int rows = 3, cols = 5;
            var (gx, cx) = Both(Data(rows * cols, 22, -4, 4), t);
            var cy = Ref.LogSoftmax(cx, rows, cols);
            var gy = Backend.LogSoftmax(gx, rows, cols);
            Close(cy, gy, $"{t} LogSoftmax");
            var (gg, cg) = Both(Data(rows * cols, 23), t);
            Close(Ref.LogSoftmaxBackward(cy, cg, rows, cols), Backend.LogSoftmaxBackward(gy, gg, rows, cols), $"{t} LogSoftmaxBackward");
            int inF = 7, outF = 3;
            var (gw, cw) = Both(Data(outF * inF, 24), t);
            var (gb, cb) = Both(Data(outF, 25), t);
            var (gi, ci) = Both(Data(rows * inF, 26), t);
            Close(Ref.Linear(ci, cw, cb, rows, inF, outF), Backend.Linear(gi, gw, gb, rows, inF, outF), $"{t} Linear+bias");
            Close(Ref.Linear(ci, cw, null, rows, inF, outF), Backend.Linear(gi, gw, null, rows, inF, outF), $"{t} Linear");
        }
    }

    // ------------------------------------------------------------ fused maps
    /// <summary>Counting pre-pass probe: x &lt;- (y + s0*a) * y, i.e. whether y + s0*a agrees with y in sign (NaN: no).</summary>
    public struct AgreeProbe<T> : IFusedMap<AgreeProbe<T>, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        public T A;
        public static void Apply<L>(in AgreeProbe<T> c, L r, ref L x, L y, ref L s0, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            x = (y + s0 * L.Splat(c.A)) * y;
            s0 = L.FromDouble(1e30);   // a write the pre-pass must discard
        }
    }

    /// <summary>The map after it: x &lt;- r (the count), s0 &lt;- s0 + 1.</summary>
    public struct WriteCount<T> : IFusedMap<WriteCount<T>, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        public static void Apply<L>(in WriteCount<T> c, L r, ref L x, L y, ref L s0, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            x = r;
            s0 += L.FromDouble(1);
        }
    }

    /// <summary>FusedMap with a counting pre-pass: r is the exact number of elements where the probe leaves x &gt; 0,
    /// the probe's writes are discarded; lengths around the SIMD widths and the device's 256-element chunks, zeros and NaN.</summary>
    [Test]
    public void FusedMapWithACountingPrePass()
    {
        foreach (var t in Types)
            foreach (int n in new[] { 1, 7, 17, 256, 300, 1000, 70_001 })
            {
                var y = Data(n, 31 + n); var s = Data(n, 32 + n);
                if (n > 5) { y[3] = 0; y[4] = double.NaN; s[5] = double.NaN; }
                double a = 0.5;
                if (t == DType.Float32) { y = y.Select(v => (double)(float)v).ToArray(); s = s.Select(v => (double)(float)v).ToArray(); }
                long expected = 0;
                for (int i = 0; i < n; i++)
                    expected += t == DType.Float32 ? (((float)y[i] + (float)s[i] * (float)a) * (float)y[i] > 0 ? 1 : 0) : ((y[i] + s[i] * a) * y[i] > 0 ? 1 : 0);
                var x = On(Backend, new double[n], t); var yy = On(Backend, y, t); var ss = On(Backend, s, t);
                if (t == DType.Float32) Backend.FusedMap<WriteCount<float>, AgreeProbe<float>, float>(default, new AgreeProbe<float> { A = 0.5f }, x, yy, [ss]);
                else Backend.FusedMap<WriteCount<double>, AgreeProbe<double>, double>(default, new AgreeProbe<double> { A = 0.5 }, x, yy, [ss]);
                var got = Backend.ToDoubleArray(x);
                Assert.That(got.Distinct(), Is.EqualTo(new[] { t == DType.Float32 ? (double)(float)expected : expected }), $"{Backend.Name} {t} n={n}: r = the count");
                if (n >= 256) Assert.That(expected, Is.InRange(n / 4, n - 2), $"{t} n={n}: a mixed count");
                var sAfter = Backend.ToDoubleArray(ss);
                for (int i = 0; i < n; i++)
                    Assert.That(sAfter[i], Is.EqualTo(t == DType.Float32 ? (float)(s[i] + 1) : s[i] + 1).Or.NaN, $"{t} n={n}: state {i} written once by the main map only");
            }
    }

    [Test]
    public void ForeignStorageIsAClearError()
    {
        if (Backend is CpuBackend) Assert.Ignore("cpu backend: no foreign storage to mix with here");
        var cpu = Ref.FromArray(new float[] { 1, 2 });
        var dev = Backend.FromArray(new float[] { 1, 2 });
        var ex = Assert.Throws<ArgumentException>(() => Backend.Binary(BinaryOp.Add, cpu, new Shape(2), dev, new Shape(2), new Shape(2)));
        Assert.That(ex!.Message, Does.Contain("cpu").And.Contain("To(device)"));
    }
}

public sealed class CpuBackendSuite : BackendSuite
{
    protected override IBackend Backend => CpuBackend.Instance;
}

/// <summary>ILGPU's CPU accelerator with CPUDevice.Default (the registered Device.IlgpuCpu).</summary>
public sealed class IlgpuCpuBackendSuite : BackendSuite
{
    protected override IBackend Backend => Device.IlgpuCpu.Backend;
}

/// <summary>ILGPU's CPU accelerator shaped like an NVIDIA GPU (warp 32, its group sizes).</summary>
public sealed class IlgpuCpuNvidiaBackendSuite : BackendSuite
{
    private static readonly Lazy<IlgpuBackend> Nvidia = new(() => IlgpuDevices.CreateCpuBackend(CPUDevice.Nvidia, "ilgpu-cpu-nvidia"));
    protected override IBackend Backend => Nvidia.Value;

    [Test]
    public void WarpIs32() => Assert.That(Nvidia.Value.Accelerator.WarpSize, Is.EqualTo(32));
}

public sealed class CudaBackendSuite : BackendSuite
{
    [OneTimeSetUp]
    public void NeedCuda()
    {
        if (!IlgpuDevices.ListDevices().Any(d => d.Kind == DeviceKind.Cuda)) Assert.Ignore($"no CUDA GPU: {IlgpuDevices.Found()}");
    }
    protected override IBackend Backend => Device.Cuda(0).Backend;
}

/// <summary>The first OpenCL device, GPU or CPU-type: in CI that is POCL's CPU driver (.ci/run installs pocl-opencl-icd),
/// so the OpenCL C code ILGPU generates is compiled and run by a real OpenCL driver on every run.</summary>
public sealed class OpenCLBackendSuite : BackendSuite
{
    [OneTimeSetUp]
    public void NeedOpenCL() => OpenCLDevice.Require();
    protected override IBackend Backend => Device.OpenCL(0).Backend;
}

/// <summary>The OpenCL device the OpenCL tests run on, or an Assert.Ignore saying why there is none.</summary>
/// <summary>A fixture run once per device name ([TestFixture("ilgpu-cpu")], [TestFixture("opencl")]); on OpenCL it is
/// ignored, saying why, where no OpenCL device exists.</summary>
public abstract class DeviceFixture(string device)
{
    protected Device Dev { get; } = Device.Parse(device);

    [OneTimeSetUp]
    public void NeedDevice() { if (Dev.Kind == DeviceKind.OpenCL) OpenCLDevice.Require(); }
}

public static class OpenCLDevice
{
    /// <summary>Ignores the calling test (or fixture) unless ILGPU sees an OpenCL device.</summary>
    public static void Require()
    {
        if (!IlgpuDevices.ListDevices().Any(d => d.Kind == DeviceKind.OpenCL))
            Assert.Ignore($"no OpenCL device: {IlgpuDevices.Found()} (install an OpenCL driver, e.g. apt-get install pocl-opencl-icd, as .ci/run does)");
    }
}
