// GpuDeviceTests: autograd through the ILGPU CPU device, device mixing errors, discovery, and offline PTX for sm_90.
using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using NUnit.Framework;
using Tiny.Gpu;
using Tiny.Nn;

namespace Tiny.Tests.Gpu;

public sealed class GpuDeviceTests
{
    [Test]
    public void MlpForwardBackwardOnIlgpuCpuEqualsCpu()
    {
        float[] x = new Rng(3).Let(r => Enumerable.Range(0, 12).Select(_ => (float)r.Uniform(-1, 1)).ToArray());
        float[] y = new Rng(4).Let(r => Enumerable.Range(0, 8).Select(_ => (float)r.Uniform(-1, 1)).ToArray());
        (float loss, List<float[]> grads) Run(Device d)
        {
            var model = Mlp.Create([3, 5, 2], () => new Tanh(), new Rng(7));
            model.To(d);
            var loss = F.MseLoss(model.Forward(Tensor.FromArray(x, [4, 3], d)), Tensor.FromArray(y, [4, 2], d));
            loss.Backward();
            return (loss.ToArray()[0], model.Parameters().Select(p => p.Grad!.ToArray()).ToList());
        }
        var cpu = Run(Device.Cpu);
        var gpu = Run(Device.IlgpuCpu);
        Assert.That(gpu.loss, Is.EqualTo(cpu.loss).Within(1e-5));
        for (int i = 0; i < cpu.grads.Count; i++)
            Assert.That(gpu.grads[i], Is.EqualTo(cpu.grads[i]).Within(1e-5), $"grad of parameter {i}");
    }

    [Test]
    public void MixingDevicesIsAClearError()
    {
        var a = Tensor.FromArray(new float[] { 1, 2 }, [2], Device.Cpu);
        var b = Tensor.FromArray(new float[] { 1, 2 }, [2], Device.IlgpuCpu);
        var ex = Assert.Catch<Exception>(() => _ = a + b);
        Assert.That(ex!.Message, Does.Contain("ilgpu-cpu").And.Contain("cpu"));
    }

    /// <summary>Listed: CUDA and OpenCL devices, never ILGPU's own CPU accelerator. auto takes only a GPU: a CPU-type
    /// OpenCL device (POCL in CI) is listed and usable by name but not picked.</summary>
    [Test]
    public void DiscoveryListsDevicesAndAutoPicksOnlyGpus()
    {
        var list = IlgpuDevices.ListDevices();
        Assert.That(list.All(d => d.Kind is DeviceKind.Cuda or DeviceKind.OpenCL));
        Assert.That(list.Where(d => d.Kind == DeviceKind.Cuda).All(d => d.IsGpu));
        var best = Device.Best();
        if (!list.Any(d => d.IsGpu)) Assert.That(best, Is.EqualTo(Device.Cpu));
        else Assert.That(list.Single(d => d.Kind == best.Kind && d.Index == best.Index).IsGpu, $"auto picked {best}, not a GPU");
        if (list.All(d => d.Kind != DeviceKind.Cuda))
        {
            var ex = Assert.Throws<InvalidOperationException>(() => _ = Device.Cuda(0).Backend);
            Assert.That(ex!.Message, Does.Contain("no CUDA device").And.Contain("found 0 CUDA"));
        }
        foreach (var cpuType in list.Where(d => !d.IsGpu))
            Assert.That(Device.Resolve($"opencl:{cpuType.Index}"), Is.EqualTo(Device.OpenCL(cpuType.Index)), "a CPU-type OpenCL device is usable by name");
    }

    /// <summary>Every kernel compiles to PTX for sm_90 without a GPU or driver, with no unresolved .extern .func: each
    /// kernel of Kernels closed over (float, GpuLaneF) and (double, GpuLaneD), and the fused-map kernels closed over every
    /// map in Tiny.Optim and Tiny.Rl (the counting pre-pass over the maps used as counts).</summary>
    [Test]
    public void EveryKernelCompilesToPtxForSm90()
    {
        using var context = Context.Create(b => b.Default().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_78, null!);
        (Type T, Type L)[] types = [(typeof(float), typeof(GpuLaneF)), (typeof(double), typeof(GpuLaneD))];
        var kernels = new List<MethodInfo>();
        foreach (var m in typeof(Kernels).GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.ReturnType == typeof(void)))
        {
            if (!m.IsGenericMethodDefinition) kernels.Add(m);
            else foreach (var (t, l) in types) kernels.Add(m.GetGenericArguments().Length == 1 ? m.MakeGenericMethod(t) : m.MakeGenericMethod(t, l));
        }
        Assert.That(kernels, Has.Count.GreaterThanOrEqualTo(43));
        // The fused-map kernel and its counting pre-pass, closed over every map (every optimizer, the agents' Polyak update).
        var maps = new[] { typeof(Tiny.Optim.Optimizer).Assembly, typeof(Tiny.Rl.OffPolicy).Assembly }.SelectMany(a => a.GetTypes())
            .Where(t => t.IsGenericTypeDefinition && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IFusedMap<,>)))
            .ToList();
        Assert.That(maps.Select(t => t.DeclaringType!.Name), Is.SupersetOf(new[] { "Sgd", "Adam", "AdaBound", "AlphaGrad", "OffPolicy" }));
        foreach (var map in maps.Append(typeof(BackendSuite.AgreeProbe<>)))
            foreach (var (t, l) in types)
            {
                kernels.Add(typeof(FusedKernels).GetMethod(nameof(FusedKernels.Map))!.MakeGenericMethod(map.MakeGenericType(t), t, l));
                if (map == typeof(BackendSuite.AgreeProbe<>) || map == typeof(Tiny.Optim.InternalsProbe.Condition<>)) kernels.Add(typeof(FusedKernels).GetMethod(nameof(FusedKernels.Count))!.MakeGenericMethod(map.MakeGenericType(t), t, l));
            }
        var failures = new List<string>();
        foreach (var m in kernels)
        {
            var entry = m.GetParameters()[0].ParameterType == typeof(Index1D)
                ? EntryPointDescription.FromImplicitlyGroupedKernel(m)
                : EntryPointDescription.FromExplicitlyGroupedKernel(m);
            try
            {
                var compiled = (PTXCompiledKernel)backend.Compile(entry, default);
                if (compiled.PTXAssembly.Contains(".extern .func")) failures.Add($"{Describe(m)}: unresolved .extern .func");
                // ILGPU 1.5.3 asked for SM_90 emits ".version 7.8 / .target sm_80": PTX the driver JIT-compiles for sm_90.
                if (!compiled.PTXAssembly.Contains(".version 7.8") || !compiled.PTXAssembly.Contains(".target sm_")) failures.Add($"{Describe(m)}: unexpected PTX header");
                if (!compiled.PTXAssembly.Contains(".entry")) failures.Add($"{Describe(m)}: no .entry");
            }
            catch (Exception e)
            {
                failures.Add($"{Describe(m)}: {e.GetType().Name}: {e.Message}");
                backend.ClearCache(ClearCacheMode.Everything);
            }
        }
        Assert.That(failures, Is.Empty);
    }

    private static string Describe(MethodInfo m) => m.IsGenericMethod
        ? $"{m.DeclaringType!.Name}.{m.Name}<{string.Join(", ", m.GetGenericArguments().Select(a => a.IsGenericType ? $"{a.DeclaringType?.Name}.{a.Name}<{a.GetGenericArguments()[0].Name}>" : a.Name))}>"
        : $"{m.DeclaringType!.Name}.{m.Name}";
}

internal static class LetExtension
{
    public static TR Let<T, TR>(this T v, Func<T, TR> f) => f(v);
}
