// DeviceOption: the --device flag of train and eval: a name made into a started Device, or one line of error.
namespace Tiny.Cli;

internal static class DeviceOption
{
    /// <summary>The values --device takes.</summary>
    public const string Values = "auto|cpu|cuda[:i]|opencl[:i]|ilgpu-cpu";

    /// <summary>The agents whose networks and updates can run off the CPU.</summary>
    public static bool Supports(string algo) => algo is "ppo" or "dqn" or "td3";

    /// <summary>The device for an agent, its backend started (ppo, dqn and td3 all run their networks there; an agent
    /// that cannot is told to use cpu). A missing GPU or a bad name is an ArgumentException of one line.</summary>
    public static Device Resolve(string text, string algo)
    {
        if (!Supports(algo))
        {
            string t = text.Trim().ToLowerInvariant();
            if (t is "auto" or "cpu") return Device.Cpu;
            throw new ArgumentException($"--device {text}: {algo} runs on the cpu only; use --device cpu");
        }
        try
        {
            var d = Device.Resolve(text);
            _ = d.Backend;   // start it now: a driver that fails is this flag's error, not a crash mid-run
            return d;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ArgumentException($"--device {text}: {e.Message.ReplaceLineEndings(" ")}");
        }
    }
}
