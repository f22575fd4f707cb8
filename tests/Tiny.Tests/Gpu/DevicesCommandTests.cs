// DevicesCommandTests: `tiny devices` works (and says so) on a machine without a GPU.
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
        if (Tiny.Gpu.IlgpuDevices.ListDevices().Count == 0)
            Assert.That(o.ToString(), Does.Contain("no GPU: found 0 CUDA, 0 OpenCL"));
    }

    [Test]
    public void RejectsArguments()
    {
        var o = new StringWriter(); var e = new StringWriter();
        Assert.That(Tiny.Cli.Program.Run(["devices", "--bogus"], o, e), Is.EqualTo(2));
        Assert.That(e.ToString(), Does.Contain("unexpected argument '--bogus'"));
    }
}
