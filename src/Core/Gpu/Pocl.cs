// Pocl: what ILGPU 1.5.3 needs to run Tiny's kernels on POCL, the CPU OpenCL driver (Debian: pocl-opencl-icd) that CI
// tests the OpenCL path on.
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.OpenCL;

namespace Tiny.Gpu;

/// <summary>
/// POCL 3 reports no generic address space (CL_DEVICE_GENERIC_ADDRESS_SPACE_SUPPORT: false). ILGPU 1.5.3 then neither
/// lists the device nor creates an accelerator on it, and the OpenCL C it emits (an ArrayView held in a struct is a
/// `__generic T*`) fails POCL's compile under -cl-std=CL3.0. Tiny's kernels take only global ArrayViews (MatMul's
/// shared panels are emitted as `local` arrays, not reached through generic pointers), so every generic pointer ILGPU
/// emits for them holds a global address, and we tell POCL's compiler exactly that: -D__generic=__global, through
/// POCL_EXTRA_BUILD_FLAGS (ILGPU passes only -cl-std, and POCL refuses -cl-ext). Should a generic pointer ever hold a
/// local or private address, clang rejects the cast ("changes address space of pointer"): a kernel that fails to
/// compile, loudly, never one that runs wrong. Other OpenCL devices without generic address space are not listed.
/// </summary>
internal static partial class Pocl
{
    public const string PlatformName = "Portable Computing Language";
    private const string FlagsVariable = "POCL_EXTRA_BUILD_FLAGS", GenericIsGlobal = "-D__generic=__global";

    /// <summary>True for a device of POCL's platform.</summary>
    public static bool Is(CLDevice d) => d.PlatformName.Contains(PlatformName, StringComparison.Ordinal);

    /// <summary>Whether Tiny can run ILGPU's OpenCL C on d: ILGPU's own test (OpenCL C 2.0+ and generic address space),
    /// or a POCL device on Linux, where <see cref="CreateAccelerator"/> makes up for the missing generic address space.</summary>
    public static bool Usable(CLDevice d) =>
        d.CLStdVersion >= ILGPU.Backends.OpenCL.CLBackend.MinimumVersion && (d.Capabilities.GenericAddressSpace || Is(d) && OperatingSystem.IsLinux());

    /// <summary>An accelerator on d; for a POCL device without generic address space, with the workaround above.</summary>
    public static Accelerator CreateAccelerator(CLDevice d, Context context)
    {
        if (!d.Capabilities.GenericAddressSpace && Is(d))
        {
            string flags = Environment.GetEnvironmentVariable(FlagsVariable) ?? "";
            if (!flags.Contains(GenericIsGlobal, StringComparison.Ordinal))
            {
                flags = (flags + " " + GenericIsGlobal).Trim();
                // POCL reads the variable with getenv: Environment.SetEnvironmentVariable does not reach that on Unix.
                if (SetEnv(FlagsVariable, flags, 1) != 0) throw new InvalidOperationException($"OpenCL device '{d.Name}' (POCL): could not set {FlagsVariable}");
                Environment.SetEnvironmentVariable(FlagsVariable, flags);
            }
            // ILGPU 1.5.3 offers no public switch past its constructor's generic-address-space check.
            var setter = typeof(CLCapabilityContext).GetProperty(nameof(CLCapabilityContext.GenericAddressSpace))?.GetSetMethod(nonPublic: true)
                ?? throw new InvalidOperationException($"OpenCL device '{d.Name}' (POCL) lacks generic address space, and this ILGPU version offers no way around it");
            setter.Invoke(d.Capabilities, [true]);
        }
        return d.CreateCLAccelerator(context);
    }

    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
