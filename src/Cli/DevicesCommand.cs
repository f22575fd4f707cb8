// DevicesCommand: `tiny devices` lists the devices ILGPU finds (CUDA, OpenCL: GPUs, and CPU-type OpenCL drivers such
// as POCL) and what `--device auto` would pick.
using System.Globalization;
using Tiny.Gpu;

namespace Tiny.Cli;

public static class DevicesCommand
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length > 0)
        {
            stderr.WriteLine($"tiny devices: error: unexpected argument '{args[0]}' (usage: tiny devices)");
            return 2;
        }
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
