// IlgpuDevices: the one shared ILGPU Context, device discovery, and the backend factories behind Device.Backend.
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace Tiny.Gpu;

/// <summary>What ILGPU found: one row per accelerator. IsGpu is false for a CPU-type OpenCL device (e.g. POCL): usable
/// as an explicit opencl:i, never picked by auto.</summary>
public sealed record GpuDeviceInfo(string Name, DeviceKind Kind, int Index, long MemoryBytes, string Capability, int WarpSize, bool IsGpu = true);

/// <summary>One shared ILGPU context; registers ILGPU backends for CUDA, OpenCL and ILGPU's CPU accelerator.</summary>
public static class IlgpuDevices
{
    // OpenCL devices: ILGPU's default filter, plus POCL's CPU driver (see Pocl).
    private static readonly Lazy<Context> SharedContext = new(() =>
    {
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += ResolveOpenCL;
        return Context.Create(b => b.DefaultCPU().Cuda().OpenCL(Pocl.Usable)
            .EnableAlgorithms().CPU(CPUDevice.Default).Math(MathMode.Default));
    });

    // ILGPU imports "OpenCL", for which .NET probes libOpenCL.so: only the -dev package (ocl-icd-opencl-dev) has that
    // name; the ICD loader that drivers depend on ships libOpenCL.so.1. Called only when .NET's own probing failed.
    private static IntPtr ResolveOpenCL(Assembly assembly, string name) =>
        OperatingSystem.IsLinux() && name == "OpenCL" && assembly == typeof(Context).Assembly
        && NativeLibrary.TryLoad("libOpenCL.so.1", out var handle) ? handle : IntPtr.Zero;
    private static int _registered;

    /// <summary>The shared ILGPU context (one per process).</summary>
    public static Context Context => SharedContext.Value;

    /// <summary>Registers the factories for Cuda, OpenCL and IlgpuCpu with <see cref="Device.RegisterBackend"/> (idempotent).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        Device.RegisterBackend(DeviceKind.Cuda, i => CreateGpu(DeviceKind.Cuda, i));
        Device.RegisterBackend(DeviceKind.OpenCL, i => CreateGpu(DeviceKind.OpenCL, i));
        Device.RegisterBackend(DeviceKind.IlgpuCpu, _ => CreateCpu(CPUDevice.Default, Device.IlgpuCpu, "ilgpu-cpu"));
    }

    /// <summary>A fresh backend on an ILGPU CPU accelerator emulating another device's launch shape
    /// (e.g. <see cref="CPUDevice.Nvidia"/>: warp 32), for tests. Not registered with Device; dispose it after use.</summary>
    public static IlgpuBackend CreateCpuBackend(CPUDevice device, string name) => CreateCpu(device, Device.IlgpuCpu, name);

    private static IlgpuBackend CreateCpu(CPUDevice device, Device tinyDevice, string name) =>
        new(device.CreateCPUAccelerator(Context), tinyDevice, name);

    private static IlgpuBackend CreateGpu(DeviceKind kind, int index)
    {
        var list = new List<ILGPU.Runtime.Device>();
        if (kind == DeviceKind.Cuda) foreach (var d in Context.GetCudaDevices()) list.Add(d);
        else foreach (var d in Context.GetCLDevices()) list.Add(d);
        if (index < 0 || index >= list.Count)
            throw new InvalidOperationException($"no {(kind == DeviceKind.Cuda ? "CUDA" : "OpenCL")} device {index}: {Found()}");
        var acc = list[index] is CLDevice cl ? Pocl.CreateAccelerator(cl, Context) : list[index].CreateAccelerator(Context);
        return new IlgpuBackend(acc, new Device(kind, index), $"{kind.ToString().ToLowerInvariant()}:{index}");
    }

    /// <summary>"found N CUDA, M OpenCL; ILGPU CPU accelerator only" style summary for messages.</summary>
    public static string Found()
    {
        int cuda = Context.GetCudaDevices().Count, cl = Context.GetCLDevices().Count;
        return $"found {cuda} CUDA, {cl} OpenCL" + (cuda + cl == 0 ? "; ILGPU CPU accelerator only" : "");
    }

    /// <summary>Throws InvalidOperationException unless ILGPU sees the CUDA or OpenCL device d.</summary>
    public static void Require(Device d)
    {
        string kind = d.Kind == DeviceKind.Cuda ? "CUDA" : "OpenCL";
        IReadOnlyList<GpuDeviceInfo> all;
        try { all = ListDevices(); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException($"no {kind} device found: ILGPU could not query devices ({e.Message.ReplaceLineEndings(" ")})", e);
        }
        int count = all.Count(g => g.Kind == d.Kind);
        if (d.Index < count) return;
        int cuda = all.Count(g => g.Kind == DeviceKind.Cuda), cl = all.Count - cuda;
        string sees = $"{cuda} CUDA, {cl} OpenCL devices" + (all.Count == 0 ? " (only its own CPU accelerator, which is not a GPU)"
            : ": " + string.Join(", ", all.Select(g => $"{g.Kind.ToString().ToLowerInvariant()}:{g.Index} {g.Name}{(g.IsGpu ? "" : " (CPU-type)")}")));
        throw new InvalidOperationException(count == 0
            ? $"no {kind} device found; ILGPU sees: {sees}"
            : $"no {kind} device {d.Index} (there are {count}); ILGPU sees: {sees}");
    }

    /// <summary>CUDA and OpenCL devices (ILGPU's own CPU device is not listed; a CPU-type OpenCL device is, with IsGpu false).</summary>
    public static IReadOnlyList<GpuDeviceInfo> ListDevices()
    {
        var r = new List<GpuDeviceInfo>();
        int i = 0;
        foreach (var d in Context.GetCudaDevices())
            r.Add(new GpuDeviceInfo(d.Name, DeviceKind.Cuda, i++, d.MemorySize, $"sm_{d.Architecture?.Major}{d.Architecture?.Minor}", d.WarpSize));
        i = 0;
        foreach (var d in Context.GetCLDevices())
            r.Add(new GpuDeviceInfo(d.Name, DeviceKind.OpenCL, i++, d.MemorySize, d.CVersion.ToString(), d.WarpSize, IsGpu(d)));
        return r;
    }

    private static bool IsGpu(CLDevice d) => (d.DeviceType & CLDeviceType.CL_DEVICE_TYPE_GPU) != 0;

    /// <summary>The best device: CUDA, then a GPU-type OpenCL device, then <see cref="Device.Cpu"/>. A CPU-type OpenCL
    /// device (POCL) is no faster than our own CPU backend, so auto never picks it.</summary>
    public static Device Best()
    {
        Register();
        if (Context.GetCudaDevices().Count > 0) return Device.Cuda(0);
        var cl = Context.GetCLDevices();
        for (int i = 0; i < cl.Count; i++)
            if (IsGpu(cl[i])) return Device.OpenCL(i);
        return Device.Cpu;
    }
}
