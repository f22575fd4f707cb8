// BackendSuite: every IBackend primitive as its own test case (a row per op and dtype, and per shape where shapes
// matter), run on each backend and held to a scalar reference written here in plain loops, in double on the inputs
// rounded to the dtype. The CPU backend is checked against the same references as every device.
using ILGPU.Runtime.CPU;
using NUnit.Framework;
using Tiny.Cpu;
using Tiny.Gpu;

namespace Tiny.Tests.Gpu;

/// <summary>One row of the suite: what the backend computes and what the scalar reference says it should.</summary>
public sealed class OpCase(string name, DType type, Func<IBackend, double[]> run, Func<double[]> reference, double tolerance)
{
    /// <summary>The op's name and its case, as the row's name.</summary>
    public string Name { get; } = name;
    /// <summary>The element type the op runs on.</summary>
    public DType Type { get; } = type;
    /// <summary>Runs the op on a backend from the row's fixed inputs; returns the result as doubles.</summary>
    public Func<IBackend, double[]> Run { get; } = run;
    /// <summary>The scalar reference result.</summary>
    public Func<double[]> Reference { get; } = reference;
    /// <summary>Relative tolerance (to max(1, |expected|)).</summary>
    public double Tolerance { get; } = tolerance;
    /// <inheritdoc/>
    public override string ToString() => Name;
}

public abstract class BackendSuite
{
    /// <summary>The backend under test.</summary>
    protected abstract IBackend Backend { get; }

    /// <summary>One op on one dtype: the backend's result equals the scalar reference (NaN where it has NaN).</summary>
    [TestCaseSource(typeof(BackendOps), nameof(BackendOps.Rows))]
    public void Op(OpCase c)
    {
        var expected = c.Reference();
        var actual = c.Run(Backend);
        Assert.That(actual, Has.Length.EqualTo(expected.Length), $"{Backend.Name} {c.Name}: length");
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsNaN(expected[i])) { Assert.That(actual[i], Is.NaN, $"{Backend.Name} {c.Name}[{i}]"); continue; }
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(c.Tolerance * Math.Max(1, Math.Abs(expected[i]))), $"{Backend.Name} {c.Name}[{i}]");
        }
    }

    /// <summary>FusedMap with a counting pre-pass: r is the exact number of elements where the probe leaves x &gt; 0, the
    /// probe's writes are discarded; lengths around the SIMD widths and the device's 256-element chunks, zeros and NaN.</summary>
    [TestCase(DType.Float32, 1), TestCase(DType.Float32, 17), TestCase(DType.Float32, 256), TestCase(DType.Float32, 300), TestCase(DType.Float32, 70_001)]
    [TestCase(DType.Float64, 1), TestCase(DType.Float64, 7), TestCase(DType.Float64, 256), TestCase(DType.Float64, 1000), TestCase(DType.Float64, 70_001)]
    public void FusedMapWithACountingPrePass(DType t, int n)
    {
        var y = BackendOps.Data(n, 31 + n, t); var s = BackendOps.Data(n, 32 + n, t);
        if (n > 5) { y[3] = 0; y[4] = double.NaN; s[5] = double.NaN; }
        long expected = 0;
        for (int i = 0; i < n; i++)
            expected += t == DType.Float32 ? (((float)y[i] + (float)s[i] * 0.5f) * (float)y[i] > 0 ? 1 : 0) : ((y[i] + s[i] * 0.5) * y[i] > 0 ? 1 : 0);
        var x = BackendOps.On(Backend, new double[n], t); var yy = BackendOps.On(Backend, y, t); var ss = BackendOps.On(Backend, s, t);
        if (t == DType.Float32) Backend.FusedMap<WriteCount<float>, AgreeProbe<float>, float>(default, new AgreeProbe<float> { A = 0.5f }, x, yy, [ss]);
        else Backend.FusedMap<WriteCount<double>, AgreeProbe<double>, double>(default, new AgreeProbe<double> { A = 0.5 }, x, yy, [ss]);
        Assert.That(Backend.ToDoubleArray(x).Distinct(), Is.EqualTo(new[] { t == DType.Float32 ? (double)(float)expected : expected }), $"{Backend.Name} n={n}: r = the count");
        if (n >= 256) Assert.That(expected, Is.InRange(n / 4, n - 2), $"n={n}: a mixed count");
        var sAfter = Backend.ToDoubleArray(ss);
        for (int i = 0; i < n; i++)
            Assert.That(sAfter[i], Is.EqualTo(t == DType.Float32 ? (float)(s[i] + 1) : s[i] + 1).Or.NaN, $"n={n}: state {i} written once by the main map only");
    }

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

    [Test]
    public void BadArgumentsAreClearErrors()
    {
        var dev = Backend.FromArray(new float[] { 1, 2 });
        Assert.Throws<ArgumentOutOfRangeException>(() => Backend.Gather(dev, new Shape(2), 0, [2], new Shape(1)));
        Assert.That(Assert.Throws<ArgumentException>(() => Backend.CopyToHost(dev, new double[2]))!.Message, Does.Contain("float32"));
        Assert.That(Assert.Throws<ArgumentException>(() => Backend.CopyFromHost(dev, new float[3]))!.Message, Does.Contain("3"));
        if (Backend is CpuBackend) return;   // no foreign storage to mix with below
        var cpu = CpuBackend.Instance.FromArray(new float[] { 1, 2 });
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

/// <summary>A fixture run once per device name ([TestFixture("ilgpu-cpu")], [TestFixture("opencl")]); on OpenCL it is
/// ignored, saying why, where no OpenCL device exists.</summary>
public abstract class DeviceFixture(string device)
{
    protected Device Dev { get; } = Device.Parse(device);

    [OneTimeSetUp]
    public void NeedDevice() { if (Dev.Kind == DeviceKind.OpenCL) OpenCLDevice.Require(); }
}

/// <summary>The OpenCL device the OpenCL tests run on, or an Assert.Ignore saying why there is none.</summary>
public static class OpenCLDevice
{
    /// <summary>Ignores the calling test (or fixture) unless ILGPU sees an OpenCL device.</summary>
    public static void Require()
    {
        if (!IlgpuDevices.ListDevices().Any(d => d.Kind == DeviceKind.OpenCL))
            Assert.Ignore($"no OpenCL device: {IlgpuDevices.Found()} (install an OpenCL driver, e.g. apt-get install pocl-opencl-icd, as .ci/run does)");
    }
}
