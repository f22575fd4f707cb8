// DevicesCommandTests: `tiny devices` works (and says so) on a machine without a GPU, with or without a CPU-type
// OpenCL driver (POCL).
using NUnit.Framework;

namespace Tiny.Tests.Gpu;

public sealed class DevicesCommandTests
{
    [Test]
    public void ListsCpuAndNamesWhatWasFound()
    {
        var o = new StringWriter(); var e = new StringWriter();
        int rc = Tiny.Cli.Program.Run(["devices"], o, e);
        Assert.That(rc, Is.EqualTo(0), e.ToString());
        Assert.That(o.ToString(), Does.Contain("cpu"));
        Assert.That(o.ToString(), Does.Contain("best: "));
        var list = Tiny.Gpu.IlgpuDevices.ListDevices();
        foreach (var d in list) Assert.That(o.ToString(), Does.Contain($"{d.Kind.ToString().ToLowerInvariant()}:{d.Index,-5} {d.Name}"));
        foreach (var d in list.Where(d => !d.IsGpu)) Assert.That(o.ToString(), Does.Contain("a CPU-type OpenCL device, not a GPU"));
        if (!list.Any(d => d.IsGpu))
            Assert.That(o.ToString(), Does.Contain($"no GPU: found 0 CUDA, {list.Count} OpenCL").And.Contain("best: cpu"));
    }

    [Test]
    public void RejectsArguments()
    {
        var o = new StringWriter(); var e = new StringWriter();
        Assert.That(Tiny.Cli.Program.Run(["devices", "--bogus"], o, e), Is.EqualTo(2));
        Assert.That(e.ToString(), Does.Contain("unknown option '--bogus'"));
    }
}
