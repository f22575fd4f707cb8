// Device: where a tensor's storage lives, and the one place a device picks its backend.
namespace Tiny;

/// <summary>Kinds of compute device.</summary>
public enum DeviceKind
{
    /// <summary>The managed SIMD CPU backend (Tiny.Cpu.CpuBackend).</summary>
    Cpu,
    /// <summary>An NVIDIA GPU through ILGPU's CUDA accelerator.</summary>
    Cuda,
    /// <summary>An OpenCL device (GPU, or a CPU driver such as POCL) through ILGPU's OpenCL accelerator.</summary>
    OpenCL,
    /// <summary>ILGPU's CPU accelerator, which runs the GPU kernels on the CPU (for tests without a GPU).</summary>
    IlgpuCpu,
}

/// <summary>A compute device. <see cref="Cpu"/> is the SIMD CPU backend.</summary>
public sealed record Device(DeviceKind Kind, int Index = 0)
{
    private static readonly Dictionary<DeviceKind, Func<int, IBackend>> Factories = new();
    private static readonly Dictionary<Device, IBackend> Cache = new();
    private static readonly object Gate = new();

    /// <summary>The CPU (SIMD, managed) device.</summary>
    public static readonly Device Cpu = new(DeviceKind.Cpu);

    /// <summary>CUDA GPU number i (needs an ILGPU backend registered).</summary>
    public static Device Cuda(int index = 0) => new(DeviceKind.Cuda, index);

    /// <summary>OpenCL GPU number i (needs an ILGPU backend registered).</summary>
    public static Device OpenCL(int index = 0) => new(DeviceKind.OpenCL, index);

    /// <summary>ILGPU's CPU accelerator (for testing GPU kernels without a GPU).</summary>
    public static Device IlgpuCpu => new(DeviceKind.IlgpuCpu);

    /// <summary>The best device present: CUDA, then OpenCL, then the CPU.</summary>
    public static Device Best() => global::Tiny.Gpu.IlgpuDevices.Best();

    /// <summary>Lets a backend package register how to create its backend for a kind of device.</summary>
    public static void RegisterBackend(DeviceKind kind, Func<int, IBackend> factory)
    {
        lock (Gate) Factories[kind] = factory;
    }

    /// <summary>The backend that owns storage on this device (created once, cached).</summary>
    public IBackend Backend
    {
        get
        {
            if (Kind == DeviceKind.Cpu) return global::Tiny.Cpu.CpuBackend.Instance;
            lock (Gate)
            {
                if (Cache.TryGetValue(this, out var b)) return b;
                if (!Factories.ContainsKey(Kind)) global::Tiny.Gpu.IlgpuDevices.Register();
                if (!Factories.TryGetValue(Kind, out var f))
                    throw new InvalidOperationException($"Device {this}: no backend registered for {Kind} (reference Tiny's ILGPU backend and call its Register method)");
                b = f(Index);
                Cache[this] = b;
                return b;
            }
        }
    }

    /// <summary>
    /// A --device value made real: "auto" (the best GPU, else the CPU), "cpu", "cuda[:i]", "opencl[:i]", "ilgpu-cpu".
    /// A GPU that is not there throws InvalidOperationException saying what ILGPU sees ("no CUDA device found; ILGPU
    /// sees: 0 CUDA, 0 OpenCL ..."); an unknown name throws ArgumentException.
    /// </summary>
    public static Device Resolve(string text)
    {
        if (text.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase)) return Best();
        var d = Parse(text);
        if (d.Kind is DeviceKind.Cuda or DeviceKind.OpenCL) global::Tiny.Gpu.IlgpuDevices.Require(d);
        return d;
    }

    /// <summary>Parses "cpu", "cuda", "cuda:1", "opencl", "opencl:0", "ilgpu-cpu".</summary>
    public static Device Parse(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        int idx = 0;
        int colon = t.IndexOf(':');
        if (colon >= 0)
        {
            if (!int.TryParse(t[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out idx))
                throw new ArgumentException($"unknown device '{text}': bad index");
            t = t[..colon];
        }
        return t switch
        {
            "cpu" => Cpu,
            "cuda" => Cuda(idx),
            "opencl" => OpenCL(idx),
            "ilgpu-cpu" or "ilgpucpu" => IlgpuCpu,
            _ => throw new ArgumentException($"unknown device '{text}' (known: auto, cpu, cuda[:i], opencl[:i], ilgpu-cpu)"),
        };
    }

    /// <summary>The --device spelling of this device: cpu, ilgpu-cpu, cuda:i or opencl:i.</summary>
    public override string ToString() => Kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.IlgpuCpu => "ilgpu-cpu",
        _ => $"{Kind.ToString().ToLowerInvariant()}:{Index}",
    };
}
