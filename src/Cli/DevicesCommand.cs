// DevicesCommand: `tiny devices` lists the devices ILGPU finds (CUDA, OpenCL: GPUs, and CPU-type OpenCL drivers such
// as POCL) and what `--device auto` would pick.
using System.CommandLine;
using System.Globalization;
using Tiny.Gpu;

namespace Tiny.Cli;

/// <summary>`tiny devices`: the devices ILGPU finds.</summary>
public static class DevicesCommand
{
    /// <summary>Runs `tiny devices` in-process (args: after "devices"; none are taken); the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Program.Run(["devices", .. args], stdout, stderr);

    /// <summary>The `devices` command: no options.</summary>
    internal static Command Build()
    {
        var devices = new Command("devices", "the devices ILGPU finds");
        devices.Options.Add(CliParsing.Help((_, w) => w.WriteLine("usage: tiny devices   (the devices ILGPU finds: CUDA, OpenCL; what --device auto picks)")));
        devices.SetAction(r => List(r.InvocationConfiguration.Output));
        return devices;
    }

    private static int List(TextWriter stdout)
    {
        stdout.WriteLine("cpu        managed SIMD backend (always available)");
        IReadOnlyList<GpuDeviceInfo> gpus;
        try { gpus = IlgpuDevices.ListDevices(); }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or DllNotFoundException or TypeInitializationException)
        {
            stdout.WriteLine($"no GPU: ILGPU could not query devices ({e.Message})");
            return 0;
        }
        foreach (var g in gpus)
        {
            string cpuType = g.IsGpu ? "" : $" (a CPU-type OpenCL device, not a GPU: runs with --device opencl{(g.Index > 0 ? $":{g.Index}" : "")}, never picked by auto)";
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{g.Kind.ToString().ToLowerInvariant()}:{g.Index,-5} {g.Name}, {g.MemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, {g.Capability}, warp {(g.WarpSize > 0 ? g.WarpSize.ToString(CultureInfo.InvariantCulture) : "unknown until used")}{cpuType}"));
        }
        if (!gpus.Any(g => g.IsGpu)) stdout.WriteLine($"no GPU: {IlgpuDevices.Found()} (ILGPU's own CPU device is not a GPU)");
        stdout.WriteLine($"best: {IlgpuDevices.Best()}");
        return 0;
    }
}
